"""One look for every chart (pyqtgraph, imported only when the first chart is built, after the
window has painted): anti-aliased lines, theme background and text, readable ticks."""

from __future__ import annotations

from typing import Any

from kpgui.ui import theme


def pyqtgraph() -> Any:
    """The pyqtgraph module, configured once."""
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True)
    return pg


def style_plot(widget: Any, title: str | None = None) -> None:
    """Theme colours on a PlotWidget's background, axes and title (call again on palette change)."""
    widget.setBackground(theme.chart_background())
    fg = theme.chart_foreground()
    item = widget.getPlotItem()
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        axis.setPen(fg)
        axis.setTextPen(fg)
    if title is not None:
        item.setTitle(title, color=fg.name(), size="10pt")
