""" "Show as Keras code…" in the window: the form (Model menu), a sweep, a run in History; the
dialog copies and saves the script; and the One weight tab is in the window."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from test_history import fake_result

from kpgui.core.lessons import one_weight as ow
from kpgui.core.lessons.code import keras_script
from kpgui.core.model.spec import ModelSpec
from kpgui.ui import dialogs


@pytest.fixture
def shown(monkeypatch):
    """Code dialogs recorded as (title, code, suggested file name, save) instead of shown."""
    calls: list[tuple] = []
    monkeypatch.setattr(
        dialogs,
        "show_code",
        lambda parent, title, code, suggestion, save: calls.append((title, code, suggestion, save)),
    )
    return calls


def _menu_action(app, text: str):
    return next(a for a in app.window.menus["Model"].actions() if a.text().replace("&", "") == text)


def test_the_forms_settings_and_a_sweep_as_keras_code(qtbot, shared_app, errors, shown, tmp_path):
    app = shared_app  # the tests of this module use independent parts of one window
    spec = ModelSpec(hidden=(128,), optimizer="adam", learning_rate=0.002, epochs=3, seed=5)
    app.panels["training"].set_spec(spec)
    _menu_action(app, "Show run as Keras code…").trigger()
    title, code, suggestion, save = shown[-1]
    assert code == keras_script(
        app.panels["training"].spec(), data_path=app.data.path(), title="The Training form's settings"
    )
    assert "Adam(learning_rate=0.002)" in code and "keras.layers.Dense(128" in code
    saved = save(str(tmp_path / suggestion))
    assert Path(saved).read_text() == code

    app.panels["sweep"].set_fields("learning_rate", (0.1, 0.01))
    _menu_action(app, "Show sweep as Keras code…").trigger()
    assert "for learning_rate in [0.1, 0.01]:" in shown[-1][1]
    app.panels["sweep"].values_edit.setText("fast")
    _menu_action(app, "Show sweep as Keras code…").trigger()
    assert errors and errors[-1][0] == "Cannot write the code" and len(shown) == 2


def test_a_run_in_history_as_keras_code(qtbot, shared_app, shown):
    app = shared_app
    run_id = app.store.add_run(
        dataclasses.replace(fake_result(0.95, hidden=(64, 32), optimizer="sgd"), name="mine")
    )
    app.state.runs_changed()  # what a run's end does: History reads the runs again
    app.tasks.wait(10)
    history = app.panels["history"]
    history.table.clearSelection()
    assert not history.code_button.isEnabled()
    history.select_run(run_id)
    qtbot.mouseClick(history.code_button, Qt.MouseButton.LeftButton)
    title, code, suggestion, _save = shown[-1]
    assert title == f"Run {run_id} as Keras code" and suggestion == f"kpgui_run_{run_id}.py"
    assert f"kpgui run {run_id} (mine)" in code and "nesterov=True" in code
    compile(code, suggestion, "exec")


def test_the_code_dialog_copies_and_saves(qtbot, monkeypatch, tmp_path):
    code = keras_script(ModelSpec(hidden=(16,)))
    target = tmp_path / "run.py"
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(target))
    from kpgui.core.lessons.code import save_script

    dlg = dialogs.CodeDialog(None, "Code", code, "run.py", lambda p: save_script(p, code))
    qtbot.addWidget(dlg)
    assert dlg.text.toPlainText() == code and dlg.text.isReadOnly()
    qtbot.mouseClick(dlg.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == code
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert target.read_text() == code and "Saved to" in dlg.note.text()

    failed: list = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: failed.append(title))
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(tmp_path / "missing" / "x" / "r.py"))

    def refuse(path):
        raise PermissionError(13, "Permission denied", path)

    dlg2 = dialogs.CodeDialog(None, "Code", code, "run.py", refuse)
    qtbot.addWidget(dlg2)
    qtbot.mouseClick(dlg2.save_button, Qt.MouseButton.LeftButton)
    assert failed == ["File problem"]


def test_the_one_weight_tab_is_in_the_window(qtbot, shared_app):
    app = shared_app
    panel = app.panels["one_weight"]
    app.window.show_tab("One weight")
    qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    row = ow.run(ow.Settings(iterations=1))[0]
    assert panel.table.item(0, 4).text() == repr(row.weight)
