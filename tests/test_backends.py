"""Which Keras backend trains (kpgui.core.training.backends): the choice, its one-line refusals, and a
tiny run on every installed backend that trains, logs, stops on request and saves a model the
window's NumPy Predictor reads (and Keras on another backend loads)."""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kpgui.core.training import backends
from kpgui.core.training.backends import BackendError

INSTALLED = [b for b in backends.BACKENDS if importlib.util.find_spec(b) is not None]
MISSING = [b for b in backends.BACKENDS if b not in INSTALLED]


def test_auto_is_the_fastest_installed_and_each_installed_one_can_be_chosen():
    assert backends.available() == tuple(INSTALLED)
    assert backends.resolve("auto") == INSTALLED[0] == backends.resolve(None)
    if "jax" in INSTALLED:
        assert backends.resolve("auto") == "jax"  # measured fastest on CPU
    for name in INSTALLED:
        assert backends.resolve(name.upper()) == name


@pytest.mark.parametrize("choice", [*MISSING, "theano"])
def test_an_unavailable_backend_is_one_line_naming_the_fix(choice):
    with pytest.raises(BackendError) as info:
        backends.resolve(choice)
    text = str(info.value)
    assert "\n" not in text
    assert (
        ("pip install" in text and "not installed" in text)
        if choice in MISSING
        else "choose one of auto, jax, tensorflow, torch" in text
    )


@pytest.mark.skipif(not MISSING, reason="every backend is installed")
def test_the_cli_refuses_an_unavailable_backend_in_one_line(tmp_path):
    """A fresh process, as a person runs it: exit code 2, one line, no traceback, no training."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "kpgui",
            "train",
            "--backend",
            MISSING[0],
            "--epochs",
            "1",
            "--out",
            str(tmp_path / "m.keras"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1, out.stderr
    assert lines[0].startswith("kpgui train: ") and "not installed" in lines[0]
    assert f"pip install {MISSING[0]}" in lines[0] and "Traceback" not in out.stderr
    assert not (tmp_path / "m.keras").exists()


def _run_in_training_process(backend: str, stop_after: int):
    """The window's way: worker.serve in a spawned process, reports read from the pipe; Stop
    is set after `stop_after` batch reports. Returns (outcome, (the batch Stop was asked at, the
    last batch reported), the 'begin' report)."""
    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.training.jobs import TrainJob
    from kpgui.core.training.worker import serve

    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    parent, child = ctx.Pipe(duplex=True)
    job = TrainJob(
        ModelSpec(hidden=(16,), epochs=2, train_samples=2000, batch_size=32, seed=3), backend=backend
    )
    process = ctx.Process(target=serve, args=(child, stop, None, backend, job), daemon=True)
    process.start()
    child.close()
    reports, asked_at, last, begin, outcome = 0, 0, 0, None, None
    try:
        while outcome is None:
            assert parent.poll(240), "the training process went quiet"
            kind, value = parent.recv()
            if kind == "begin":
                begin = value
            elif kind == "batch":
                reports, last = reports + 1, value.step
                if reports == stop_after:
                    stop.set()
                    asked_at = value.step
            elif kind == "error":
                raise AssertionError(value)
            elif kind == "outcome":
                outcome = value
        parent.send(("quit", None))
        process.join(30)
        assert not process.is_alive() and process.exitcode == 0
    finally:
        if process.is_alive():
            process.kill()
    return outcome, (asked_at, last), begin


@pytest.mark.slow
@pytest.mark.parametrize("backend", INSTALLED)
def test_a_tiny_run_trains_logs_stops_and_saves_a_readable_model(backend):
    from kpgui.core.data.mnist import load_mnist
    from kpgui.core.model.cards import read_model_card
    from kpgui.core.model.inference import Predictor
    from kpgui.core.training.trainer import STEPS_PER_EXECUTION

    outcome, (asked_at, last), begin = _run_in_training_process(backend, stop_after=3)
    # It trained on the backend asked for, and said so.
    assert outcome.backend == backend and outcome.device.endswith(f"({backends.NAMES[backend]})")
    assert begin.device == outcome.device
    # Stopped on request, after the batch it was asked in (or the one in flight), honestly.
    assert outcome.status == "stopped" and outcome.epochs_run == 0
    # A job reports (and hears Stop) every STEPS_PER_EXECUTION batches: it ends with the
    # execution the request came in, or the one in flight, and its last report is its last batch.
    ran = outcome.partial_epoch["batches"]
    assert asked_at == 3 * STEPS_PER_EXECUTION and asked_at <= ran <= asked_at + 2 * STEPS_PER_EXECUTION
    assert last == ran
    # Logs: Keras' CSVLogger and TensorBoard wrote theirs.
    log_dir = Path(outcome.log_dir)
    assert (log_dir / "tensorboard").is_dir()
    assert (log_dir / "history.csv").is_file()
    # The saved model: its card names the backend; the window's NumPy Predictor reads it and
    # reads the MNIST test digits as well as the run measured (an independent count here).
    card = read_model_card(outcome.model_path)
    assert card["backend"] == backend and card["device"] == outcome.device
    predictor = Predictor.load(outcome.model_path)
    assert predictor.backend == "numpy"
    _x, _y, x_test, y_test = load_mnist()
    acc = float(np.mean(predictor.predict(x_test / 255.0).argmax(axis=1) == y_test))
    assert acc > 0.2 and abs(acc - outcome.test_accuracy) < 0.002


@pytest.mark.slow
@pytest.mark.skipif(len(INSTALLED) < 2, reason="one backend installed")
def test_a_model_saved_on_one_backend_loads_on_the_other(tmp_path):
    """Saved by the first (default) backend, loaded by Keras on the second: the same outputs as
    the window's NumPy Predictor gives."""
    from kpgui.core.data.mnist import load_mnist
    from kpgui.core.model.inference import Predictor

    outcome, _b, _s = _run_in_training_process(INSTALLED[0], stop_after=3)
    _x, _y, x_test, _yt = load_mnist()
    images = tmp_path / "x.npy"
    np.save(images, (x_test[:50].reshape(50, 784) / 255.0).astype(np.float32))
    code = (
        f"import os, json, sys, numpy as np; os.environ['KERAS_BACKEND'] = {INSTALLED[1]!r}\n"
        f"import keras\nm = keras.saving.load_model({outcome.model_path!r})\n"
        f"print(json.dumps([keras.backend.backend(), "
        f"np.asarray(m(np.load({str(images)!r}))).tolist()]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    name, probs = json.loads(run.stdout.strip().splitlines()[-1])
    assert name == INSTALLED[1]
    mine = Predictor.load(outcome.model_path).predict(x_test[:50] / 255.0)
    np.testing.assert_allclose(np.asarray(probs), mine, atol=1e-4)
