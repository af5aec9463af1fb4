"""Insight panels: run history, evaluation, saliency, first-layer weights, the person's own
samples and fine-tuning. `install(main_window)` plugs them all into the main window."""

from kpgui.ui.insight.plug import Insight, install, open_store

__all__ = ["Insight", "install", "open_store"]
