"""History: runs kept across restarts (from the window and from `kpgui train`), overlays named by
what differs, loading, deleting after asking (the real button), and a damaged or locked database
that is explained while the app keeps working."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from pathlib import Path

import numpy as np
from conftest import HistoryRig, close_app, open_app
from helpers import draw, seven
from PySide6.QtCore import Qt

from kpgui.core.model.run import RunRecord
from kpgui.core.model.spec import ModelSpec
from kpgui.core.storage.paths import database_path, models_dir
from kpgui.core.storage.resources import default_model_path
from kpgui.core.storage.store import Store
from kpgui.ui.panels.history import COLUMNS
from kpgui.ui.panels.training_plots import OVERLAY_VALIDATION_KEY


def fake_result(acc: float, epochs: int = 3, **spec):
    loss = list(np.linspace(1.0, 0.2, epochs))
    return RunRecord(
        spec=ModelSpec(epochs=epochs, **spec),
        history={
            "loss": loss,
            "accuracy": list(np.linspace(0.8, acc, epochs)),
            "val_loss": loss,
            "val_accuracy": list(np.linspace(0.82, acc, epochs)),
        },
        test_accuracy=acc,
        test_loss=0.1,
        wall_time=12.5,
        epochs_run=epochs,
        status="finished",
        train_samples=54000,
        samples_per_second=5000.0,
        started_at="2026-01-01T10:00:00",
    )


def add_run_with_model(store, acc=0.9731, **spec) -> int:
    path = models_dir() / f"run-{acc}.keras"
    shutil.copy(default_model_path(), path)
    return store.add_run(dataclasses.replace(fake_result(acc, **spec), model_path=str(path)))


def test_runs_persist_load_and_delete_after_asking(qtbot, errors, answers, state, tasks):
    with Store.open_default() as store:  # kept by an earlier session
        run_id = add_run_with_model(store, hidden=(512, 512))
    app = HistoryRig(qtbot, state, tasks, errors)  # History opened afresh reads it
    history = app.history
    assert history.model.rowCount() == 1
    run = history.model.runs[0]
    assert run.id == run_id and run.spec.hidden == (512, 512)
    history.select_run(run_id)
    history.load_button.click()
    qtbot.waitUntil(lambda: app.state.model.run_id == run_id, timeout=10000)
    assert app.state.predictor.path == Path(run.model_path)

    # Delete asks first, through the real button: "No" keeps everything.
    history.select_run(run_id)
    history.delete_button.click()
    assert len(answers) == 1 and "cannot be undone" in answers[0][1]
    assert history.model.rowCount() == 1 and Path(run.model_path).exists()
    answers.yes = True
    history.delete_button.click()
    app.tasks.wait(10)
    assert history.model.rowCount() == 0 and app.store.list_runs() == []
    assert not Path(run.model_path).exists()
    app.close()


def test_runs_of_the_cli_appear_after_a_refresh(qtbot, history_rig):
    app = history_rig
    history = app.history
    assert history.model.rowCount() == 0
    with Store.open_default() as other:  # what `kpgui train` does in its own process
        other.add_run(dataclasses.replace(fake_result(0.95), name="from the CLI"))
    app.state.runs_changed()  # the window refreshes when a run ends or the tab is shown
    app.tasks.wait(10)  # ... reading the runs on a thread
    assert history.model.rowCount() == 1
    assert history.model.labels[history.model.runs[0].id].startswith("from the CLI")


def test_ticked_runs_overlay_named_by_what_differs(qtbot, history_rig):
    app = history_rig
    store = app.store
    ids = [
        store.add_run(fake_result(acc, learning_rate=lr, optimizer="sgd", hidden=(32,)))
        for acc, lr in ((0.972, 0.01), (0.991, 1.0), (0.95, 1e-6))
    ]
    app.state.runs_changed()
    app.tasks.wait(10)
    history, plots = app.history, app.plots
    assert history.model.columnCount() == len(COLUMNS)
    history.set_ticked(ids[0])
    history.set_ticked(ids[2])
    assert sorted(plots.overlay_keys) == sorted([ids[0], ids[2]])
    names = plots.legend.names
    assert "lr 0.01 · 97.2 %" in names and "lr 1e-06 · 95.0 %" in names
    # One entry per run (its colour); dashed = validation is said once for all of them.
    assert names == ["lr 0.01 · 97.2 %", "lr 1e-06 · 95.0 %", OVERLAY_VALIDATION_KEY]
    assert len(set(history.model.colours.values())) == 2
    history.set_ticked(ids[0], False)
    assert plots.overlay_keys == [ids[2]]
    history.untick_all()
    assert plots.overlay_keys == []
    # Sortable by test accuracy (numbers, not text); the table fits its tab.
    acc_col = COLUMNS.index("Test acc.")
    history.table.sortByColumn(acc_col, Qt.SortOrder.DescendingOrder)
    assert [history.table.model().index(r, acc_col).data() for r in range(3)] == [
        "99.10 %",
        "97.20 %",
        "95.00 %",
    ]
    assert history.table.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    # Renamed runs keep their name in the legend.
    store.rename_run(ids[1], "the big step")
    app.state.runs_changed()
    app.tasks.wait(10)
    history.set_ticked(ids[1])
    assert "the big step · 99.1 %" in plots.legend.names


def test_corrupt_database_explained_and_app_still_works(qtbot, errors, answers):
    db = database_path()
    db.write_bytes(b"this is not an SQLite database, just junk " * 50)
    app = open_app(qtbot)
    assert len(answers) == 1 and not errors  # exactly one dialog
    assert str(db) in answers[0][1] and "damaged" in answers[0][1]
    assert app.store is None
    assert "unavailable" in app.panels["history"].text()
    assert not app.panels["drawing"].sample_bar.isEnabled()
    canvas = app.panels["drawing"].canvas
    draw(qtbot, canvas, seven(canvas))
    qtbot.waitUntil(lambda: app.panels["prediction"].predicted is not None, timeout=3000)
    qtbot.keyClick(app.window, Qt.Key.Key_7)
    app.window.tab_actions["Weights"].trigger()
    assert app.panels["weights"].units.size == 64
    close_app(app)
    assert db.read_bytes().startswith(b"this is not")  # untouched when the person said No


def test_corrupt_database_can_be_replaced_keeping_the_old_file(qtbot, errors, answers):
    db = database_path()
    db.write_bytes(b"junk" * 1000)
    answers.yes = True
    app = open_app(qtbot)
    assert app.store is not None
    kept = list(db.parent.glob(db.name + ".corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"junk" * 1000
    app.store.add_run(fake_result(0.9))
    app.state.runs_changed()
    app.tasks.wait(10)
    assert app.panels["history"].model.rowCount() == 1
    close_app(app)


def test_locked_database_explained_and_app_still_works(qtbot, errors, answers, short_busy_timeout):
    db = database_path()
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO t VALUES (1)")
    try:
        app = open_app(qtbot)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert len(errors) == 1 and "locked" in errors[0][1] and str(db) in errors[0][1]
    assert app.store is None and not answers
    app.drawing.show_image(np.zeros((28, 28), np.float32))
    close_app(app)
