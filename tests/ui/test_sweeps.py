"""The tuning loop: sweeps from the panel (one curve per run, the best starred, Stop cancels the
rest), continuing a run, experiment files that re-open into the same form, logs."""

from __future__ import annotations

import json

import pytest

from kpgui.core.model.spec import ModelSpec
from kpgui.ui import dialogs

SMALL = ModelSpec(hidden=(16,), epochs=1, train_samples=2000, optimizer="sgd")


def test_an_exported_experiment_reopens_into_the_same_form(qtbot, shared_app, tmp_path, monkeypatch):
    app = shared_app  # the form is set here; the other tests of this window read it before and after
    form, sweep = app.panels["training"], app.panels["sweep"]
    spec = ModelSpec(
        hidden=(64, 32),
        optimizer="sgd",
        learning_rate=0.05,
        epochs=3,
        train_samples=5000,
        seed=11,
        augment=True,
        styles=0.2,
    )
    form.set_spec(spec)
    sweep.set_fields("learning_rate", (1e-6, 0.01, 1.0))
    target = tmp_path / "lesson.json"
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(target))
    next(a for a in app.window.actions() if a.text() == "&Export experiment…").trigger()
    qtbot.waitUntil(target.is_file, timeout=5000)
    data = json.loads(target.read_text())
    assert data["format"] == "kpgui-experiment/1" and data["spec"]["seed"] == 11
    assert data["sweep"] == {"option": "learning_rate", "values": [1e-06, 0.01, 1.0]}

    form.set_spec(ModelSpec())
    sweep.values_edit.setText("")
    monkeypatch.setattr(dialogs, "ask_open_path", lambda *a: str(target))
    next(a for a in app.window.actions() if a.text() == "Open e&xperiment…").trigger()
    qtbot.waitUntil(lambda: form.spec() == spec, timeout=5000)  # read off the GUI thread
    assert sweep.option == "learning_rate" and sweep.values_edit.text() == "1e-06, 0.01, 1"


def test_a_bad_experiment_file_is_refused_and_changes_nothing(
    qtbot, shared_app, errors, tmp_path, monkeypatch
):
    app = shared_app
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "kpgui-experiment/1", "spec": {"epochs": -3}}))
    before = app.panels["training"].spec()
    monkeypatch.setattr(dialogs, "ask_open_path", lambda *a: str(bad))
    next(a for a in app.window.actions() if a.text() == "Open e&xperiment…").trigger()
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)  # read off the GUI thread
    assert "bad.json" in errors[0][1] and "epochs" in errors[0][1]
    assert app.panels["training"].spec() == before


@pytest.mark.slow
def test_a_sweep_from_the_panel_overlays_one_curve_per_run_and_stars_the_best(qtbot, app, errors):
    form, panel, plots = app.panels["training"], app.panels["sweep"], app.panels["plots"]
    form.set_spec(SMALL)
    panel.set_fields("learning_rate", (0.5, 0.05, 0.005))
    panel.start_button.click()
    assert app.state.sweep is not None and app.state.training.busy
    qtbot.waitUntil(lambda: app.state.sweep.done, timeout=240000)
    progress = app.state.sweep
    assert errors == []
    runs = [o for o in progress.outcomes]
    assert [o.spec.learning_rate for o in runs] == [0.5, 0.05, 0.005]
    assert sorted(plots.overlay_keys) == sorted(o.id for o in runs)  # one curve set per run
    assert len(set(progress.colours)) == 3
    best = progress.best
    assert panel.best_row == best and panel.table.item(best, 0).text().endswith("★")
    history = app.store.list_runs()
    assert len(history) == 3 and {r.name for r in history} == {"lr 0.5", "lr 0.05", "lr 0.005"}
    qtbot.waitUntil(lambda: app.state.candidate is not None, timeout=30000)
    assert app.state.candidate.outcome.id == runs[best].id  # the best is offered


@pytest.mark.slow
def test_stop_ends_the_current_run_and_cancels_the_rest(qtbot, app):
    form, panel = app.panels["training"], app.panels["sweep"]
    form.set_spec(ModelSpec(hidden=(128,), epochs=5, batch_size=32, optimizer="sgd"))
    panel.set_fields("learning_rate", (0.1, 0.01, 0.001))
    batches = []
    app.state.events.batch.connect(batches.append)
    panel.start_button.click()
    qtbot.waitUntil(lambda: len(batches) >= 5, timeout=120000)
    form.stop_button.click()
    qtbot.waitUntil(lambda: app.state.sweep.done and not app.state.training.busy, timeout=60000)
    progress = app.state.sweep
    assert progress.cancelled
    assert progress.outcomes[0].status == "stopped" and progress.outcomes[1:] == (None, None)
    assert len(app.store.list_runs()) == 1
    assert "cancelled" in panel.table.item(1, 1).text()


@pytest.mark.slow
def test_continue_training_extends_the_history_and_the_curves(qtbot, app, monkeypatch):
    from kpgui.ui import dialogs

    ended = []
    app.state.events.run_ended.connect(ended.append)
    app.training.start(SMALL.replace(optimizer="adam", epochs=2))
    qtbot.waitUntil(lambda: bool(ended), timeout=120000)
    qtbot.waitUntil(lambda: app.state.candidate is not None, timeout=30000)
    app.panels["candidate"].keep_button.click()
    first = ended[0]
    monkeypatch.setattr(dialogs, "ask_int", lambda *a, **k: (2, True))
    began = []
    app.state.events.run_began.connect(began.append)
    next(a for a in app.window.actions() if a.text() == "&Continue training…").trigger()
    qtbot.waitUntil(lambda: len(ended) == 2, timeout=120000)
    second = ended[1]
    assert second.kind == "continue" and second.epochs_run == 4
    assert second.history["loss"][:2] == first.history["loss"]  # the earlier epochs come first
    assert len(second.history["loss"]) == 4
    assert began[0].first_epoch == 3 and began[0].epochs == 4
    plots = app.panels["plots"]
    plots.refresh()
    assert plots.point_count("accuracy") == 4  # the curve continues where it stopped
