"""One look for every pyqtgraph plot in the app (imported only when the first plot is built)."""

from __future__ import annotations


def configure_pyqtgraph() -> None:
    """White background, dark text, anti-aliased lines."""
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True, background="w", foreground="#333")
