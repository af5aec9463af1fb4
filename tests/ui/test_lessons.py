"""The Lessons tab in the real window: a step arranges the window (tab, form, highlighted
controls), its task completes on the matching event and the next step is offered, progress
survives a restart, and a bad lesson file is one dialog."""

from __future__ import annotations

import json

import pytest
from helpers import type_settings
from PySide6.QtCore import Qt

from kpgui.core.lessons.files import FORMAT, builtin_lessons
from kpgui.core.model.run import RunRecord
from kpgui.core.model.spec import ModelSpec
from kpgui.ui import dialogs
from tests.ui.conftest import close_app, open_app

PENDING_TABS: set[str] = set()  # tabs a lesson may name before they exist (none now)


def outcome(status: str = "finished", **spec) -> RunRecord:
    return RunRecord(
        kind="train",
        name=None,
        status=status,
        spec=ModelSpec(**spec),
        epochs_run=3,
        history={"loss": [1.0, 0.8, 0.7], "val_loss": [1.0, 0.9, 0.85]},
        test_accuracy=0.9,
        test_loss=0.3,
        wall_time=1.0,
        samples_per_second=1e3,
        train_samples=6000,
        started_at="2026-01-01T00:00:00",
    )


def click_step(qtbot, panel, row: int) -> None:
    rect = panel.steps.visualItemRect(panel.steps.item(row))
    qtbot.mouseClick(panel.steps.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_the_builtin_lessons_only_open_tabs_the_window_has(shared_app):
    app = shared_app
    titles = set(app.window.tab_titles())
    assert "Lessons" in titles
    for lesson in builtin_lessons():
        for step in lesson.steps:
            assert step.tab == "" or step.tab in titles | PENDING_TABS, step.tab
            assert set(step.highlight) <= set(app.lessons.controls)


def test_a_step_arranges_the_window_and_its_task_completes_then_offers_the_next(qtbot, shared_app):
    app = shared_app  # the tests here share a window; each works in the step it chooses
    panel, form, window = app.panels["lessons"], app.panels["training"], app.window
    window.show_tab("Lessons")
    form.set_spec(ModelSpec(hidden=(32, 32), epochs=9))
    click_step(qtbot, panel, 1)  # "Layers and activations"
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Training"
    spec = form.spec()
    assert spec.hidden == (128,) and spec.train_samples == 6000 and spec.epochs == 3
    assert form.errors() == {} and form.start_button.isEnabled()
    assert set(app.lessons.highlighted) == {"hidden", "activation"}
    assert form.fields["hidden"].property("lessonHighlight") is True
    assert "Layers and activations" in panel.title.text()
    assert "tanh" in panel.task.text() and "Done" not in panel.task_status.text()

    app.state.events.run_ended.emit(outcome(activation="relu"))  # not what the task asks
    assert "Done" not in panel.task_status.text()
    app.state.events.run_ended.emit(outcome(activation="tanh"))
    assert "Done" in panel.task_status.text()
    assert panel.steps.item(1).text().startswith("✓")
    assert panel.next_button.isEnabled() and panel.next_button.isDefault()
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert "Loss, optimizer and metrics" in panel.title.text()
    assert set(app.lessons.highlighted) == {"optimizer", "learning_rate"}
    assert form.fields["hidden"].property("lessonHighlight") is False  # the old frame is gone

    app.lessons.clear_highlight()
    assert app.lessons.highlighted == {}


def test_progress_is_remembered_across_a_rebuilt_app(qtbot, errors, answers):
    first = open_app(qtbot)
    panel = first.panels["lessons"]
    click_step(qtbot, panel, 5)  # "Early stopping"
    first.state.events.run_ended.emit(outcome("early stopped", train_samples=1000, patience=3))
    assert "Done" in panel.task_status.text()
    close_app(first)

    second = open_app(qtbot)
    try:
        view = second.lessons.view()
        assert view.done == {5} and view.step == 5
        panel = second.panels["lessons"]
        assert panel.steps.item(5).text().startswith("✓")
        assert not panel.steps.item(4).text().startswith("✓")
        assert "Done" in panel.task_status.text()
    finally:
        close_app(second)


def test_a_teachers_lesson_file_opens_from_the_file_menu(qtbot, shared_app, tmp_path, monkeypatch):
    app = shared_app
    path = tmp_path / "class.json"
    path.write_text(
        json.dumps(
            {
                "format": FORMAT,
                "title": "Our class",
                "steps": [
                    {"title": "Welcome", "text": "Nothing to do here but read."},
                    {
                        "title": "Tiny",
                        "text": "A <i>tiny</i> run.",
                        "tab": "Training",
                        "form": {"hidden": [16], "epochs": 1, "train_samples": 2000},
                        "highlight": ["start"],
                        "task": {"event": "run_finished", "text": "Train it."},
                    },
                    {
                        "title": "Save",
                        "text": "Keep two digits.",
                        "tab": "My digits",
                        "task": {"event": "sample_saved", "text": "Save two samples.", "count": 2},
                    },
                ],
            }
        )
    )
    monkeypatch.setattr(dialogs, "ask_open_path", lambda *a: str(path))
    next(a for a in app.window.actions() if a.text() == "Ope&n lesson…").trigger()
    panel = app.panels["lessons"]
    assert panel.lesson_combo.currentText() == "Our class"
    assert app.window.tabs.tabText(app.window.tabs.currentIndex()) == "Lessons"
    assert panel.steps.item(0).text().startswith("✓") and not panel.task_box.isVisibleTo(panel)
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert app.window.tabs.tabText(app.window.tabs.currentIndex()) == "Training"
    assert app.panels["training"].spec().hidden == (16,)
    assert set(app.lessons.highlighted) == {"start"}
    app.state.events.run_ended.emit(outcome())
    assert "Done" in panel.task_status.text()
    app.lessons.choose_lesson(0)  # back to the built-in lesson, for the other tests of this window
    app.lessons.clear_highlight()


@pytest.mark.parametrize(
    "content, words",
    [
        (
            b'{"format": "kpgui-lesson/1", "title": "x", "steps": [{"title": "a", "text": "b", '
            b'"task": {"event": "run_overfit", "text": "c"}}]}',
            ["run_overfit", "step 1", "task"],
        ),
        (
            b'{"format": "kpgui-lesson/1", "title": "x", "steps": [{"title": "a", "text": "b", '
            b'"form": {"epochs": 0}}]}',
            ["epochs", "from 1 to 1,000"],
        ),
        (b'{"format": "kpgui-lesson/1", "title": "x", "steps": [{"title": "a"}]}', ["'text'", "missing"]),
        (b'{"format": "kpgui-lesson/1",\n\n "title": "x" "steps": []}', ["line 3", "not valid JSON"]),
        (b"\xff\xfe{}", ["not UTF-8"]),
    ],
)
def test_a_bad_lesson_file_is_one_dialog_and_changes_nothing(
    shared_app, errors, tmp_path, monkeypatch, content, words
):
    app = shared_app  # a refused file changes nothing: one window for all of them
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    before = (app.panels["training"].spec(), len(app.lessons.lessons))
    monkeypatch.setattr(dialogs, "ask_open_path", lambda *a: str(path))
    qt_button = app.panels["lessons"].open_button
    qt_button.click()
    assert len(errors) == 1
    title, text = errors[0]
    assert title == "Cannot open the lesson" and "bad.json" in text
    for word in words:
        assert word in text, (word, text)
    assert (app.panels["training"].spec(), len(app.lessons.lessons)) == before


@pytest.mark.slow
def test_a_real_tiny_run_completes_a_run_task(qtbot, app, errors, tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(
        json.dumps(
            {
                "format": FORMAT,
                "title": "Tiny",
                "steps": [
                    {
                        "title": "Train",
                        "text": "Go.",
                        "tab": "Training",
                        "form": {"hidden": [16], "epochs": 1, "train_samples": 2000, "optimizer": "sgd"},
                        "task": {"event": "run_finished", "text": "Train it.", "spec": {"optimizer": "sgd"}},
                    }
                ],
            }
        )
    )
    assert app.lessons.open_file(str(path))
    panel = app.panels["lessons"]
    qtbot.mouseClick(app.panels["training"].start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Done" in panel.task_status.text(), timeout=120000)
    assert errors == [] and app.lessons.view().done == {0}


def test_the_highlight_goes_away_by_itself(qtbot, shared_app, monkeypatch):
    app = shared_app
    from kpgui.ui.controllers import lessons as controller

    monkeypatch.setattr(controller, "HIGHLIGHT_MS", 50)
    form = app.panels["training"]
    before = form.fields["optimizer"].styleSheet()
    app.lessons.choose_step(2)  # "Loss, optimizer and metrics"
    assert form.fields["optimizer"].property("lessonHighlight") is True
    assert "ff9800" in form.fields["optimizer"].styleSheet()
    qtbot.waitUntil(lambda: not app.lessons.highlighted, timeout=2000)
    assert form.fields["optimizer"].property("lessonHighlight") is False
    assert form.fields["optimizer"].styleSheet() == before


def test_the_one_weight_step_completes_when_the_learner_makes_the_loop_diverge(qtbot, shared_app):
    app = shared_app
    from kpgui.core.lessons import one_weight as ow

    panel, one = app.panels["lessons"], app.panels["one_weight"]
    click_step(qtbot, panel, 0)  # "One weight"
    assert app.window.tabs.tabText(app.window.tabs.currentIndex()) == "One weight"
    type_settings(qtbot, one, ow.Settings(weight=0.5, goal=0.8, input=2.0, alpha=0.1, iterations=20))
    for _ in range(5):  # converging: the task waits
        qtbot.mouseClick(one.step_button, Qt.MouseButton.LeftButton)
    assert "Done" not in panel.task_status.text()
    type_settings(qtbot, one, ow.Settings(weight=0.5, goal=0.8, input=2.0, alpha=1.0, iterations=20))
    for _ in range(3):
        qtbot.mouseClick(one.step_button, Qt.MouseButton.LeftButton)
    assert "Done" in panel.task_status.text()
    type_settings(qtbot, one, ow.Settings())  # the loop's own start again, for the shared window
