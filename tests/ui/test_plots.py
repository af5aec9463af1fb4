"""Plots a teacher can project: the legend never covers the curves, loss ticks are plain
numbers, accuracy zooms to the data (with a way back to 0–1), the smoothed loss does not lag at
the start, past runs are overlaid and named, redraws are throttled."""

from __future__ import annotations

import numpy as np
from helpers import y_range
from PySide6.QtCore import Qt

from kpgui.core.state import Overlay
from kpgui.core.training.progress import BatchUpdate, EpochUpdate
from kpgui.ui.panels.training_plots import OVERLAY_VALIDATION_KEY, BiasCorrectedEMA


def _batches(plots, n=200, epoch=1, epochs=3, start_loss=2.3):
    for step in range(1, n + 1):
        loss = start_loss * np.exp(-step / 40) + 0.1
        plots.add_batch(BatchUpdate(epoch, epochs, step, n, loss, 1 - loss / 3, loss, 0.5, 1, 1, step))


def test_legend_sits_outside_the_plots_and_ticks_are_plain(qtbot, plots):
    for plot in (plots.loss_plot, plots.acc_plot):  # pyqtgraph's in-plot legend is never used
        assert plot.getPlotItem().legend is None
    assert not plots.loss_plot.getPlotItem().getAxis("left").autoSIPrefix
    plots.reset(3)
    _batches(plots, start_loss=0.0008)  # tiny losses: no "x0.001" axis scaling
    plots.add_epoch(EpochUpdate(1, 3, 0.0005, 0.97, 0.0006, 0.96, 1, 1))
    plots.refresh()
    axis = plots.loss_plot.getPlotItem().getAxis("left")
    assert axis.autoSIPrefixScale == 1.0 and "x0.001" not in axis.labelString()
    assert {"loss per batch", "loss (smoothed)", "val_loss", "val_accuracy"} <= set(plots.legend.names)
    assert plots.legend.isVisible()
    assert plots.legend.geometry().top() >= plots.acc_plot.geometry().bottom(), "the legend covers a plot"


def test_accuracy_zooms_to_the_data_with_a_way_back(qtbot, plots):
    plots.reset(3)
    assert y_range(plots.acc_plot)[0] < 0.05  # no data: 0-1
    _batches(plots)
    for e, (acc, val) in enumerate([(0.969, 0.972), (0.975, 0.978)], start=1):
        plots.add_epoch(EpochUpdate(e, 3, 0.1, acc, 0.1, val, 1, 1))
    plots.refresh()
    lo, hi = y_range(plots.acc_plot)
    assert 0.5 < lo < 0.969 and hi >= 0.978, (lo, hi)  # 96.9 % and 97.2 % are told apart
    qtbot.mouseClick(plots.full_range_button, Qt.MouseButton.LeftButton)
    assert y_range(plots.acc_plot)[0] < 0.05, f"0-1 asked, shows {y_range(plots.acc_plot)}"
    qtbot.mouseClick(plots.full_range_button, Qt.MouseButton.LeftButton)
    assert y_range(plots.acc_plot)[0] > 0.5, f"back to the data asked, shows {y_range(plots.acc_plot)}"


def test_smoothed_loss_follows_the_data_from_the_first_batch():
    """A loss that falls fast in the first batches: the bias-corrected average stays close to
    it; the usual average seeded with the first batch lags far above it."""
    losses = 2.3 * np.exp(-np.arange(1, 21) / 4) + 0.1
    ema = BiasCorrectedEMA(0.9)
    corrected = [ema.add(x) for x in losses]
    seeded = [losses[0]]
    for x in losses[1:]:
        seeded.append(0.9 * seeded[-1] + 0.1 * x)
    assert corrected[0] == losses[0]
    for t in (5, 10, 15):
        assert corrected[t] - losses[t] < 0.6 * (seeded[t] - losses[t])


def test_overlays_come_from_the_state_and_redraws_are_throttled(qtbot, plots, state, monkeypatch):
    history = {
        "loss": [0.5, 0.3, 0.2],
        "val_loss": [0.4, 0.35, 0.3],
        "accuracy": [0.8, 0.9, 0.95],
        "val_accuracy": [0.85, 0.9, 0.92],
    }
    state.set_overlay(Overlay(1, "lr 0.01 · 97.2 %", history, "#2a9d8f"))
    assert plots.overlay_keys == [1] and "lr 0.01 · 97.2 %" in plots.legend.names
    assert OVERLAY_VALIDATION_KEY in plots.legend.names  # dashed = validation, said once
    state.set_overlay(None, 1)
    assert plots.overlay_keys == [] and "lr 0.01 · 97.2 %" not in plots.legend.names
    assert OVERLAY_VALIDATION_KEY not in plots.legend.names

    plots.reset(2)
    curve = plots.curves["loss_raw"]
    redraws = []  # each redraw sets the batch curve's points once
    real_set_data = curve.setData
    monkeypatch.setattr(curve, "setData", lambda *a, **k: redraws.append(1) or real_set_data(*a, **k))
    curve_id = id(curve)
    for step in range(1, 1001):
        plots.add_batch(BatchUpdate(1, 2, step, 1000, 1.0 / step, 0.5, 0.5, 0.5, 1.0, 1.0, step))
    plots.add_epoch(EpochUpdate(1, 2, 0.3, 0.9, 0.35, 0.88, 1.0, 1.0))
    assert redraws == []  # nothing drawn synchronously
    qtbot.waitUntil(lambda: plots.point_count("loss_raw") == 1000, timeout=3000)
    assert 1 <= len(redraws) <= 2, f"{len(redraws)} redraws for 1000 batches"
    assert plots.point_count("val_loss") == 1 and id(plots.curves["loss_raw"]) == curve_id
