"""Controllers: each has one job, changes the app state (kpgui.core.state) and does the work
views ask for, in the background when it is slow (kpgui.ui.tasks)."""
