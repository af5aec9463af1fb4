"""Lesson files and their tasks, without a window: the built-in tour validates, a bad file is
one clear message naming its place, and each task is recognised from the state's events."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kpgui.core.lessons.checks import TaskWatch, overfitting_epochs
from kpgui.core.lessons.files import (
    CONTROLS,
    FORMAT,
    KNOWN_TABS,
    MAX_BYTES,
    TASKS,
    LessonError,
    Task,
    builtin_lessons,
    load_lesson,
    parse_lesson,
)
from kpgui.core.lessons.progress import Progress
from kpgui.core.model.options import BY_NAME
from kpgui.core.model.run import RunRecord
from kpgui.core.model.spec import ModelSpec
from kpgui.core.reading.confidence import Reading
from kpgui.core.state import AppState, Drawing, SweepProgress
from kpgui.core.training.sweep import Sweep


def outcome(status: str = "finished", history: dict | None = None, **spec) -> RunRecord:
    """A RunRecord as the training process sends it (plain data)."""
    return RunRecord(
        kind="train",
        name=None,
        status=status,
        spec=ModelSpec(**spec),
        epochs_run=len((history or {}).get("loss", [1])),
        history=history or {"loss": [1.0], "val_loss": [1.0]},
        test_accuracy=0.9,
        test_loss=0.3,
        wall_time=1.0,
        samples_per_second=1000.0,
        train_samples=1000,
        started_at="2026-01-01T00:00:00",
    )


def lesson_bytes(**step_changes) -> bytes:
    step = {
        "title": "A step",
        "text": "Some <b>text</b>.",
        "tab": "Training",
        "form": {"epochs": 3, "hidden": [128]},
        "highlight": ["epochs"],
        "task": {"event": "run_finished", "text": "Train once."},
    }
    step.update(step_changes)
    step = {k: v for k, v in step.items() if v is not None}
    return json.dumps({"format": FORMAT, "title": "Mine", "steps": [step]}).encode()


# -- the built-in lessons ---------------------------------------------------------------------------


def test_the_builtin_lessons_all_validate_and_follow_the_primer():
    lessons = builtin_lessons()
    tour = next(lesson for lesson in lessons if lesson.id == "keras-tour")
    titles = [s.title.lower() for s in tour.steps]
    for word in (
        "one weight",
        "layers",
        "loss",
        "fit",
        "overfitting",
        "early stopping",
        "learning rate",
        "handwriting",
    ):
        assert any(word in t for t in titles), word
    for lesson in lessons:
        for step in lesson.steps:
            assert step.text and (step.tab == "" or step.tab in KNOWN_TABS)
            assert set(step.highlight) <= set(CONTROLS)
            spec = step.spec()
            if spec is not None:  # every form value is one the option declaration allows
                assert spec.errors() == {}
                for name, value in step.form.items():
                    assert BY_NAME[name].check(value) is None
            assert step.task is not None and step.task.event in TASKS
    # the tuning step uses the existing SGD 1e-6 / 0.01 / 1 preset
    tuning = next(s for s in tour.steps if "learning rate" in s.title.lower())
    assert tuning.task.event == "sweep_finished" and "sweep_preset" in tuning.highlight


def test_the_builtin_runs_are_small():
    """Every run a built-in step sets up is small (laptop CPU: well under a minute)."""
    for lesson in builtin_lessons():
        for step in lesson.steps:
            spec = step.spec()
            if spec is not None:
                assert 0 < spec.train_samples <= 6000 and spec.epochs <= 40
                assert spec.train_samples * spec.epochs <= 40_000 and spec.weights < 500_000


# -- bad files: one clear message each --------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, words",
    [
        (
            lesson_bytes(task={"event": "run_overfit", "text": "x"}),
            ["step 1", "task", "run_overfit", "run_overfits"],
        ),
        (lesson_bytes(form={"learning_rate": -1}), ["step 1", "form", "learning_rate", "above 0"]),
        (lesson_bytes(form={"epoch": 3}), ["step 1", "form", "'epoch'", "epochs"]),
        (lesson_bytes(form={"optimizer": "sgdd"}), ["form", "optimizer", "sgd, rmsprop, adam"]),
        (lesson_bytes(form={"patience": 3, "validation_split": 0}), ["patience", "validation split"]),
        (lesson_bytes(text=None), ["step 1", "'text'", "missing"]),
        (lesson_bytes(text="   "), ["step 1", "text", "empty"]),
        (lesson_bytes(text="<img src='x.png'>"), ["text", "<img>", "not allowed"]),
        (lesson_bytes(text="<b onclick='x'>hi</b>"), ["text", "attributes"]),
        (lesson_bytes(tab="Trainig"), ["tab", "'Trainig'", "Training"]),
        (lesson_bytes(highlight=["start_buton"]), ["highlight", "start_buton"]),
        (lesson_bytes(task={"event": "sample_saved", "text": "x", "count": 0}), ["count", "1 to"]),
        (
            lesson_bytes(task={"event": "drawing_read", "text": "x", "spec": {"epochs": 2}}),
            ["spec", "run tasks"],
        ),
        (
            b'{"format": "kpgui-lesson/1",\n "title": "x",\n "steps": [\n  {"title": "a" "text": "b"}]}',
            ["line 4", "not valid JSON"],
        ),
        (b'{"format": "kpgui-lesson/1", "title": "caf\xe9"}', ["line 1", "not UTF-8"]),
        (b"[" * 5000 + b"]" * 5000, ["nested 5,000 levels", "at most 8"]),
        (json.dumps({"title": "x", "steps": []}).encode(), ["format", FORMAT]),
        (json.dumps({"format": FORMAT, "title": "x", "steps": []}).encode(), ["steps", "at least one"]),
        (
            json.dumps(
                {"format": FORMAT, "title": "x", "steps": [{"title": "a", "text": "b"}], "colour": 1}
            ).encode(),
            ["unknown field 'colour'"],
        ),
    ],
)
def test_a_bad_lesson_is_one_message_naming_the_place(raw, words):
    with pytest.raises(LessonError) as info:
        parse_lesson(raw, "mine.json")
    message = str(info.value)
    assert message.startswith("mine.json")
    for word in words:
        assert word in message, (word, message)
    assert "Traceback" not in message and "\n" not in message


def test_a_file_too_big_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.json"
    path.write_bytes(lesson_bytes()[:-1] + b" " * (MAX_BYTES + 10) + b"}")
    with pytest.raises(LessonError, match="huge.json is .* too big"):
        load_lesson(path)
    with pytest.raises(LessonError, match="cannot be read"):
        load_lesson(tmp_path / "missing.json")


def test_a_good_file_loads_with_its_form_checked_and_typed(tmp_path):
    path = tmp_path / "My Class.json"
    path.write_bytes(lesson_bytes(form={"hidden": "64, 32", "learning_rate": 1, "epochs": 2.0}))
    lesson = load_lesson(path)
    assert lesson.id == "my-class" and lesson.title == "Mine"
    spec = lesson.steps[0].spec()
    assert spec == ModelSpec(hidden=(64, 32), learning_rate=1.0, epochs=2)
    assert isinstance(spec.epochs, int) and isinstance(spec.learning_rate, float)


# -- recognising the tasks ----------------------------------------------------------------------------


def test_overfitting_epochs_counts_val_loss_rising_while_loss_falls():
    history = {"loss": [1.0, 0.8, 0.6, 0.5, 0.55, 0.4], "val_loss": [1.0, 0.9, 0.95, 1.1, 1.2, float("nan")]}
    # epoch 2: val up, loss down (yes); 3: yes; 4: both up (no); 5: NaN (no)
    assert overfitting_epochs(history) == 2
    assert overfitting_epochs({"loss": [1.0, 0.5]}) == 0


class Done(list):
    """Calls of on_done, holding its TaskWatch: the state's events keep bound methods weakly, so
    a watch lives as long as its owner keeps it (the lessons controller keeps its own)."""

    watch: TaskWatch


def watch(state, task: Task, **kwargs) -> Done:
    done = Done()
    done.watch = TaskWatch(state, task, lambda: done.append(True), **kwargs)
    return done


def test_run_tasks_are_recognised_from_run_ended():
    state = AppState()
    overfits = watch(state, Task("run_overfits", "x"))
    diverged = watch(state, Task("run_diverged", "x"))
    early = watch(state, Task("early_stopped", "x"))
    tanh = watch(state, Task("run_finished", "x", spec={"activation": "tanh"}))
    twice = watch(state, Task("run_finished", "x", count=2))
    state.events.run_ended.emit(outcome(history={"loss": [1.0, 0.9, 0.8], "val_loss": [1.0, 1.1, 0.9]}))
    assert (overfits, diverged, early, tanh, twice) == ([], [], [], [], [])
    state.events.run_ended.emit(
        outcome(
            "early stopped",
            activation="tanh",
            history={"loss": [1.0, 0.9, 0.8, 0.7], "val_loss": [1.0, 1.1, 1.2, 1.3]},
        )
    )
    assert overfits == early == tanh == twice == [True] and diverged == []
    state.events.run_ended.emit(outcome("diverged"))
    state.events.run_ended.emit(outcome("early stopped", activation="tanh"))
    assert diverged == [True] and early == tanh == twice == [True]  # each fires once


def test_a_sweep_task_needs_a_sweep_that_ran_all_its_values():
    state = AppState()
    done = watch(state, Task("sweep_finished", "x"))
    sweep = Sweep("learning_rate", (1e-6, 0.01, 1.0), ModelSpec(optimizer="sgd"))
    state.set_sweep(SweepProgress(sweep, 1, (outcome(), None, None), ("a", "b", "c")))
    state.set_sweep(SweepProgress(sweep, 1, (outcome(), None, None), ("a", "b", "c"), cancelled=True))
    assert done == []
    state.set_sweep(SweepProgress(sweep, 3, (outcome(),) * 3, ("a", "b", "c")))
    assert done == [True]


def test_samples_count_from_where_the_step_began():
    state = AppState()
    stored = [5]
    done = watch(state, Task("sample_saved", "x", count=2), sample_count=lambda: stored[0])
    stored[0] = 6
    state.samples_changed()
    assert done == []
    stored[0] = 5  # one deleted: back to none new
    state.samples_changed()
    stored[0] = 7
    state.samples_changed()
    assert done == [True]


def test_a_drawing_read_needs_a_sure_reading_of_a_drawn_digit():
    state = AppState()
    done = watch(state, Task("drawing_read", "x", confidence=0.9))
    probs = np.full(10, 0.01)
    sure = Reading(probs, 7, 0.95, 1, True)
    state.events.reading.emit(sure)  # a blank canvas (e.g. a picture shown): not drawn
    state._drawing = Drawing(np.ones((28, 28), np.float32), strokes=(np.zeros((2, 2)),))
    state.events.reading.emit(Reading(probs, 7, 0.85, 1, True))
    state.events.reading.emit(Reading(probs, 7, 0.95, 1, False))
    state.events.reading.emit(None)
    assert done == []
    state.events.reading.emit(sure)
    assert done == [True]


def test_the_one_weight_lesson_reports_divergence_on_its_event():
    state = AppState()
    done = watch(state, Task("one_weight_diverged", "x"))
    state.events.one_weight.emit("converged")
    assert done == []
    state.events.one_weight.emit("diverged")
    assert done == [True]


def test_progress_survives_its_text_and_ignores_damage():
    tour = builtin_lessons()[0]
    p = Progress()
    assert p.first_open(tour) == 0
    p.mark(tour.id, 0)
    p.mark(tour.id, 1)
    again = Progress.from_text(p.to_text())
    assert again.of(tour.id) == {0, 1} and again.first_open(tour) == 2
    for bad in ("{", "[1, 2]", '{"x": "nope"}', '{"x": [true, -1, 99999, "2"]}', None, 12):
        assert Progress.from_text(bad).of("x") == frozenset()


def test_the_readme_example_lesson_is_a_valid_lesson():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    section = readme.split("## Lessons", 1)[1]
    example = section.split("```json", 1)[1].split("```", 1)[0]
    lesson = parse_lesson(example.encode(), "README")
    assert lesson.id == "my-class" and lesson.steps[0].task.event == "run_diverged"
    for event in TASKS:  # the README's table lists every task
        assert f"| `{event}` |" in section


def test_a_problem_names_the_line_of_its_object():
    good = {"title": "One", "text": "Fine."}
    bad = {"title": "Two", "text": "Fine.", "task": {"event": "run_diverge", "text": "x"}}
    raw = json.dumps({"format": FORMAT, "title": "Lines", "steps": [good, bad]}, indent=1).encode()
    lines = raw.decode().splitlines()
    task_line = 1 + next(i for i, t in enumerate(lines) if '"task"' in t)  # the task's { is here
    with pytest.raises(LessonError) as info:
        parse_lesson(raw, "lines.json")
    assert str(info.value).startswith(f"lines.json, line {task_line}, step 2 ('Two'), task, event:")
    form = json.dumps(
        {
            "format": FORMAT,
            "title": "L",
            "steps": [{"title": "A", "text": "t", "form": {"epochs": 3, "dropout": 2}}],
        },
        indent=1,
    ).encode()
    form_line = 1 + next(i for i, t in enumerate(form.decode().splitlines()) if '"form"' in t)
    with pytest.raises(LessonError, match=f"line {form_line}, step 1 \\('A'\\), form: dropout"):
        parse_lesson(form, "f.json")
