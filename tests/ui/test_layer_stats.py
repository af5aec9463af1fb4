"""The layer plots under the training curves: one curve per layer from the state's `layers`
event, past runs' numbers overlaid in their colours, the preset's note under the plots; and the
"Dying ReLUs vs healthy" demonstration from its button, its numbers arriving over the pipe."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kpgui.core.model.layerstats import LayerHistory, LayerStats
from kpgui.core.model.spec import ModelSpec
from kpgui.core.state import AppState, Overlay, SweepProgress
from kpgui.core.training.sweep import DYING_RELUS, PRESETS, Sweep
from kpgui.ui.panels.layer_stats import DEFAULT_NOTE, FLOOR, LayerStatsPanel

NAMES = ("dense 1 (64 relu)", "dense 2 (32 relu)", "output (10)")


def _report(batch: int, dead: float) -> LayerStats:
    ratio = math.nan if batch == 0 else 1e-3
    return LayerStats(
        1,
        1,
        batch,
        100,
        batch,
        NAMES,
        (0.5, 0.0, 0.2),
        (ratio, ratio, ratio),
        (dead, dead / 2, math.nan),
        2.0,
    )


def test_each_layer_gets_a_curve_and_a_named_legend_entry(qtbot):
    state = AppState()
    panel = LayerStatsPanel(state)
    qtbot.addWidget(panel)
    for b in (0, 10, 20, 30):
        state.events.layers.emit(_report(b, b / 100))
    panel.refresh()
    for q in ("grad_norm", "update_ratio"):
        assert [panel.point_count(q, i) for i in range(3)] == [4, 4, 4]
    # Only hidden ReLU layers can have dead units: two curves, in per cent.
    assert [panel.point_count("dead", i) for i in range(3)] == [4, 4, 0]
    _x, dead = panel.curves[("dead", 0)].getData()
    assert list(dead) == pytest.approx([0, 10, 20, 30])
    # A zero gradient (a dead layer) is drawn at the floor of the log plot, not lost.
    assert panel.plots["grad_norm"].getPlotItem().ctrl.logYCheck.isChecked()
    y = panel.curves[("grad_norm", 1)].yData
    assert np.allclose(y, FLOOR)
    legend = panel.legend.text()
    assert all(name in legend for name in NAMES), (NAMES, legend)
    # A new run starts its own curves.
    state.events.run_began.emit(None)
    assert panel.point_count("grad_norm", 0) == 0


def test_past_runs_are_overlaid_and_the_dying_relu_preset_explains_itself(qtbot):
    state = AppState()
    panel = LayerStatsPanel(state)
    qtbot.addWidget(panel)
    history = LayerHistory()
    for b in (0, 10):
        history.add(_report(b, 0.9))
    state.set_overlay(Overlay(7, "lr 1", {"loss": [2.3]}, "#E69F00", history.to_dict()))
    state.set_overlay(Overlay(8, "old run", {"loss": [0.3]}, "#56B4E9"))  # recorded before stats
    assert panel.overlay_keys == [7]
    # every layer's curves; dead units only for the ReLU layers
    assert sorted(panel.overlay_curves(7)) == sorted(
        [(q, i) for q in ("grad_norm", "update_ratio") for i in range(3)] + [("dead", 0), ("dead", 1)]
    )
    assert "lr 1" in panel.legend.text() and "old run" not in panel.legend.text()
    state.set_overlay(None, 7)
    assert panel.overlay_keys == []
    assert panel.note.text() == DEFAULT_NOTE
    option, values, settings = PRESETS[DYING_RELUS]
    sweep = Sweep(option, values, ModelSpec().replace(**settings))
    state.set_sweep(SweepProgress(sweep, 0, (None, None), ("#E69F00", "#56B4E9")))
    assert "ReLU dies" in panel.note.text() and "lr 0.5" in panel.note.text()
    other = Sweep(option, values, ModelSpec())
    state.set_sweep(SweepProgress(other, 0, (None, None), ("#E69F00", "#56B4E9")))
    assert panel.note.text() == DEFAULT_NOTE  # not the preset's settings: no claim about it


def test_runs_ticked_in_history_overlay_their_layer_numbers(qtbot, history_rig):
    app = history_rig
    from kpgui.core.model.run import RunRecord

    history = LayerHistory()
    for b in (0, 10, 20):
        history.add(_report(b, 0.5))

    def result(lr, stats):
        return RunRecord(
            spec=ModelSpec(hidden=(64, 32), optimizer="sgd", learning_rate=lr),
            history={"loss": [0.5, 0.4]},
            status="finished",
            epochs_run=2,
            wall_time=3.0,
            train_samples=100,
            samples_per_second=10.0,
            test_accuracy=0.9,
            layer_stats=stats,
        )

    with_stats = app.store.add_run(result(1.0, history.to_dict()))
    without = app.store.add_run(result(0.01, None))
    app.state.runs_changed()
    app.tasks.wait(10)  # History reads the runs on a thread
    panel, runs = app.plots.layer_stats, app.history
    runs.set_ticked(with_stats)
    runs.set_ticked(without)
    assert panel.overlay_keys == [with_stats]  # the older run has no layer numbers to draw
    assert "lr 1" in panel.legend.text() and "dense 1 (64 relu)" in panel.legend.text()
    _x, y = panel.overlay_curves(with_stats)[("dead", 1)].getData()
    assert list(y) == pytest.approx([25.0, 25.0, 25.0])
    runs.untick_all()
    assert panel.overlay_keys == []


@pytest.mark.slow
def test_the_dying_relu_button_runs_both_and_the_numbers_reach_the_plots(qtbot, app, errors):
    from PySide6.QtCore import Qt

    received, ended = [], []
    app.state.events.layers.connect(received.append)
    app.state.events.run_ended.connect(ended.append)
    sweep_panel = app.panels["sweep"]
    qtbot.mouseClick(sweep_panel.dying_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(ended) == 2, timeout=240000)
    assert errors == [] or all(title != "Training process ended" for title, _t in errors)
    # The reports crossed the pipe from the training process into the state.
    assert received and all(
        s.layers == ("dense 1 (128 relu)", "dense 2 (128 relu)", "output (10)") for s in received
    )
    healthy, dying = (LayerHistory.from_dict(o.layer_stats) for o in ended)
    assert max(max(d) for d in healthy.values["dead"][:2]) < 0.2
    last = [d[-1] for d in dying.values["dead"][:2]]  # the first layer all but gone, most of the second
    assert max(last) > 0.8 and min(last) > 0.4
    panel = app.panels["plots"].layer_stats
    panel.refresh()
    assert all(panel.point_count("grad_norm", i) == len(dying) for i in range(3)), [
        panel.point_count("grad_norm", i) for i in range(3)
    ]
    assert "ReLU dies" in panel.note.text()
    assert sorted(panel.overlay_keys) == sorted(o.id for o in ended)
