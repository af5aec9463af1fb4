"""Hostile and broken files through the window: every file action ends in one dialog naming the
file, the cause and the fix; the app keeps running with what it had. (The core's limits are in
tests/test_adversarial.py; this checks the window reports them and loses nothing.) Pictures and
models go through their controllers on an AppState; the rest through the whole window."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from kpgui.ui import dialogs
from tests.hostile import npy_claiming, png_claiming


def _deep_config_model(path):
    deep = "[" * 200_000 + "]" * 200_000
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", deep)
        z.writestr("model.weights.h5", b"")
    return path


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda p: png_claiming(p / "huge.png", 30_000, 30_000), "pixels"),
        (lambda p: npy_claiming(p / "claims.npy", (100_000, 100_000)), "pixels"),
        (lambda p: (p / "notes.png").write_text("not a picture") and p / "notes.png", "notes.png"),
    ],
)
def test_hostile_pictures_are_one_dialog_and_the_drawing_stays(qtbot, rig, errors, tmp_path, make, fragment):
    rig.drawing.show_image(np.eye(28, dtype=np.float32), "before")
    before = rig.state.drawing
    path = make(tmp_path)
    rig.drawing.import_picture(str(path))
    qtbot.waitUntil(lambda: bool(errors), timeout=10000)
    title, text = errors[0]
    assert title == "Cannot read this picture" and path.name in text and fragment in text, errors
    assert "Traceback" not in text, text
    assert rig.state.drawing is before, "a refused picture changed the drawing"


@pytest.mark.parametrize(
    "make, fragment",
    [
        (_deep_config_model, "nest"),
        (lambda p: (p.write_bytes(b"PK\x03\x04 junk"), p)[1], "zip"),
    ],
)
def test_hostile_models_are_one_dialog_and_the_model_stays(
    qtbot, state, tasks, errors, tmp_path, make, fragment
):
    from kpgui.ui.controllers.models import ModelController

    models = ModelController(state, tasks, lambda title, text: errors.append((title, text)))
    before = state.model
    path = make(tmp_path / "evil.keras")
    task = models.open_file(str(path))
    qtbot.waitUntil(lambda: not task.running, timeout=20000)
    title, text = errors[0]
    assert title == "Cannot open model" and "evil.keras" in text and "stays in use" in text, errors
    assert fragment in text.lower() and "RecursionError" not in text, text
    assert state.model is before, "a refused model replaced the one in use"


def test_a_samples_zip_bomb_is_refused_off_the_gui_thread(qtbot, shared_app, errors, tmp_path):
    app = shared_app  # a refused file changes nothing: one window for the tests that say so
    before = app.store.sample_counts()
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "|u1", "fortran_order": False, "shape": (5_000_000, 28, 28)}
        )
        z.writestr("images.npy", header.getvalue() + bytes(4 * 1024 * 1024))
        z.writestr("format.npy", b"")
    task = app.samples.import_(str(bomb))
    assert task.running  # not on the GUI thread: the window keeps drawing
    qtbot.waitUntil(lambda: not task.running, timeout=20000)
    assert errors and errors[0][0] == "Import refused" and "nothing was added" in errors[0][1]
    assert app.store.sample_counts() == before  # nothing was added


def test_a_second_fine_tune_click_is_refused_while_one_runs(qtbot, shared_app, monkeypatch):
    app = shared_app
    started = []
    fakes: list[_FakeJob] = []

    def start_job(job):
        started.append(job)
        fakes.append(_FakeJob())
        return fakes[-1]

    monkeypatch.setattr(app.tasks, "start_job", start_job)
    rng = np.random.default_rng(0)
    ids = [
        app.store.add_sample(
            i % 10, [rng.uniform(0, 300, (5, 2))], 18.0, (400, 400), rng.random((28, 28)).astype(np.float32)
        )
        for i in range(12)
    ]
    app.state.samples_changed()
    app.tasks.wait(10)  # the samples are read on a thread
    panel = app.panels["finetune"]
    panel.button.click()
    assert len(started) == 1 and app.state.training.busy
    assert not panel.button.isEnabled()
    assert app.training.finetune() is False  # a second start, however it comes, is refused
    assert len(started) == 1 and "already going" in app.window.statusBar().currentMessage()
    fakes[0].ended.emit()  # its process is gone: the shared window is idle again
    assert not app.state.training.busy and panel.button.isEnabled()
    app.store.delete_samples(ids)  # and holds no samples of this test
    app.state.samples_changed()
    app.tasks.wait(10)


class _FakeJob:
    """A training job that never reports (enough to test what the window refuses meanwhile)."""

    def __init__(self):
        from PySide6.QtCore import QObject, Signal

        class Signals(QObject):
            status = Signal(str)
            began = Signal(object)
            batch = Signal(object)
            epoch = Signal(object)
            layers = Signal(object)
            done = Signal(object)
            failed = Signal(str, str)
            ended = Signal()

        self._s = Signals()
        for name in ("status", "began", "batch", "epoch", "layers", "done", "failed", "ended"):
            setattr(self, name, getattr(self._s, name))
        self.stop_requested = False

    def stop(self):
        self.stop_requested = True

    def kill(self):
        pass


def test_experiment_files_are_bounded(qtbot, shared_app, errors, tmp_path, monkeypatch):
    app = shared_app
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"format": "kpgui-experiment/1", "junk": "x" * 400_000}))
    monkeypatch.setattr(dialogs, "ask_open_path", lambda *a: str(big))
    next(a for a in app.window.actions() if a.text() == "Open e&xperiment…").trigger()
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)  # read off the GUI thread
    assert "too big" in errors[0][1]


# -- issue 25, round two: the window's side ----------------------------------------------------------


def _save_as(app, qtbot, monkeypatch, typed):
    """File → Save model as…, the name `typed` in the dialog; the save task (or None)."""
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(typed))
    tasks = []
    real = type(app.models).save_file.__get__(app.models)
    monkeypatch.setattr(app.models, "save_file", lambda *a, **k: tasks.append(real(*a, **k)))
    next(a for a in app.window.actions() if a.text() == "&Save model as…").trigger()
    if tasks:
        qtbot.waitUntil(lambda: not tasks[0].running, timeout=10000)
    return tasks[0] if tasks else None


def test_25_1_save_as_asks_about_the_files_really_written(
    qtbot, shared_app, errors, answers, tmp_path, monkeypatch
):
    app = shared_app
    from kpgui.core.storage.resources import default_model_path

    (tmp_path / "mymodel.keras").write_bytes(b"my old model")
    (tmp_path / "mymodel.json").write_text('{"format": "kpgui-model-card/1", "mine": 1}')
    (tmp_path / "results.json").write_text('{"accuracy": "my own notes"}')
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert _save_as(app, qtbot, monkeypatch, tmp_path / "mymodel") is None  # answered No
    title, text = answers[-1]
    assert "mymodel.keras" in text and "mymodel.json" in text and "replaced" in text
    assert _save_as(app, qtbot, monkeypatch, tmp_path / "results.txt") is None
    text = answers[-1][1]
    assert "results.json" in text and "not a kpgui model card" in text
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing touched
    answers.yes = True
    _save_as(app, qtbot, monkeypatch, tmp_path / "mymodel")
    assert (tmp_path / "mymodel.keras").read_bytes() == default_model_path().read_bytes()
    assert not errors


def test_25_1_export_typed_without_suffix_asks_before_replacing_the_npz(
    qtbot, shared_app, errors, answers, tmp_path, monkeypatch
):
    app = shared_app
    backup = tmp_path / "backup.npz"
    backup.write_bytes(b"last week's samples")
    sample = app.store.add_sample(
        3, [np.array([[1.0, 1.0], [20.0, 20.0]])], 10.0, (280, 280), np.zeros((28, 28), np.float32)
    )
    app.state.samples_changed()
    qtbot.waitUntil(lambda: app.panels["samples"].export_button.isEnabled(), timeout=10000)
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(tmp_path / "backup"))
    app.panels["samples"].export_button.click()
    app.tasks.wait(10)
    assert answers and "backup.npz" in answers[-1][1]
    assert backup.read_bytes() == b"last week's samples"
    app.store.delete_samples([sample])  # the shared window holds no samples of this test
    app.state.samples_changed()
    app.tasks.wait(10)


def test_25_4_a_digit_saved_while_another_program_holds_the_database_is_kept(
    qtbot, short_busy_timeout, samples_rig, errors, monkeypatch
):
    import sqlite3

    from helpers import draw, settle, seven
    from PySide6.QtCore import Qt

    from kpgui.ui.controllers.samples import SampleController

    monkeypatch.setattr(SampleController, "PENDING_RETRY_MS", 100)  # tried again soon, not in 1.5 s

    app = samples_rig
    holder = sqlite3.connect(app.store.path, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    canvas = app.panels["drawing"].canvas
    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, app)
    qtbot.mouseClick(app.panel.sample_bar.buttons[7], Qt.MouseButton.LeftButton)
    assert "busy" in app.messages[-1] and canvas.strokes == [], app.messages
    holder.execute("COMMIT")
    holder.close()
    qtbot.waitUntil(lambda: app.store.sample_counts()[7] == 1, timeout=10000)
    assert not errors and "Saved 1 waiting digit" in app.messages[-1], app.messages


def test_25_10_an_experiment_with_a_400_digit_number_is_one_dialog(
    qtbot, shared_app, errors, tmp_path, monkeypatch
):
    app = shared_app
    exp = tmp_path / "huge.json"
    exp.write_text('{"format": "kpgui-experiment/1", "spec": {"learning_rate": 1' + "0" * 400 + "}}")
    monkeypatch.setattr(dialogs, "ask_open_path", lambda *a: str(exp))
    next(a for a in app.window.actions() if a.text() == "Open e&xperiment…").trigger()
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)  # read off the GUI thread
    assert errors and "huge.json" in errors[0][1] and "401 digits" in errors[0][1]


def test_25_14_a_bad_picture_says_what_is_wrong_with_it(qtbot, rig, errors, tmp_path):
    from PIL import Image

    cut = tmp_path / "cut.png"
    Image.fromarray(np.eye(64, dtype=np.uint8) * 255).save(cut)
    cut.write_bytes(cut.read_bytes()[:60])  # a picture cut short
    rig.drawing.import_picture(str(cut))
    qtbot.waitUntil(lambda: bool(errors), timeout=10000)
    text = errors[0][1]
    assert "cut.png" in text and "unexpected" not in text and "report it" not in text
