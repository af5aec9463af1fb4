"""The `kpgui` command line: train, predict, evaluate, and one clear line for every mistake."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from kpgui.cli import main


def test_python_dash_m_runs_the_same_command():
    out = subprocess.run([sys.executable, "-m", "kpgui", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "train" in out.stdout and "evaluate" in out.stdout


def test_train_saves_model_and_card(tmp_path, capsys):
    out = tmp_path / "tiny.keras"
    rc = main(["train", "--hidden", "32", "--epochs", "1", "--train-samples", "6000",
               "--batch-size", "32",
               "--optimizer", "adam", "--dropout", "0.1", "--out", str(out)])
    assert rc == 0
    stdout, stderr = capsys.readouterr()
    assert "test accuracy" in stdout and "epoch 1/1" in stderr
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["spec"]["hidden"] == [32] and card["spec"]["optimizer"] == "adam"
    assert card["test_accuracy"] > 0.8


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["train", "--dropout", "1.5"], "dropout"),
        (["train", "--hidden", "512,x"], "whole numbers"),
        (["train", "--out", "model.h5"], ".keras"),
        (["train", "--data", "/nonexistent/mnist.npz"], "KPGUI_MNIST"),
        (["train", "--optimizer", "lbfgs"], "invalid choice"),
        (["evaluate", "--model", "/nonexistent.keras"], "no model file"),
        (["predict", "/nonexistent.png"], "no file"),
    ],
)
def test_mistakes_give_one_clear_line_and_nonzero_exit(args, fragment, capsys):
    try:
        rc = main(args)
    except SystemExit as exc:  # argparse's own errors
        rc = exc.code
    _, err = capsys.readouterr()
    assert rc != 0
    assert fragment in err
    assert "Traceback" not in err


def test_predict_reads_pictures_of_digits(tmp_path, mnist, capsys):
    _, _, x_test, y_test = mnist
    paths = []
    for i in range(6):
        # dark ink on white paper, enlarged, as a scan or photo would be
        big = np.kron(255 - x_test[i], np.ones((6, 6), np.uint8))
        path = tmp_path / f"digit{i}.png"
        Image.fromarray(big).save(path)
        paths.append(str(path))
    junk = tmp_path / "notes.png"
    junk.write_text("not an image")
    rc = main(["predict", *paths, str(junk)])
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert rc == 2  # one file failed
    digits = [int(line.split(": ")[1].split()[0]) for line in out[:6]]
    assert sum(d == y for d, y in zip(digits, y_test[:6], strict=True)) >= 5
    assert "notes.png: error" in captured.err and len(out) == 6


def test_evaluate_prints_accuracy_and_confusion_matrix(small_model_path, capsys):
    assert main(["evaluate", "--model", str(small_model_path)]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "on 10000 images" in out
    rows = [line for line in out.splitlines() if line.strip()[:1].isdigit() and "%" in line]
    assert len(rows) == 10
    counts = [int(v) for line in rows for v in line.split()[1:11]]
    assert sum(counts) == 10000
