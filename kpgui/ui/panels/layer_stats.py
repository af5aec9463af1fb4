"""Inside the training run: three small plots of every Dense layer's numbers, live, under the loss
and accuracy plots — gradient norm (log), update/weight ratio (log) and the share of dead ReLU
units (%), one curve per layer, measured on a fixed probe batch by the training process
(kpgui.core.model.layerstats says exactly what each number is).

Layers are told apart by line style (solid, dashed, dotted, …), the same in every run; the live
run's layers also by colour. A past run ticked in History (or a finished run of a sweep) is drawn
in its own colour with the same styles, so runs compare layer by layer. One line under the plots
says what they show (or, for a preset such as "Dying ReLUs vs healthy", what to look for).

Like TrainingPlots: points are only stored when they arrive; a single-shot timer redraws.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kpgui.core.model.layerstats import QUANTITIES, TITLES, LayerHistory
from kpgui.core.state import AppState
from kpgui.core.training.sweep import preset_note
from kpgui.ui import theme
from kpgui.ui.charts import pyqtgraph, style_plot
from kpgui.ui.panels.training_plots import REDRAW_MS

if TYPE_CHECKING:
    from pyqtgraph import PlotDataItem, PlotWidget

pg = pyqtgraph()

LAYER_COLOURS = ["#1f6fd1", "#e06a10", "#2a9d4b", "#9b59b6", "#c0392b", "#7f8c8d"]
STYLES = [
    Qt.PenStyle.SolidLine,
    Qt.PenStyle.DashLine,
    Qt.PenStyle.DotLine,
    Qt.PenStyle.DashDotLine,
    Qt.PenStyle.DashDotDotLine,
]
STYLE_MARKS = ["━━", "╍╍", "┉┉", "━┅", "━┉"]  # how each style looks in the legend
FLOOR = 1e-10  # a log plot cannot show 0: a zero gradient (dead layer) is drawn here
LOG = {"grad_norm": True, "update_ratio": True, "dead": False}
DEFAULT_NOTE = (
    "Each layer on 256 fixed training images: gradient size, weight change per batch "
    "(healthy ≈ 1e-3), and ReLUs silent on all of them (dead: they stop learning)."
)


def _plot(quantity: str) -> PlotWidget:
    w = pg.PlotWidget()
    item = w.getPlotItem()  # no axis labels: the title says what, the plots above say "epoch"
    item.showGrid(x=True, y=True, alpha=0.2)
    item.setLogMode(y=LOG[quantity])
    item.getAxis("bottom").enableAutoSIPrefix(False)
    item.getAxis("left").enableAutoSIPrefix(False)
    item.setMenuEnabled(False)
    if quantity == "dead":
        item.setYRange(0, 100, padding=0.02)
        item.getAxis("left").setTicks([[(v, str(v)) for v in (0, 50, 100)], []])
    w.setMinimumHeight(100)
    w.setToolTip(
        {
            "grad_norm": "Size of the loss gradient for each layer's weights (log scale; 0 is drawn "
            "at 1e-10). Vanishing: tiny in the first layers; exploding: huge.",
            "update_ratio": "How far each layer's weights moved per batch, relative to their size "
            "(log scale). About 1e-3 is healthy; much more overshoots.",
            "dead": "Share of each hidden ReLU layer's units that output 0 for every probe image: "
            "dead units never learn again.",
        }[quantity]
    )
    return w


def _values(quantity: str, values: list[float]) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if quantity == "dead":
        return 100.0 * a
    return np.where(np.isfinite(a), np.maximum(a, FLOOR), np.nan)


def _decades(arrays: list[np.ndarray]) -> tuple[float, float] | None:
    """The whole powers of ten around all finite values (log10 units), so a log axis shows
    plain decade ticks (1e-4, 1e-3, ...) rather than crowded minor ones."""
    values = np.concatenate([a[np.isfinite(a)] for a in arrays]) if arrays else np.zeros(0)
    if not len(values):
        return None
    lo, hi = math.floor(np.log10(values.min())), math.ceil(np.log10(values.max()))
    return float(lo), float(max(hi, lo + 1))


class LayerStatsPanel(QWidget):
    """Observes the state's run_began / layers / overlays / sweep events.

    Hooks for tests: `plots` (quantity -> PlotWidget), `curves` ((quantity, layer) -> the live
    run's PlotDataItem), `point_count(quantity, layer)`, `overlay_keys`, `overlay_curves(run)`,
    `legend.text()`,
    `note.text()`, `refresh()`."""

    def __init__(self, state: AppState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plots = {q: _plot(q) for q in QUANTITIES}
        first = self.plots[QUANTITIES[0]]
        for q in QUANTITIES[1:]:
            self.plots[q].setXLink(first)
        self.curves: dict[tuple[str, int], PlotDataItem] = {}
        self._overlays: dict[int, dict[tuple[str, int], PlotDataItem]] = {}
        self._overlay_meta: dict[int, tuple[str, str, tuple[str, ...]]] = {}  # label, colour, layers
        self.live = LayerHistory()
        self._colour: str | None = None  # the sweep run's colour, else None (a colour per layer)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.refresh)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.note = QLabel(DEFAULT_NOTE)
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for q in QUANTITIES:
            row.addWidget(self.plots[q], 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.note)
        self._apply_theme()
        self.state = state
        if state is not None:
            state.events.run_began.connect(lambda _start: self.begin())
            state.events.layers.connect(self.add)
            state.events.run_ended.connect(lambda _o: self.refresh())
            state.events.overlays.connect(self.show_overlays)
            state.events.sweep.connect(self._show_note)

    # -- look ------------------------------------------------------------------------------------

    def _apply_theme(self) -> None:
        for q, plot in self.plots.items():
            style_plot(plot, TITLES[q])

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_theme()
        super().changeEvent(event)

    def _show_note(self, progress=None) -> None:
        note = preset_note(progress.sweep) if progress is not None else None
        self.note.setText(note or DEFAULT_NOTE)

    def _pen(self, colour: str, layer: int, width: float = 2.0):
        return pg.mkPen(colour, width=width, style=STYLES[layer % len(STYLES)])

    def _live_colour(self, layer: int) -> str:
        return self._colour or LAYER_COLOURS[layer % len(LAYER_COLOURS)]

    def _update_legend(self) -> None:
        names = self.live.layers or next((m[2] for m in self._overlay_meta.values()), ())
        grey = theme.chart_foreground().name()
        parts = [
            f"<span style='color:{self._live_colour(i) if self.live.layers else grey}; "
            f"font-weight:bold'>{STYLE_MARKS[i % len(STYLE_MARKS)]}</span> {name}"
            for i, name in enumerate(names)
        ]
        runs = [
            f"<span style='color:{colour}; font-weight:bold'>■</span> {label}"
            for label, colour, _layers in self._overlay_meta.values()
        ]
        self.legend.setText(" &nbsp; ".join(parts + runs))

    # -- the live run ----------------------------------------------------------------------------

    def begin(self) -> None:
        """A run began: forget the last run's curves (overlays stay); a sweep run's colour."""
        sweep = self.state.sweep if self.state is not None else None
        self._colour = sweep.colour if sweep is not None and not sweep.done else None
        self._show_note(sweep)
        self.live = LayerHistory()
        for (q, _i), curve in self.curves.items():
            self.plots[q].getPlotItem().removeItem(curve)
        self.curves = {}
        self._update_legend()

    def add(self, stats) -> None:
        """Store one report (a LayerStats); the redraw comes later."""
        if self.live.layers and stats.layers != self.live.layers:
            self.begin()  # another network: start over
        self.live.add(stats)
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        """Push the stored reports into the curves (called by the timer; tests may call it)."""
        self._timer.stop()
        if not self.live.layers:
            return
        x = np.asarray(self.live.position, float)
        for q in QUANTITIES:
            for i in range(len(self.live.layers)):
                y = _values(q, self.live.values[q][i])
                if not np.any(np.isfinite(y)):
                    continue  # no ReLU in this layer: nothing to say about dead units
                curve = self.curves.get((q, i))
                if curve is None:
                    curve = (
                        self.plots[q]
                        .getPlotItem()
                        .plot(pen=self._pen(self._live_colour(i), i), connect="finite")
                    )
                    self.curves[(q, i)] = curve
                curve.setData(x, y)
        self._fit_log_axes()
        self._update_legend()

    def _fit_log_axes(self) -> None:
        """Each log plot spans whole decades around every curve it shows (live and past)."""
        for q in QUANTITIES:
            if not LOG[q]:
                continue
            items = [c for (cq, _i), c in self.curves.items() if cq == q]
            items += [c for curves in self._overlays.values() for (cq, _i), c in curves.items() if cq == q]
            span = _decades([np.asarray(c.yData, float) for c in items if c.yData is not None])
            if span is not None:
                lo, hi = int(span[0]), int(span[1])
                step = max(1, math.ceil((hi - lo) / 4))  # at most ~5 labelled decades
                item = self.plots[q].getPlotItem()
                item.getAxis("left").setTicks(
                    [[(float(d), f"1e{d}" if d else "1") for d in range(lo, hi + 1, step)], []]
                )
                item.setYRange(*span, padding=0.02)

    def point_count(self, quantity: str, layer: int) -> int:
        curve = self.curves.get((quantity, layer))
        if curve is None:
            return 0
        x, _y = curve.getData()
        return 0 if x is None else len(x)

    # -- past runs --------------------------------------------------------------------------------

    def show_overlays(self, overlays: dict) -> None:
        """Draw the layer numbers of exactly these past runs (those that have them)."""
        for run_id in list(self._overlays):
            self._remove_overlay(run_id)
        for run_id, o in overlays.items():
            history = LayerHistory.from_dict(getattr(o, "layer_stats", None))
            if len(history):
                self._add_overlay(run_id, o.label, history, o.colour)
        self._fit_log_axes()
        self._update_legend()

    def _add_overlay(self, run_id: int, label: str, history: LayerHistory, colour: str) -> None:
        items = {}
        x = np.asarray(history.position, float)
        for q in QUANTITIES:
            for i in range(len(history.layers)):
                y = _values(q, history.values[q][i])
                if np.any(np.isfinite(y)):
                    items[(q, i)] = (
                        self.plots[q]
                        .getPlotItem()
                        .plot(x, y, pen=self._pen(colour, i, 1.6), connect="finite")
                    )
        self._overlays[run_id] = items
        self._overlay_meta[run_id] = (label, colour, history.layers)

    def _remove_overlay(self, run_id: int) -> None:
        for curve in self._overlays.pop(run_id, {}).values():
            for plot in self.plots.values():
                if curve in plot.getPlotItem().items:
                    plot.getPlotItem().removeItem(curve)
        self._overlay_meta.pop(run_id, None)

    @property
    def overlay_keys(self) -> list[int]:
        return list(self._overlays)

    def overlay_curves(self, run_id: int) -> dict[tuple[str, int], PlotDataItem]:
        """A past run's curves: (quantity, layer) -> PlotDataItem."""
        return dict(self._overlays.get(run_id, {}))
