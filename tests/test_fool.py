"""Fool it (kpgui.core.reading.fool and `kpgui fool`): a clearly drawn digit is pushed into a chosen one
within a bounded number of steps, inside the valid pixel range, and every number reported is
checked against a plain computation and the Predictor's own reading."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from kpgui.core.model.inference import Predictor
from kpgui.core.reading.confidence import Calibration, read, read_images
from kpgui.core.reading.fool import STEPS, fool
from kpgui.core.reading.preprocess import strokes_to_mnist
from tests.conftest import draw_polyline


@pytest.fixture(scope="module")
def shipped():
    return Predictor.load()


def _seven() -> np.ndarray:
    stroke = draw_polyline([(110, 90), (300, 90), (170, 330)], 60)
    return strokes_to_mnist([stroke], 18.0)


@pytest.mark.parametrize("target,sure", [(3, False), (1, False), (3, True)])
def test_a_clear_seven_is_pushed_into_the_target(shipped, target, sure):
    cal = Calibration.from_card(shipped.card)
    image = _seven()
    assert read(shipped.predict_one(image), cal).digit == 7
    r = fool(shipped.layers, image, target, cal, sure=sure)
    assert r.reached and 1 <= r.steps <= STEPS
    assert r.image.min() >= 0 and r.image.max() <= 1 and r.image.shape == (28, 28)
    assert np.array_equal(r.original, image)
    independent = read_images(shipped, r.image[None], cal)[0]  # the app's own reading path
    assert independent.digit == target == r.after.digit
    assert independent.confidence == pytest.approx(r.after.confidence, abs=1e-4)
    assert r.after.sure == independent.sure and r.noticed == (not independent.sure)
    if sure:
        assert independent.sure
    assert r.before.digit == 7
    d = r.image.astype(np.float64) - image
    assert r.l2 == pytest.approx(np.sqrt((d**2).sum()), rel=1e-5)
    assert r.linf == pytest.approx(np.abs(d).max(), rel=1e-5)
    assert r.changed_pixels == int((np.abs(d) > 1 / 255).sum())
    assert r.l2 < 5.0  # a small change: the digit's own ink has an L2 norm of ~9
    assert f"{r.changed_pixels} of 784 pixels" in r.summary()


def test_the_step_budget_is_honoured_and_bad_targets_refused(shipped):
    r = fool(shipped.layers, _seven(), 3, steps=1)
    assert r.steps == 1
    already = fool(shipped.layers, _seven(), 7)
    assert already.reached and already.steps == 0 and already.changed_pixels == 0
    with pytest.raises(ValueError):
        fool(shipped.layers, _seven(), 10)


def test_a_small_model_can_be_fooled_too(small_predictor, mnist):
    small = small_predictor
    image = mnist[2][0] / 255.0
    cal = Calibration.from_card(small.card)
    target = (int(mnist[3][0]) + 4) % 10
    r = fool(small.layers, image, target, cal)
    assert r.reached and read(small.predict_one(r.image), cal).digit == target


def test_kpgui_fool_on_a_generated_picture(tmp_path):
    from PIL import Image

    picture = tmp_path / "seven.png"
    Image.fromarray(np.round(_seven() * 255).astype(np.uint8)).save(picture)
    out = tmp_path / "fooled.png"
    code = (
        "import sys\nfrom kpgui.cli import main\nrc = main(sys.argv[1:])\n"
        "print('LOADED', [m for m in ('tensorflow', 'keras', 'PySide6') if m in sys.modules])\n"
        "sys.exit(rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "fool", str(picture), "--target", "3", "--sure", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("before: 7")
    assert lines[1].startswith("after:  3 (") and "sure" in lines[1]  # --sure: far past the edge
    assert "pixels changed" in lines[2] and f"wrote {out}" in proc.stdout
    assert lines[-1] == "LOADED []"  # no TensorFlow, no Qt
    written = np.asarray(Image.open(out), np.float32) / 255.0
    assert written.shape == (28, 28)
    predictor = Predictor.load()
    assert read(predictor.predict_one(written), Calibration.from_card(predictor.card)).digit == 3


def test_kpgui_fool_mistakes_are_one_line(tmp_path, capfd):
    from kpgui.cli import main

    assert main(["fool", str(tmp_path / "missing.png"), "--target", "3"]) == 2
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and "missing.png" in err and "Traceback" not in err
    blank = tmp_path / "blank.npy"
    np.save(blank, np.zeros((28, 28), np.float32))
    assert main(["fool", str(blank), "--target", "3", "--out", str(tmp_path / "x.jpg")]) == 2
    assert ".png" in capfd.readouterr().err
