"""Live loss and accuracy curves of a training run, plus overlays of past runs.

Points arrive many times a second from the training thread; they are only stored, and the
curves are redrawn by a single-shot QTimer twice a second. Every pyqtgraph item is
created once and updated with setData, and the axes keep fixed ranges during a run (x: 0..epochs,
accuracy: 0..1, loss: 0..top, widened only when a loss exceeds it): re-laying out the axes on
every redraw was most of the painting cost, and painting competes with TensorFlow for the CPU
(measured in benchmarks/bench_training.py and bench_responsiveness.py).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

REDRAW_MS = 500  # measured on 2 cores: 100 ms cost 31 % of training speed, 250 ms up to 18 %
SMOOTHING = 0.9  # exponential moving average factor for the smoothed batch curves

RAW = (160, 190, 230)
TRAIN = (30, 90, 200)
VAL = (220, 90, 20)


def _plot(title: str, y_label: str, legend_offset: tuple[int, int]) -> pg.PlotWidget:
    w = pg.PlotWidget(background="w")
    item = w.getPlotItem()
    item.setTitle(title, color="#333", size="10pt")
    item.setLabel("bottom", "epoch")
    item.setLabel("left", y_label)
    item.showGrid(x=True, y=True, alpha=0.2)
    item.addLegend(offset=legend_offset, labelTextColor="#333", brush=pg.mkBrush(255, 255, 255, 200))
    w.setMinimumHeight(150)
    return w


class TrainingPlots(QWidget):
    """Two plots: loss (raw and smoothed per batch, val_loss per epoch) and accuracy.

    Hooks: `reset(epochs)`, `add_batch(BatchUpdate)`, `add_epoch(EpochUpdate)`, `refresh()`,
    `curves` (name -> PlotDataItem), and past-run overlays `add_overlay`, `remove_overlay`,
    `clear_overlays`.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Legends where the curves are not: loss falls (top right free), accuracy rises.
        self.loss_plot = _plot("Loss", "cross-entropy", (-10, 10))
        self.acc_plot = _plot("Accuracy", "accuracy", (-10, -10))
        self.acc_plot.setXLink(self.loss_plot)
        self.loss_plot.setToolTip("Training loss per batch (light), smoothed (dark), and the "
                                  "validation loss after each epoch (orange)")
        self.acc_plot.setToolTip("Training accuracy per batch (smoothed) and the validation "
                                 "accuracy after each epoch")
        lp, ap = self.loss_plot.getPlotItem(), self.acc_plot.getPlotItem()
        self.curves: dict[str, pg.PlotDataItem] = {
            "loss_raw": lp.plot(pen=pg.mkPen(RAW, width=1), name="loss (batch)"),
            "loss_smooth": lp.plot(pen=pg.mkPen(TRAIN, width=2), name="loss (smoothed)"),
            "val_loss": lp.plot(pen=pg.mkPen(VAL, width=2), symbol="o", symbolSize=7,
                                symbolBrush=VAL, symbolPen=None, name="val_loss"),
            "acc_smooth": ap.plot(pen=pg.mkPen(TRAIN, width=2), name="accuracy (smoothed)"),
            "accuracy": ap.plot(pen=None, symbol="s", symbolSize=6, symbolBrush=TRAIN,
                                symbolPen=None, name="accuracy (epoch)"),
            "val_accuracy": ap.plot(pen=pg.mkPen(VAL, width=2), symbol="o", symbolSize=7,
                                    symbolBrush=VAL, symbolPen=None, name="val_accuracy"),
        }
        for key in ("loss_raw", "loss_smooth", "acc_smooth"):
            self.curves[key].setDownsampling(auto=True, method="peak")
            self.curves[key].setClipToView(True)
        self._overlays: dict[str, list[pg.PlotDataItem]] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.refresh)
        self.redraws = 0  # how many times the curves were redrawn (tests check the throttling)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.acc_plot)
        self.reset()

    # -- the live run ----------------------------------------------------------------------

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
        self._ema_loss: float | None = None
        self._ema_acc: float | None = None
        self._loss_top = 0.0
        self._loss_peak = 0.0  # highest loss stored so far
        for curve in self.curves.values():
            curve.setData([], [])
        if epochs:
            for plot in (self.loss_plot, self.acc_plot):
                plot.getPlotItem().setXRange(0, epochs, padding=0.02)
            self.acc_plot.getPlotItem().setYRange(0.0, 1.0, padding=0.02)
        else:
            for plot in (self.loss_plot, self.acc_plot):
                plot.getPlotItem().enableAutoRange()

    def add_batch(self, update) -> None:
        """Store one batch's loss/accuracy (a BatchUpdate); the redraw comes later."""
        loss, acc = float(update.loss), float(update.accuracy)
        if not (np.isfinite(loss) and np.isfinite(acc)):
            return
        self._ema_loss = loss if self._ema_loss is None else (
            SMOOTHING * self._ema_loss + (1 - SMOOTHING) * loss)
        self._ema_acc = acc if self._ema_acc is None else (
            SMOOTHING * self._ema_acc + (1 - SMOOTHING) * acc)
        self._bx.append(float(update.epoch_position))
        self._bloss.append(loss)
        self._loss_peak = max(self._loss_peak, loss)
        self._sloss.append(self._ema_loss)
        self._sacc.append(self._ema_acc)
        self._schedule()

    def add_epoch(self, update) -> None:
        """Store one epoch's accuracy, val_loss and val_accuracy (an EpochUpdate)."""
        self._ex.append(float(update.epoch))
        self._eacc.append(float(update.accuracy))
        if update.val_loss is not None:
            self._vx.append(float(update.epoch))
            self._vloss.append(float(update.val_loss))
            if np.isfinite(update.val_loss):
                self._loss_peak = max(self._loss_peak, float(update.val_loss))
            self._vacc.append(float(update.val_accuracy or np.nan))
        self._schedule()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        """Push the stored points into the curves (called by the timer; tests may call it)."""
        self._timer.stop()
        c = self.curves
        c["loss_raw"].setData(self._bx, self._bloss)
        c["loss_smooth"].setData(self._bx, self._sloss)
        c["acc_smooth"].setData(self._bx, self._sacc)
        c["accuracy"].setData(self._ex, self._eacc)
        c["val_loss"].setData(self._vx, self._vloss)
        c["val_accuracy"].setData(self._vx, self._vacc)
        self._fit_loss_axis()
        self.redraws += 1

    def _fit_loss_axis(self) -> None:
        """Widen the loss axis only when a point would fall outside it (never every redraw)."""
        peak = self._loss_peak
        if peak > self._loss_top:
            self._loss_top = peak * 1.1
            self.loss_plot.getPlotItem().setYRange(0.0, self._loss_top, padding=0.0)

    def point_count(self, name: str) -> int:
        """Number of points a curve currently shows (0 when empty)."""
        x, _ = self.curves[name].getData()
        return 0 if x is None else len(x)

    # -- past runs -------------------------------------------------------------------------

    def add_overlay(self, key: str, label: str, history: dict, color) -> None:
        """Draw a past run's per-epoch loss/val_loss and accuracy/val_accuracy (x = 1..epochs)
        in `color` (anything pg.mkColor takes) with a legend entry `label`; replaces `key`."""
        self.remove_overlay(key)
        items: list[pg.PlotDataItem] = []
        solid = pg.mkPen(color, width=1.5)
        dashed = pg.mkPen(color, width=1.5, style=pg.QtCore.Qt.PenStyle.DashLine)
        for plot, train_key, val_key in ((self.loss_plot, "loss", "val_loss"),
                                         (self.acc_plot, "accuracy", "val_accuracy")):
            item = plot.getPlotItem()
            for k, pen, name in ((train_key, solid, label), (val_key, dashed, f"{label} (val)")):
                values = [float(v) for v in (history or {}).get(k, []) if v is not None]
                if not values:
                    continue
                x = np.arange(1, len(values) + 1, dtype=float)
                items.append(item.plot(x, values, pen=pen, name=name))
        self._overlays[key] = items

    def remove_overlay(self, key: str) -> None:
        """Remove one past run's curves and legend entries (no error if absent)."""
        for curve in self._overlays.pop(key, []):
            for plot in (self.loss_plot, self.acc_plot):
                if curve in plot.getPlotItem().items:
                    plot.getPlotItem().removeItem(curve)

    def clear_overlays(self) -> None:
        for key in list(self._overlays):
            self.remove_overlay(key)

    @property
    def overlay_keys(self) -> list[str]:
        return list(self._overlays)
