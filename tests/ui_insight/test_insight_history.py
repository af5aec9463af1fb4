"""Run history: runs kept across restarts, overlays per ticked run, loading, deleting, and a
damaged or locked database that is explained while the app keeps working."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from insight_helpers import close_window, fake_result, open_window
from PySide6.QtCore import Qt

from kpgui.core.store import Store
from kpgui.paths import database_path
from kpgui.ui.insight import dialogs
from kpgui.ui.insight.runs_view import COLUMNS


def test_finished_runs_are_recorded_and_persist_across_restart(qtbot, monkeypatch):
    # A finished run as the window reports it; its "model" saves a copy of the shipped one, so
    # this test needs no TensorFlow (the fine-tuning test records a real Keras run).
    import shutil

    from kpgui.core import saving
    from kpgui.core.resources import default_model_path

    monkeypatch.setattr(saving, "_versions", lambda: {"kpgui": "test"})
    result = fake_result(0.9731, epochs=4, hidden=(512, 512))
    result.model = SimpleNamespace(save=lambda path: shutil.copy(default_model_path(), path))

    w, ins = open_window(qtbot)
    w.training_finished.emit(result)  # what the window emits after every run
    ins.wait_saves()
    qtbot.waitUntil(lambda: ins.runs_view.model.rowCount() == 1, timeout=5000)
    close_window(w)

    # A new window on the same data dir (a restart) shows the run with its history.
    w2, ins2 = open_window(qtbot)
    runs = ins2.runs_view.model.runs
    assert len(runs) == 1
    run = runs[0]
    assert run.spec.hidden == (512, 512)
    assert run.history["loss"] == result.history["loss"]
    assert run.test_accuracy == result.test_accuracy
    assert run.model_path and run.kind == "train"

    # Its model can be loaded into the predictor.
    ins2.runs_view.select_run(run.id)
    ins2.runs_view.load_selected()
    assert w2.predictor.path == Path(run.model_path)
    assert w2.predictor.layers[0].kernel.shape[0] == 784

    # And deleted (after confirmation), with its model file.
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda *a: True)
    ins2.runs_view.select_run(run.id)
    ins2.runs_view.delete_selected()
    assert ins2.runs_view.model.rowCount() == 0
    assert ins2.store.list_runs() == []
    assert not Path(run.model_path).exists()
    close_window(w2)


def test_ticked_runs_overlay_one_curve_set_each(qtbot):
    store = Store.open_default()
    ids = [store.add_run(fake_result(acc, hidden=h), name=f"r{i}")
           for i, (acc, h) in enumerate([(0.97, (64,)), (0.99, (512, 512)), (0.95, (32,))])]
    w, ins = open_window(qtbot, store)
    view, plots = ins.runs_view, w.training_plots
    assert view.model.rowCount() == 3
    assert view.model.columnCount() == len(COLUMNS)

    view.set_ticked(ids[0])
    view.set_ticked(ids[2])
    assert sorted(plots.overlay_keys) == sorted(view.overlay_key(i) for i in (ids[0], ids[2]))
    # One colour per ticked run, shown in the table as the legend swatch.
    assert len(set(view.model.colours.values())) == 2
    view.set_ticked(ids[0], False)
    assert plots.overlay_keys == [view.overlay_key(ids[2])]
    view.untick_all()
    assert plots.overlay_keys == []

    # Sortable by test accuracy (numbers, not text).
    acc_col = COLUMNS.index("Test acc.")
    view.table.sortByColumn(acc_col, Qt.SortOrder.DescendingOrder)
    shown = [view.proxy.index(r, acc_col).data() for r in range(3)]
    assert shown == ["99.00 %", "97.00 %", "95.00 %"]
    hidden_col = COLUMNS.index("Hidden")
    assert {view.proxy.index(r, hidden_col).data() for r in range(3)} == {"64", "512-512", "32"}
    close_window(w)


def test_corrupt_database_explained_and_app_still_works(qtbot, monkeypatch):
    db = database_path()
    db.write_bytes(b"this is not an SQLite database, just junk " * 50)
    asked = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text)
                        or False)
    errors = []
    monkeypatch.setattr(dialogs, "show_error", lambda *a: errors.append(a))

    w, ins = open_window(qtbot)
    assert len(asked) == 1 and not errors  # exactly one dialog
    assert str(db) in asked[0] and "damaged" in asked[0]
    assert ins.store is None and ins.runs_view is None and ins.samples_view is None
    assert "unavailable" in ins.panels["History"].text()
    assert not ins.collect_bar.isEnabled()
    # Everything else works: drawing predicts, evaluation/weights panels exist, keys don't crash.
    from insight_helpers import draw, seven

    draw(qtbot, w.canvas, seven(w.canvas))
    qtbot.waitUntil(lambda: w.prediction_view.predicted is not None, timeout=3000)
    qtbot.keyClick(w, Qt.Key.Key_7)
    ins.view_actions["Weights"].trigger()  # the tab renders when opened
    assert ins.weights_view.units.size == 64
    close_window(w)
    assert db.read_bytes().startswith(b"this is not")  # untouched when the person said No


def test_corrupt_database_can_be_replaced_keeping_the_old_file(qtbot, monkeypatch):
    db = database_path()
    db.write_bytes(b"junk" * 1000)
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda *a: True)
    w, ins = open_window(qtbot)
    assert ins.store is not None and ins.runs_view is not None
    kept = list(db.parent.glob(db.name + ".corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"junk" * 1000
    ins.store.add_run(fake_result(0.9))
    ins.runs_view.refresh()
    assert ins.runs_view.model.rowCount() == 1
    close_window(w)


def test_locked_database_explained_and_app_still_works(qtbot, monkeypatch):
    db = database_path()
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO t VALUES (1)")
    errors = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: errors.append(text))
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda *a: (_ for _ in ()).throw(AssertionError))
    try:
        w, ins = open_window(qtbot)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert len(errors) == 1 and "locked" in errors[0] and str(db) in errors[0]
    assert ins.store is None
    w.load_image_array(np.zeros((28, 28), np.float32))
    close_window(w)
