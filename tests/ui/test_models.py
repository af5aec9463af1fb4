"""Which model reads the drawing: open, reset, corrupt files, save copies atomically, and a
finished run offered as a candidate — never swapped in without asking."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from helpers import draw, settle, vertical_line

from kpgui.core.model.run import RunRecord
from kpgui.core.model.spec import ModelSpec
from kpgui.core.storage.resources import default_model_path
from kpgui.ui import dialogs


def wait(qtbot, task, ms=15000):
    qtbot.waitUntil(lambda: not task.running, timeout=ms)


@pytest.fixture
def models(state, tasks, errors):
    """The model controller on an AppState reading with the shipped model (no window)."""
    from kpgui.ui.controllers.models import ModelController

    return ModelController(state, tasks, lambda title, text: errors.append((title, text)))


@pytest.mark.parametrize("content", [b"this is not a zip file at all", b"PK\x03\x04 truncated zip header"])
def test_corrupt_model_file_keeps_the_old_model(qtbot, models, state, errors, tmp_path, content):
    bad = tmp_path / "broken.keras"
    bad.write_bytes(content)
    old = state.model
    seen = []
    state.events.model.connect(seen.append)
    wait(qtbot, models.open_file(str(bad)))
    title, text = errors[0]
    assert title == "Cannot open model", errors
    assert "broken.keras" in text and "stays in use" in text, text
    assert state.model is old and seen == [], "a broken file replaced the model"


# The window tests below share one window (`shared_app`): each leaves it reading with the
# shipped model and no candidate, as it found it.


def test_open_model_and_reset_to_default(qtbot, shared_app, errors, model_copy_path):
    app = shared_app
    wait(qtbot, app.models.open_file(str(model_copy_path)))
    assert app.state.predictor.path == model_copy_path
    assert app.state.model.source == "opened other.keras"
    next(a for a in app.window.actions() if a.text() == "&Reset to default").trigger()
    qtbot.waitUntil(lambda: app.state.model.source == "shipped model", timeout=10000)
    assert app.state.predictor.path == default_model_path()
    assert errors == []


def test_a_later_open_supersedes_a_slower_earlier_one(qtbot, models, state, model_copy_path, monkeypatch):
    """A slow load finishing last must not replace the newer choice."""
    import threading

    from kpgui.ui.controllers import models as module

    gate = threading.Event()
    real = module._load

    def slow_for_small(path, task=None):
        if path == str(model_copy_path):
            gate.wait(10)
        return real(path, task)

    monkeypatch.setattr(module, "_load", slow_for_small)
    first = models.open_file(str(model_copy_path))
    second = models.reset_to_default()
    wait(qtbot, second)
    gate.set()
    wait(qtbot, first)  # its result (had it not been dropped) is delivered before it ends
    assert state.model.source == "shipped model", "the older, slower load replaced the newer choice"


def test_save_as_writes_model_and_card_and_a_failure_leaves_the_old_file(
    qtbot, shared_app, errors, tmp_path, monkeypatch
):
    app = shared_app
    target = tmp_path / "mine.keras"
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(target))
    next(a for a in app.window.actions() if a.text() == "&Save model as…").trigger()
    qtbot.waitUntil(lambda: target.with_suffix(".json").is_file(), timeout=10000)
    assert target.read_bytes() == default_model_path().read_bytes()
    before = target.read_bytes()

    # Now the disk is "full": the copy fails half way; the old file must be untouched.
    from kpgui.core.storage import saving

    def full_disk(src, dst, *a, **k):
        with open(dst, "wb") as f:
            f.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(saving.shutil, "copyfile", full_disk)
    wait(qtbot, app.models.save_file(str(default_model_path()), str(target)))
    assert errors and errors[-1][0] == "Cannot save model"
    assert "unchanged" in errors[-1][1]
    assert target.read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no temp file left


def _outcome(model_path, kind="train", acc=0.93, run_id=7, personal=None) -> RunRecord:
    return RunRecord(
        kind=kind,
        name=None,
        status="finished",
        spec=ModelSpec(hidden=(64,)),
        epochs_run=2,
        history={"loss": [0.5, 0.3]},
        test_accuracy=acc,
        test_loss=0.3,
        wall_time=3.0,
        samples_per_second=900.0,
        train_samples=12000,
        started_at="2026-11-23T10:00:00",
        model_path=str(model_path),
        id=run_id,
        personal=personal,
    )


def test_a_worse_run_is_offered_not_installed(
    qtbot, shared_app, worse_model_path, tmp_path, mnist_slice, monkeypatch
):
    monkeypatch.setenv("KPGUI_MNIST", str(mnist_slice[0]))  # measured on 2 000 real test digits
    app = shared_app
    canvas = app.panels["drawing"].canvas
    draw(qtbot, canvas, vertical_line(canvas))
    settle(qtbot, app)
    shipped = app.state.model
    bar = app.panels["candidate"]
    assert not bar.isVisible()
    app.training.offer(_outcome(worse_model_path))
    qtbot.waitUntil(
        lambda: app.state.candidate is not None and app.state.candidate.comparison is not None, timeout=20000
    )
    assert bar.isVisible()
    assert app.state.model is shipped  # not swapped without asking
    c = app.state.candidate.comparison
    assert c.mnist[0] > c.mnist[1]  # the shipped model is better on MNIST
    assert not bar.keep_button.isDefault() and bar.discard_button.isDefault()  # Enter discards
    assert "MNIST test" in bar.numbers.text() and "your drawing" in bar.numbers.text()
    assert "none saved yet" in bar.numbers.text()
    bar.discard_button.click()
    assert app.state.candidate is None and app.state.model is shipped and not bar.isVisible()

    # Keeping one installs it; Reset to default brings the shipped one back.
    app.training.offer(_outcome(worse_model_path))
    qtbot.waitUntil(
        lambda: app.state.candidate is not None and app.state.candidate.comparison is not None, timeout=20000
    )
    bar.keep_button.click()
    assert app.state.predictor.path == worse_model_path
    assert app.state.model.run_id == 7 and "run 7" in app.state.model.source
    wait(qtbot, app.models.reset_to_default())
    assert app.state.model.source == "shipped model"


def test_a_better_run_is_suggested_and_personal_numbers_need_enough_digits(
    qtbot, shared_app, tmp_path, mnist_slice, monkeypatch
):
    monkeypatch.setenv("KPGUI_MNIST", str(mnist_slice[0]))  # measured on 2 000 real test digits
    app = shared_app
    better = tmp_path / "better.keras"
    shutil.copy(default_model_path(), better)
    shutil.copy(default_model_path().with_suffix(".json"), better.with_suffix(".json"))
    personal = {"held_out_count": 3, "personal_before": 0.5, "personal_after": 0.5}
    app.training.offer(_outcome(better, kind="finetune", personal=personal))
    qtbot.waitUntil(
        lambda: app.state.candidate is not None and app.state.candidate.comparison is not None, timeout=20000
    )
    bar = app.panels["candidate"]
    assert bar.keep_button.isDefault()  # same accuracy as the current model: not worse
    assert "too few to judge (3" in bar.numbers.text()
    assert np.isclose(app.state.candidate.comparison.mnist[0], app.state.candidate.comparison.mnist[1])
    bar.discard_button.click()
    assert app.state.candidate is None and not bar.isVisible()
