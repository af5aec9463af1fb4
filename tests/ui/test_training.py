"""Training from the window, in the training process: a short real run offered as a candidate,
Stop within a batch with an honest record, closing mid-run leaves no process (bench_worker times it),
a killed process, a diverging run, missing MNIST, a second start refused, fine-tuning."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers import draw, settle, vertical_line

from kpgui.core.model.spec import ModelSpec
from kpgui.core.training.trainer import STEPS_PER_EXECUTION
from kpgui.ui import dialogs

pytestmark = pytest.mark.slow

SMALL = ModelSpec(hidden=(32,), epochs=1, train_samples=3000, batch_size=32)


def start(qtbot, app, spec: ModelSpec) -> None:
    form = app.panels["training"]
    form.set_spec(spec)
    assert form.errors() == {} and form.start_button.isEnabled()
    form.start_button.click()
    assert app.state.training.busy


def test_short_run_is_plotted_and_offered_as_a_candidate(qtbot, app, errors, tmp_path, monkeypatch):
    canvas = app.panels["drawing"].canvas
    draw(qtbot, canvas, vertical_line(canvas))
    settle(qtbot, app)
    shipped = app.state.model
    form, plots = app.panels["training"], app.panels["plots"]
    statuses, values = [], []
    app.state.events.training.connect(lambda t: statuses.append(t.text))
    form.progress.valueChanged.connect(values.append)
    ended, batches = [], []
    app.state.events.run_ended.connect(ended.append)
    app.state.events.batch.connect(batches.append)
    start(qtbot, app, SMALL)
    assert not form.start_button.isEnabled() and form.stop_button.isEnabled()
    qtbot.waitUntil(lambda: bool(ended), timeout=120000)
    outcome = ended[0]
    assert errors == []
    assert "Loading JAX…" in statuses  # the worker's start-up is shown as progress (cold)
    assert any(t.startswith("Training on CPU (JAX)") for t in statuses), statuses  # which device trains
    assert outcome.status == "finished" and outcome.epochs_run == 1
    assert outcome.test_accuracy > 0.6 and outcome.id is not None
    assert outcome.timings["keras_import_s"] > 0 and outcome.backend == "jax"
    steps = -(-2700 // 32)
    plots.refresh()
    # Keras runs STEPS_PER_EXECUTION batches per call: one report (their mean) for each call.
    assert batches[-1].step == steps and len(batches) == -(-steps // STEPS_PER_EXECUTION)
    assert plots.point_count("loss_raw") == len(batches) and plots.point_count("val_loss") == 1
    assert any(0 < v < 1000 for v in values), values  # it advanced during the run
    assert f"{100 * outcome.test_accuracy:.2f} %" in form.result_label.text()
    assert "Keep or discard" in form.result_label.text()
    # Offered, not installed: a 1-epoch net is worse than the shipped model.
    qtbot.waitUntil(
        lambda: app.state.candidate is not None and app.state.candidate.comparison is not None, timeout=30000
    )
    assert app.state.model is shipped and app.panels["candidate"].discard_button.isDefault()
    # The run is in History with its model and logs (CSV + TensorBoard).
    history = app.panels["history"]
    app.tasks.wait(10)  # History reads the runs on a thread
    assert [r.id for r in history.model.runs] == [outcome.id]
    assert os.path.isfile(os.path.join(outcome.log_dir, "history.csv"))
    assert any("tfevents" in f for _d, _s, files in os.walk(outcome.log_dir) for f in files), (
        f"no TensorBoard events under {outcome.log_dir}"
    )
    # Save model… in the panel saves the run's model with its card.
    target = tmp_path / "trained.keras"
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(target))
    form.save_button.click()
    qtbot.waitUntil(lambda: target.with_suffix(".json").is_file(), timeout=10000)
    app.panels["candidate"].keep_button.click()
    assert str(app.state.predictor.path) == outcome.model_path


def test_stop_mid_run_records_the_truth(qtbot, app, errors):
    batches, ended = [], []
    app.state.events.batch.connect(batches.append)
    app.state.events.run_ended.connect(ended.append)
    start(qtbot, app, ModelSpec(hidden=(128,), epochs=20, batch_size=32))
    qtbot.waitUntil(lambda: len(batches) >= 30, timeout=120000)
    app.panels["training"].stop_button.click()
    seen_at_stop = batches[-1].step  # the last batch the window was told of
    assert app.state.training.phase == "stopping"
    qtbot.waitUntil(lambda: bool(ended), timeout=60000)
    outcome = ended[0]
    assert outcome.status == "stopped"
    assert outcome.epochs_run == 0  # stopped inside the first of 20 epochs: no full epoch
    part = outcome.partial_epoch
    assert part["epoch"] == 1 and part["batches"] < part["of"]
    # Ended within the call under way (STEPS_PER_EXECUTION batches), plus what was in the pipe.
    assert part["batches"] - seen_at_stop <= 3 * STEPS_PER_EXECUTION
    assert outcome.history.get("loss", []) == []  # no made-up epoch
    record = app.store.get_run(outcome.id)
    assert record.status == "stopped" and record.epochs_run == 0
    assert errors == []


def test_a_second_start_is_refused_while_a_run_goes(qtbot, app):
    start(qtbot, app, ModelSpec(hidden=(32,), epochs=5, train_samples=3000))
    job = app.training.job
    assert not app.panels["training"].start_button.isEnabled()
    assert app.training.start(SMALL) is False
    assert app.training.job is job
    assert "already going" in app.window.statusBar().currentMessage()
    app.training.stop()


def test_closing_mid_run_ends_the_training_process_before_it_returns(qtbot, app, answers):
    """How long closing takes is measured by benchmarks/bench_worker.py (close_s); here: close()
    returns only once the training process is gone."""
    batches = []
    app.state.events.batch.connect(batches.append)
    start(qtbot, app, ModelSpec(hidden=(128,), epochs=20, batch_size=32))
    process = app.training.job.process
    qtbot.waitUntil(lambda: len(batches) >= 5, timeout=120000)
    app.window.close()  # asks first while a run is going: "No" keeps it running
    assert len(answers) == 1 and app.window.isVisible() and process.is_alive()
    answers.yes = True
    app.window.close()
    assert not app.window.isVisible(), "the window stayed open after a yes"
    assert not process.is_alive(), "the training process outlived the window"


def test_a_killed_training_process_becomes_a_dialog(qtbot, app, errors):
    batches = []
    app.state.events.batch.connect(batches.append)
    start(qtbot, app, ModelSpec(hidden=(128,), epochs=20, batch_size=32))
    qtbot.waitUntil(lambda: len(batches) >= 2, timeout=120000)
    os.kill(app.training.job.process.pid, 9)
    qtbot.waitUntil(lambda: bool(errors), timeout=20000)
    title, text = errors[0]
    assert title == "Training process ended" and "killed" in text and "current model stays" in text
    qtbot.waitUntil(lambda: not app.state.training.busy, timeout=10000)
    assert app.panels["training"].start_button.isEnabled()
    assert app.state.model.source == "shipped model"


def test_a_diverging_run_is_reported_not_offered(qtbot, app, errors):
    ended = []
    app.state.events.run_ended.connect(ended.append)
    start(
        qtbot,
        app,
        ModelSpec(
            hidden=(64, 64),
            optimizer="sgd",
            learning_rate=10.0,
            activation="elu",
            epochs=2,
            train_samples=6000,
            seed=0,
        ),
    )
    qtbot.waitUntil(lambda: bool(ended), timeout=120000)
    outcome = ended[0]
    assert outcome.status == "diverged" and outcome.diverged_at is not None
    assert outcome.model_path is None
    title, text = errors[0]
    assert title == "Training diverged" and "lower learning rate" in text
    assert app.state.candidate is None and app.state.model.source == "shipped model"
    record = app.store.get_run(outcome.id)
    assert record.status == "diverged" and record.model_path is None
    assert "diverged" in app.panels["training"].result_label.text()


def test_missing_mnist_offers_to_locate_it(qtbot, app, monkeypatch, tmp_path):
    monkeypatch.setenv("KPGUI_MNIST", str(tmp_path / "missing.npz"))
    asked = []
    monkeypatch.setattr(dialogs, "ask_mnist", lambda parent, text: asked.append(text) or "locate")
    monkeypatch.setattr(dialogs, "ask_open_path", lambda *a: os.environ["REAL_MNIST"])
    app.panels["training"].set_spec(SMALL)
    app.panels["training"].start_button.click()
    assert len(asked) == 1 and app.tasks.jobs == []  # checked before any process starts
    assert "missing.npz" in asked[0] and "KPGUI_MNIST" in asked[0]  # cause and fix
    qtbot.waitUntil(lambda: app.data.located == os.environ["REAL_MNIST"], timeout=20000)
    assert app.settings.value("data/mnist_path") == os.environ["REAL_MNIST"]
    qtbot.waitUntil(lambda: not app.state.training.busy, timeout=10000)
    assert app.data.path() == os.environ["REAL_MNIST"]  # the next run uses it


@pytest.fixture(autouse=True)
def _real_mnist(monkeypatch):
    monkeypatch.setenv("REAL_MNIST", os.environ.get("KPGUI_MNIST", ""))


def test_finetune_from_the_panel_uses_the_core_and_reports_honestly(qtbot, app, errors, mnist):
    rng = np.random.default_rng(0)
    x, y = mnist[0][50000:50060], mnist[1][50000:50060]
    for img, label in zip(x, y, strict=True):
        pts = rng.uniform(0, 300, (5, 2))
        app.store.add_sample(int(label), [pts], 18.0, (400, 400), img / 255.0)
    app.state.samples_changed()
    app.tasks.wait(10)  # the samples are read on a thread
    panel = app.panels["finetune"]
    assert panel.button.isEnabled()
    assert "too few to judge" in panel.info.text()  # 60 samples: ~15 held out, < 20
    panel.epochs.setValue(1)
    panel.mnist_samples.setValue(3000)
    ended = []
    app.state.events.run_ended.connect(ended.append)
    panel.button.click()
    assert app.state.training.kind == "finetune"
    qtbot.waitUntil(lambda: bool(ended), timeout=180000)
    outcome = ended[0]
    assert errors == [] and outcome.kind == "finetune" and outcome.personal
    assert outcome.personal["held_out_count"] > 0
    assert "too few held out to judge" in panel.result_label.text()
    record = app.store.get_run(outcome.id)
    assert record.kind == "finetune" and record.personal["train_count"] > 0
    qtbot.waitUntil(lambda: app.state.candidate is not None, timeout=30000)


def test_the_window_process_never_imports_tensorflow_while_training(tmp_path):
    code = textwrap.dedent("""
        import sys
        from PySide6.QtCore import QTimer
        from kpgui.core.model.spec import ModelSpec
        from kpgui.ui.app import build_app, make_qapp
        q = make_qapp(["kpgui"])
        app = build_app()
        app.window.show()
        done = []
        app.state.events.run_ended.connect(done.append)
        app.state.events.candidate.connect(lambda c: c and c.comparison and q.quit())
        QTimer.singleShot(100, lambda: app.training.start(
            ModelSpec(hidden=(16,), epochs=1, train_samples=2000)))
        QTimer.singleShot(120000, q.quit)
        q.exec()
        print("RUN", done[0].status if done else None)
        heavy = ("tensorflow", "keras", "jax", "torch")
        print("TF_LOADED" if any(m in sys.modules for m in heavy) else "TF_FREE")
        app.tasks.shutdown()
    """)
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        KPGUI_CONFIG_DIR=str(tmp_path / "c"),
        KPGUI_DATA_DIR=str(tmp_path / "d"),
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=180)
    assert out.returncode == 0, out.stderr
    assert "RUN finished" in out.stdout and "TF_FREE" in out.stdout, out.stdout + out.stderr
    assert "cuInit" not in out.stderr and "oneDNN" not in out.stderr  # no TensorFlow chatter


def test_the_warm_training_process_is_used_kept_and_released(qtbot, errors, answers):
    """Model → Keep a training process ready (on): a process is started while the window is idle,
    Start hands the run to it (no imports after Start), the finished run's process is kept for
    the next run, and turning the setting off gives it back."""
    from conftest import close_app, open_app

    app = open_app(qtbot, keep_warm=True)
    try:
        keep = next(
            a for a in app.window.menus["Model"].actions() if a.text() == "Keep a training process &ready"
        )
        assert keep.isChecked() and app.tasks.keep_warm
        qtbot.waitUntil(
            lambda: app.tasks.warm_process is not None and app.tasks.warm_process.info is not None,
            timeout=180000,
        )
        warm = app.tasks.warm_process
        assert warm.info["backend"] == "jax" and warm.info["device"] == "CPU (JAX)"
        assert warm.info["rss_mb"] > 50 and warm.rss_mb() > 50  # its memory cost is known
        statuses, ended = [], []
        app.state.events.training.connect(lambda t: statuses.append(t.text))
        app.state.events.run_ended.connect(ended.append)
        start(qtbot, app, SMALL)
        job = app.training.job
        assert job.worker is warm and job.warm and job.process.pid == warm.process.pid
        qtbot.waitUntil(lambda: bool(ended), timeout=120000)
        assert errors == [] and ended[0].status == "finished"
        assert ended[0].timings["keras_import_s"] == 0  # imported before Start
        assert not any(t.startswith("Loading JAX") for t in statuses)
        assert job.first_batch_after is not None
        # Kept for the next run, which it trains too.
        qtbot.waitUntil(lambda: app.tasks.warm_process is warm, timeout=10000)
        start(qtbot, app, SMALL)
        assert app.training.job.worker is warm and warm.runs == 2
        qtbot.waitUntil(lambda: len(ended) == 2, timeout=120000)
        qtbot.waitUntil(lambda: app.tasks.warm_process is warm, timeout=10000)
        # Turned off: released, the process exits.
        keep.trigger()
        assert not app.tasks.keep_warm and app.tasks.warm_process is None
        qtbot.waitUntil(lambda: not warm.process.is_alive(), timeout=10000)
    finally:
        close_app(app)


def test_a_backend_that_is_not_installed_is_a_dialog_and_nothing_starts(qtbot, app, errors):
    from kpgui.core.training import backends

    missing = [b for b in backends.BACKENDS if not backends.installed(b)]
    if not missing:
        pytest.skip("every backend is installed")
    menu = next(
        a.menu()
        for a in app.window.menus["Model"].actions()
        if a.menu() is not None and a.text() == "Training &backend"
    )
    choice = next(a for a in menu.actions() if a.text().startswith(backends.NAMES[missing[0]]))
    assert "(not installed)" in choice.text()
    choice.trigger()
    assert choice.isChecked() and app.training.backend == missing[0]
    form = app.panels["training"]
    form.set_spec(SMALL)
    form.start_button.click()
    assert not app.state.training.busy and app.training.job is None and app.tasks.jobs == []
    assert len(errors) == 1 and errors[0][0] == "Cannot start training"
    assert "not installed" in errors[0][1] and f"pip install {missing[0]}" in errors[0][1]
