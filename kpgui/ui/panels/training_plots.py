"""Live loss and accuracy curves of a training run, plus overlays of past runs.

Points arrive many times a second; they are only stored, and the curves are redrawn by a
single-shot timer twice a second. Every pyqtgraph item is created once and updated with
setData, and the axes keep fixed ranges while a run goes (re-laying out the axes on every redraw
was most of the painting cost, which competes with training for the CPU; measured in
benchmarks/bench_training.py and bench_responsiveness.py).

Made to be projected in a classroom: the legend sits under the plots, never over the data; loss
ticks are plain numbers (no "x0.001" axis scaling); accuracy zooms to the data once there is
some (the "0–1" button goes back); the smoothed curve is a bias-corrected moving average, so it
does not lag far above the batch loss at the start.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kpgui.core.display.plotrange import loss_axis_top, loss_log_range, off_scale
from kpgui.core.state import AppState
from kpgui.ui import theme
from kpgui.ui.charts import pyqtgraph, style_plot

if TYPE_CHECKING:
    from pyqtgraph import PlotDataItem, PlotWidget

pg = pyqtgraph()

REDRAW_MS = 500  # measured on 2 cores: 100 ms cost 31 % of training speed, 250 ms up to 18 %
SMOOTHING = 0.9  # exponential moving average factor for the smoothed batch curves
RAW = (150, 180, 225)
OVERLAY_VALIDATION_KEY = "past runs' validation (dashed)"
OVERLAY_KEY_COLOUR = "#8a8a8a"  # grey: readable on the light and the dark theme
OFF_SCALE_KEY = "off the scale (diverging)"
OFF_SCALE_COLOUR = "#d32f2f"


class BiasCorrectedEMA:
    """An exponential moving average divided by (1 - beta^t), as Adam does: without the
    correction the first values are pulled towards 0 (or, seeded with the first value, stuck
    near it); with it the average follows the data from the first point."""

    def __init__(self, beta: float = SMOOTHING) -> None:
        self.beta = beta
        self.value = 0.0
        self.count = 0

    def add(self, x: float) -> float:
        self.count += 1
        self.value = self.beta * self.value + (1.0 - self.beta) * x
        return self.value / (1.0 - self.beta**self.count)


class Legend(QWidget):
    """The plots' legend as a row of coloured names under the plots (never over the curves)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.label)
        self.entries: list[tuple[str, str, bool]] = []  # (name, colour, dashed)

    def set_entries(self, entries: list[tuple[str, str, bool]]) -> None:
        """Each swatch and its name stay together (no-break spaces); lines break only between
        entries."""
        self.entries = entries
        parts = []
        for name, c, dashed in entries:
            glyph = "▲" if name == OFF_SCALE_KEY else "╌╌" if dashed else "━━"
            words = "&nbsp;".join(html.escape(name).split(" "))
            parts.append(
                f"<span style='white-space:nowrap'><span style='color:{c}; "
                f"font-weight:bold'>{glyph}</span>&nbsp;{words}</span>"
            )
        self.label.setText(" &nbsp; ".join(parts))

    @property
    def names(self) -> list[str]:
        return [name for name, _c, _d in self.entries]


def _plot(y_label: str) -> PlotWidget:
    w = pg.PlotWidget()
    item = w.getPlotItem()
    item.setLabel("bottom", "epoch")
    item.setLabel("left", y_label)
    item.showGrid(x=True, y=True, alpha=0.2)
    for name in ("left", "bottom"):
        item.getAxis(name).enableAutoSIPrefix(False)  # plain ticks: 0.2, not 200 (x0.001)
    item.setMenuEnabled(False)
    w.setMinimumHeight(120)
    return w


