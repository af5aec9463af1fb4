"""One MNIST source (issue 18): the file located with File → Locate mnist.npz is the one that
evaluation, the candidate's measurement and fine-tuning read; nothing downloads, the window reads
only the test half once it is located, and Keras (TensorFlow, JAX) never enters the window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from kpgui.core.model.inference import Predictor

pytestmark = pytest.mark.slow  # fine-tunes a real model in the training process

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from PySide6.QtCore import QTimer
    import kpgui.core.data.mnist as data

    reads = []  # (file, array) of every MNIST array the window process reads
    plain_read = data.read_npz_array

    def spy(archive, key, *args, **kwargs):
        reads.append((str(archive.filename), key))
        return plain_read(archive, key, *args, **kwargs)

    data.read_npz_array = spy
    from kpgui.ui import dialogs
    from kpgui.ui.app import build_app, make_qapp

    out = {"dialogs": []}
    dialogs.show_error = lambda parent, title, text: out["dialogs"].append(title + ": " + text)
    dialogs.ask_mnist = lambda parent, text: out["dialogs"].append("asked for MNIST: " + text)
    small, samples = sys.argv[1], np.load(sys.argv[2])
    q = make_qapp(["kpgui"])
    app = build_app()

    def finish(why):
        out.setdefault("end", why)
        q.quit()

    def located(_path):
        reads.clear()  # locating checks the whole file; from here on only the test half
        app.window.show_tab("Evaluation")  # opening the tab evaluates the current model

    def evaluated(evaluation, images, labels):
        out["evaluated"] = [int(evaluation.confusion.sum()), float(evaluation.accuracy)]
        out["reads_evaluating"] = list(reads)
        for image, label in zip(samples["x"], samples["y"]):
            pts = np.array([[10.0, 10.0], [200.0, 300.0]])
            app.store.add_sample(int(label), [pts], 18.0, (400, 400), image / 255.0)
        app.state.samples_changed()  # read on a thread, then the Fine-tune button is enabled

    def samples_read(_index):
        QTimer.singleShot(0, finetune)  # after the Fine-tune panel has counted them

    def finetune():
        panel = app.panels["finetune"]
        if out.get("asked") or not panel.button.isEnabled():
            return
        out["asked"] = True
        panel.epochs.setValue(1)
        panel.mnist_samples.setValue(0)  # all of the located file's training images
        panel.button.click()
        job = app.tasks.jobs[-1].job if app.tasks.jobs else None
        out["job_data"] = None if job is None else job.data_path

    def began(start):
        out["began"] = [start.train_samples, start.val_samples]

    def candidate(cand):
        if cand is not None and cand.comparison is not None:
            out["mnist"] = list(cand.comparison.mnist)
            out["candidate_model"] = cand.outcome.model_path
            out["reads_measuring"] = list(reads)
            finish("measured")

    def built():
        task = app.data.locate(small)
        task.done.connect(located)
        task.failed.connect(lambda _title, text: finish("locate failed: " + text))

    app.built.done.connect(built)
    app.state.events.sample_index.connect(samples_read)
    app.state.events.run_began.connect(began)
    app.state.events.candidate.connect(candidate)
    app.state.events.run_ended.connect(lambda o: out.setdefault("status", o.status))
    app.window.show()

    def connect_evaluation():  # the Evaluation tab is built after the first paint
        if app.evaluation is None:
            QTimer.singleShot(50, connect_evaluation)
            return
        app.evaluation.finished.connect(evaluated)
        app.evaluation.failed.connect(lambda text: finish("evaluation failed: " + text))

    connect_evaluation()
    QTimer.singleShot(240000, lambda: finish("timeout"))
    q.exec()
    out["heavy"] = sorted(m for m in sys.modules if m.split(".")[0] in ("keras", "tensorflow", "jax"))
    app.window.close_guard = lambda: True
    app.tasks.shutdown()
    print("RESULT " + json.dumps(out))
    """
)


def _accuracy(predictor: Predictor, images: np.ndarray, labels: np.ndarray) -> float:
    """Plain: the share of images whose most probable digit is their label."""
    probs = predictor.predict(images.astype(np.float32) / 255.0)
    return float(np.mean(np.argmax(probs, axis=1) == labels))


def test_a_located_mnist_is_the_one_evaluation_measuring_and_finetuning_read(tmp_path, monkeypatch, mnist):
    x, y, xt, yt = mnist
    small = tmp_path / "elsewhere" / "my-mnist.npz"
    small.parent.mkdir()
    np.savez(small, x_train=x[:3000], y_train=y[:3000], x_test=xt[:500], y_test=yt[:500])
    samples = tmp_path / "samples.npz"
    np.savez(samples, x=x[50000:50060], y=y[50000:50060])
    monkeypatch.delenv("KPGUI_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # an empty Keras cache: nothing else to find
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        KPGUI_CONFIG_DIR=str(tmp_path / "c"),
        KPGUI_DATA_DIR=str(tmp_path / "d"),
    )
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(small), str(samples)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line is not None, run.stdout + run.stderr
    out = json.loads(line[len("RESULT ") :])
    assert out["end"] == "measured", {k: v for k, v in out.items() if not k.startswith("reads")}
    assert out["dialogs"] == [], "no dialog (and no MNIST question) along the way"

    shipped = Predictor.load()
    count, accuracy = out["evaluated"]
    assert count == 500, "Evaluation measured the located file's 500 test images"
    assert accuracy == pytest.approx(_accuracy(shipped, xt[:500], yt[:500]), abs=1e-9)
    assert out["reads_evaluating"] == [[str(small), "x_test"], [str(small), "y_test"]]

    assert out["job_data"] == str(small), "the fine-tune was handed the located file"
    assert out["status"] == "finished"
    train, val = out["began"]
    assert 0 < val < 3000, "validation came from the located file's 3,000 training images"

    current, candidate = out["mnist"]
    assert current == pytest.approx(accuracy, abs=1e-9)
    tuned = Predictor.load(out["candidate_model"], allow_keras=False)
    assert candidate == pytest.approx(_accuracy(tuned, xt[:500], yt[:500]), abs=1e-9)
    reads = out["reads_measuring"]
    assert {key for _file, key in reads} <= {"x_test", "y_test"}, "measuring read only the test half"
    assert {file for file, _key in reads} <= {str(small)}

    assert out["heavy"] == [], "Keras, TensorFlow or JAX entered the window process"
