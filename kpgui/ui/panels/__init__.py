"""Panels: ordinary widgets that show the app state (kpgui.core.state) and forward what the
person asks for as signals (intents). They never look each other up; the composition root
(kpgui.ui.app) builds them and connects their intents to the controllers."""