class TrainingPlots(QWidget):
    """Two plots (loss: batch, smoothed, val_loss; accuracy: smoothed, per epoch, val) with a
    legend below, observing the state's run_began / batch / epoch / run_ended / overlays.

    Hooks for tests: `curves` (name -> PlotDataItem), `point_count(name)`, `refresh()`,
    `overlay_keys`, `legend.names`; the axes' shown ranges are the plots' own."""

    def __init__(self, state: AppState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = _plot("loss")
        self.acc_plot = _plot("accuracy")
        self.acc_plot.setXLink(self.loss_plot)
        self.loss_plot.setToolTip(
            "Training loss per batch (light), smoothed (dark), and the "
            "validation loss after each epoch (orange)"
        )
        self.acc_plot.setToolTip(
            "Training accuracy per batch (smoothed) and per epoch, and the "
            "validation accuracy after each epoch"
        )
        lp, ap = self.loss_plot.getPlotItem(), self.acc_plot.getPlotItem()
        self._styles = {  # name -> (legend text, colour, dashed)
            "loss_raw": ("loss per batch", "#{:02x}{:02x}{:02x}".format(*RAW), False),
            "loss_smooth": ("loss (smoothed)", theme.LIVE_TRAIN, False),
            "val_loss": ("val_loss", theme.LIVE_VAL, False),
            "acc_smooth": ("accuracy (smoothed)", theme.LIVE_TRAIN, False),
            "val_accuracy": ("val_accuracy", theme.LIVE_VAL, False),
        }
        self.curves: dict[str, PlotDataItem] = {
            "loss_raw": lp.plot(pen=pg.mkPen(RAW, width=1)),
            "loss_smooth": lp.plot(pen=pg.mkPen(theme.LIVE_TRAIN, width=2)),
            "val_loss": lp.plot(
                pen=pg.mkPen(theme.LIVE_VAL, width=2),
                symbol="o",
                symbolSize=7,
                symbolBrush=theme.LIVE_VAL,
                symbolPen=None,
            ),
            "acc_smooth": ap.plot(pen=pg.mkPen(theme.LIVE_TRAIN, width=2)),
            "accuracy": ap.plot(
                pen=None, symbol="s", symbolSize=6, symbolBrush=theme.LIVE_TRAIN, symbolPen=None
            ),
            "val_accuracy": ap.plot(
                pen=pg.mkPen(theme.LIVE_VAL, width=2),
                symbol="o",
                symbolSize=7,
                symbolBrush=theme.LIVE_VAL,
                symbolPen=None,
            ),
        }
        for key in ("loss_raw", "loss_smooth", "acc_smooth"):
            self.curves[key].setDownsampling(auto=True, method="peak")
            self.curves[key].setClipToView(True)
        # Points of a diverging run above the loss axis, drawn at its top edge (issue 24).
        self.off_scale_marks = lp.plot(
            pen=None, symbol="t1", symbolSize=9, symbolBrush=OFF_SCALE_COLOUR, symbolPen=None
        )
        self.log_loss = False
        self._overlays: dict[int, list[PlotDataItem]] = {}
        self._overlay_loss: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        self._overlay_entries: dict[int, list[tuple[str, str, bool]]] = {}
        self._overlay_has_val: dict[int, bool] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.refresh)
        self.zoom_accuracy = True

        self.legend = Legend()
        self.full_range_button = QPushButton("Accuracy 0–1")
        self.full_range_button.setCheckable(True)
        self.full_range_button.setToolTip("Show the whole 0–1 accuracy range instead of zooming to the data")
        self.full_range_button.toggled.connect(lambda on: self.set_accuracy_zoom(not on))
        self.log_button = QPushButton("Log loss")
        self.log_button.setCheckable(True)
        self.log_button.setToolTip(
            "Loss on a logarithmic scale: every point of every run, a "
            "diverging one included (otherwise the axis fits the runs "
            "that stay bounded and marks the rest at its top ▲)"
        )
        self.log_button.toggled.connect(self.set_log_loss)
        below = QHBoxLayout()
        below.addWidget(self.legend, 1)
        below.addWidget(self.log_button)
        below.addWidget(self.full_range_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot, 1)
        layout.addWidget(self.acc_plot, 1)
        layout.addLayout(below)
        # Each layer's gradient, update and dead ReLUs, under loss and accuracy (issue 21).
        from kpgui.ui.panels.layer_stats import LayerStatsPanel

        self.layer_stats = LayerStatsPanel(state)
        layout.addWidget(self.layer_stats, 1)
        self._apply_theme()
        self.reset()
        self.state = state
        if state is not None:
            state.events.run_began.connect(self.begin)
            state.events.batch.connect(self.add_batch)
            state.events.epoch.connect(self.add_epoch)
            state.events.run_ended.connect(lambda _o: self.refresh())
            state.events.overlays.connect(self.show_overlays)

    # -- look ------------------------------------------------------------------------------------

    def _apply_theme(self) -> None:
        style_plot(self.loss_plot)
        style_plot(self.acc_plot)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_theme()
        super().changeEvent(event)

    def _update_legend(self) -> None:
        live = [
            self._styles[k]
            for k in ("loss_raw", "loss_smooth", "val_loss", "val_accuracy")
            if self.point_count(k)
        ]
        over = [e for entries in self._overlay_entries.values() for e in entries]
        if self._overlay_validation:  # one key for every past run's dashed line
            over.append((OVERLAY_VALIDATION_KEY, OVERLAY_KEY_COLOUR, True))
        marks, _ = self.off_scale_marks.getData()
        if marks is not None and len(marks):
            over.append((OFF_SCALE_KEY, OFF_SCALE_COLOUR, False))
        self.legend.set_entries(live + over)

    @property
    def _overlay_validation(self) -> bool:
        return any(self._overlay_has_val.values())

    # -- the live run ----------------------------------------------------------------------------

    def begin(self, start) -> None:
        """A run began: fresh curves in its colour (a sweep gives each run its own), and when it
        continues an earlier run, that run's epochs first."""
        sweep = self.state.sweep if self.state is not None else None
        colour = sweep.colour if sweep is not None and not sweep.done else None
        self.set_live_colour(colour)
        self.reset(start.epochs)
        before = start.history_before or {}
        for i in range(len(before.get("loss", []))):

            def at(key: str, i=i):
                values = before.get(key) or []
                return values[i] if i < len(values) else None

            self._ex.append(float(i + 1))
            self._eacc.append(float(at("accuracy") if at("accuracy") is not None else np.nan))
            if at("val_loss") is not None:
                self._vx.append(float(i + 1))
                self._vloss.append(float(at("val_loss")))
                self._vacc.append(float(at("val_accuracy") if at("val_accuracy") is not None else np.nan))
        if before:
            self.refresh()

    def set_live_colour(self, colour: str | None) -> None:
        """The live run's smoothed and validation curves in `colour` (None: the usual blue and
        orange)."""
        train = colour or theme.LIVE_TRAIN
        val = colour or theme.LIVE_VAL
        style = pg.QtCore.Qt.PenStyle.DashLine if colour else pg.QtCore.Qt.PenStyle.SolidLine
        self.curves["loss_smooth"].setPen(pg.mkPen(train, width=2))
        self.curves["acc_smooth"].setPen(pg.mkPen(train, width=2))
        self.curves["accuracy"].setSymbolBrush(train)
        for key in ("val_loss", "val_accuracy"):
            self.curves[key].setPen(pg.mkPen(val, width=2, style=style))
            self.curves[key].setSymbolBrush(val)
        self._styles["loss_smooth"] = ("loss (smoothed)", train, False)
        self._styles["val_loss"] = ("val_loss", val, bool(colour))
        self._styles["val_accuracy"] = ("val_accuracy", val, bool(colour))

    def reset(self, epochs: int | None = None) -> None:
        """Forget the live run's points (overlays stay); x axis spans `epochs` if given."""
        self._bx: list[float] = []
        self._bloss: list[float] = []
        self._sloss: list[float] = []
        self._sacc: list[float] = []
        self._ex: list[float] = []
        self._eacc: list[float] = []
        self._vx: list[float] = []
        self._vloss: list[float] = []
        self._vacc: list[float] = []
        self._ema_loss = BiasCorrectedEMA()
        self._ema_acc = BiasCorrectedEMA()
        self._loss_top = 0.0
        self._fitted_epochs = 0
        self._epochs = epochs
        for curve in self.curves.values():
            curve.setData([], [])
        if epochs:
            self.loss_plot.getPlotItem().setXRange(0, epochs, padding=0.02)
        self._fit_accuracy_axis()
        self._update_legend()

    def add_batch(self, update) -> None:
        """Store one batch's loss/accuracy (a BatchUpdate); the redraw comes later."""
        loss, acc = float(update.loss), float(update.accuracy)
        if not (np.isfinite(loss) and np.isfinite(acc)):
            return
        self._bx.append(float(update.epoch_position))
        self._bloss.append(loss)
        self._sloss.append(self._ema_loss.add(loss))
        self._sacc.append(self._ema_acc.add(acc))
        self._schedule()

    def add_epoch(self, update) -> None:
        """Store one epoch's accuracy, val_loss and val_accuracy (an EpochUpdate)."""
        self._ex.append(float(update.epoch))
        self._eacc.append(float(update.accuracy))
        if update.val_loss is not None:
            self._vx.append(float(update.epoch))
            self._vloss.append(float(update.val_loss))
            self._vacc.append(float(update.val_accuracy if update.val_accuracy is not None else np.nan))
        self._schedule()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        """Push the stored points into the curves (called by the timer; tests may call it)."""
        self._timer.stop()
        c = self.curves
        had_points = bool(self.point_count("loss_raw"))
        c["loss_raw"].setData(self._bx, self._bloss)
        c["loss_smooth"].setData(self._bx, self._sloss)
        c["acc_smooth"].setData(self._bx, self._sacc)
        c["accuracy"].setData(self._ex, self._eacc)
        c["val_loss"].setData(self._vx, self._vloss)
        c["val_accuracy"].setData(self._vx, self._vacc)
        self._fit_loss_axis()
        epochs_seen = len(self._ex) + len(self._vx)
        if epochs_seen != self._fitted_epochs or not had_points:
            # Re-zoom when an epoch arrives, not on every redraw (axis layout costs CPU).
            self._fitted_epochs = epochs_seen
            self._fit_accuracy_axis()
        self._update_legend()

    def _loss_curves(self) -> list[tuple]:
        """(x, y) of every loss curve shown: the live run's and the past runs'."""
        curves: list[tuple] = [(self._bx, self._bloss), (self._vx, self._vloss)]
        for pairs in self._overlay_loss.values():
            curves += pairs
        return curves

    def _fit_loss_axis(self, force: bool = False) -> None:
        """Fit the loss axis to the curves that stay bounded (kpgui.core.display.plotrange), moving it
        only when that top changes much (axis layout costs CPU on every redraw)."""
        item = self.loss_plot.getPlotItem()
        curves = self._loss_curves()
        if self.log_loss:
            lo, hi = loss_log_range(y for _x, y in curves)
            if force or abs(hi - self._loss_top) > 0.1:
                self._loss_top = hi
                item.setYRange(lo, hi, padding=0.0)
            self.off_scale_marks.setData([], [])
            return
        top = loss_axis_top(y for _x, y in curves)
        if force or top > self._loss_top or top < self._loss_top / 1.5:
            self._loss_top = top
            item.setYRange(0.0, top, padding=0.0)
        marks = [off_scale(x, y, self._loss_top) for x, y in curves]
        self.off_scale_marks.setData(
            np.concatenate([m[0] for m in marks]), np.concatenate([m[1] for m in marks])
        )

    def set_log_loss(self, on: bool) -> None:
        """Loss on a log10 axis (True) or a linear one fitted to the bounded runs (False)."""
        self.log_loss = bool(on)
        if self.log_button.isChecked() != self.log_loss:
            self.log_button.setChecked(self.log_loss)
        self.loss_plot.getPlotItem().setLogMode(y=self.log_loss)
        self._loss_top = 0.0
        self._fit_loss_axis(force=True)
        self._update_legend()

    # -- accuracy zoom ---------------------------------------------------------------------------

    def _accuracy_values(self) -> list[float]:
        values = self._sacc[len(self._sacc) // 4 :] + self._eacc + self._vacc
        for items in self._overlays.values():
            for item in items:
                if item.getViewBox() is self.acc_plot.getPlotItem().getViewBox():
                    _x, y = item.getData()
                    if y is not None:
                        values += [float(v) for v in y]
        return [v for v in values if np.isfinite(v)]

    def set_accuracy_zoom(self, zoom: bool) -> None:
        """Zoom the accuracy axis to the data (True) or show all of 0-1 (False)."""
        self.zoom_accuracy = zoom
        if self.full_range_button.isChecked() == zoom:
            self.full_range_button.setChecked(not zoom)
        self._fit_accuracy_axis()

    def _fit_accuracy_axis(self) -> None:
        item = self.acc_plot.getPlotItem()
        values = self._accuracy_values() if self.zoom_accuracy else []
        if not values:
            item.setYRange(0.0, 1.0, padding=0.02)
            return
        lo = min(values)
        span = max(1.0 - lo, 0.005)
        item.setYRange(max(0.0, lo - 0.1 * span), 1.0 + 0.02 * span, padding=0.0)

    def point_count(self, name: str) -> int:
        """Number of points a curve currently shows (0 when empty)."""
        x, _ = self.curves[name].getData()
        return 0 if x is None else len(x)

    # -- past runs --------------------------------------------------------------------------------

    def show_overlays(self, overlays: dict) -> None:
        """Draw exactly these past runs (Overlay values: run_id, label, history, colour)."""
        for run_id in list(self._overlays):
            if run_id not in overlays:
                self._remove_overlay(run_id)
        for run_id, o in overlays.items():
            self._add_overlay(run_id, o.label, o.history, o.colour)
        self._fit_accuracy_axis()
        self._fit_loss_axis(force=True)
        self._update_legend()

    def _add_overlay(self, run_id: int, label: str, history: dict, colour: str) -> None:
        self._remove_overlay(run_id)
        items: list[PlotDataItem] = []
        solid = pg.mkPen(colour, width=1.8)
        dashed = pg.mkPen(colour, width=1.8, style=pg.QtCore.Qt.PenStyle.DashLine)
        entries = []
        for plot, train_key, val_key in (
            (self.loss_plot, "loss", "val_loss"),
            (self.acc_plot, "accuracy", "val_accuracy"),
        ):
            item = plot.getPlotItem()
            for k, pen in ((train_key, solid), (val_key, dashed)):
                values = [float(v) if v is not None else np.nan for v in (history or {}).get(k, [])]
                if not values:
                    continue
                x = np.arange(1, len(values) + 1, dtype=float)
                items.append(item.plot(x, values, pen=pen))
                if plot is self.loss_plot:
                    self._overlay_loss.setdefault(run_id, []).append((x, np.asarray(values)))
        if items:  # one entry per run: its colour; dashed = validation, said once in the legend
            entries.append((label, QColor(colour).name(), False))
        self._overlays[run_id] = items
        self._overlay_entries[run_id] = entries
        self._overlay_has_val[run_id] = any(history.get(k) for k in ("val_loss", "val_accuracy"))

    def _remove_overlay(self, run_id: int) -> None:
        for curve in self._overlays.pop(run_id, []):
            for plot in (self.loss_plot, self.acc_plot):
                if curve in plot.getPlotItem().items:
                    plot.getPlotItem().removeItem(curve)
        self._overlay_entries.pop(run_id, None)
        self._overlay_has_val.pop(run_id, None)
        self._overlay_loss.pop(run_id, None)

    @property
    def overlay_keys(self) -> list[int]:
        return list(self._overlays)
