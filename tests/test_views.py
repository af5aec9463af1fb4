""" "Not sure" by steadiness over moved views: the views are the picture moved and turned, the
score is checked against a plain computation, the card carries its threshold, every reading
path uses it in one forward pass, and a wrong reading pushed to look sure is "not sure"."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from kpgui.core.model.inference import DenseLayer, Predictor
from kpgui.core.reading.confidence import (
    Calibration,
    fit_calibration,
    fit_views_threshold,
    read,
    read_images,
    steadiness,
)
from kpgui.core.reading.views import TURN_DEG, VIEWS, VIEWS_ID, with_views


def _picture(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.zeros((28, 28), np.float32)
    img[5:23, 6:22] = rng.random((18, 16))
    return img


def test_the_first_four_views_are_the_picture_moved_by_one_pixel():
    img = _picture()
    v = with_views(img[None]).reshape(1 + VIEWS, 28, 28)
    assert np.array_equal(v[0], img)
    for k, (dx, dy) in enumerate([(1, 0), (-1, 0), (0, 1), (0, -1)], start=1):
        plain = np.zeros((28, 28), np.float32)
        for y in range(28):
            for x in range(28):
                if 0 <= y - dy < 28 and 0 <= x - dx < 28:
                    plain[y, x] = img[y - dy, x - dx]
        assert np.array_equal(v[k], plain), (dx, dy)


def test_the_turned_views_are_plain_bilinear_rotations_about_the_centre():
    img = _picture(1)
    v = with_views(img[None]).reshape(1 + VIEWS, 28, 28)

    def sample(y: float, x: float) -> float:
        x0, y0 = math.floor(x), math.floor(y)
        total = 0.0
        for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
            for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
                if 0 <= yy < 28 and 0 <= xx < 28:
                    total += wy * wx * float(img[yy, xx])
        return total

    for k, deg in ((5, TURN_DEG), (6, -TURN_DEG)):
        t = math.radians(deg)
        for y, x in [(14, 14), (8, 10), (20, 17), (3, 25), (12, 6)]:
            # output (x, y) = R (input - c) + c, so the input is R^-1 (output - c) + c
            dx, dy = x - 13.5, y - 13.5
            sx = math.cos(t) * dx + math.sin(t) * dy + 13.5
            sy = -math.sin(t) * dx + math.cos(t) * dy + 13.5
            assert v[k, y, x] == pytest.approx(sample(sy, sx), abs=1e-5), (deg, y, x)


def test_steadiness_is_the_read_digits_lead_on_the_averaged_probabilities():
    """The views' average is what is read: its top digit, and how far that digit leads."""
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(10) * 0.3, size=(40, 1 + VIEWS))
    got = steadiness(p[:, 0], p[:, 1:])
    disagree = 0
    for i in range(40):
        mean = [sum(p[i, k, d] for k in range(1 + VIEWS)) / (1 + VIEWS) for d in range(10)]
        read_digit = max(range(10), key=lambda d: mean[d])
        lead = mean[read_digit] - max(mean[d] for d in range(10) if d != read_digit)
        assert got[i] == pytest.approx(lead, abs=1e-9)
        disagree += read_digit != max(range(10), key=lambda d: p[i, 0, d])
    assert got.min() >= 0 and disagree > 0  # here the views often read another digit than the picture


def test_views_threshold_is_fitted_at_the_flagged_share_and_kept_in_the_card():
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 10, 1000)
    logits = rng.normal(0, 1, (1000, 1 + VIEWS, 10))
    logits[np.arange(1000), :, labels] += rng.uniform(3, 10, (1000, 1))
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    cal, measured = fit_calibration(p[:, 0], labels, view_probs=p[:, 1:])
    assert cal.uses_views and 0.05 <= cal.views_threshold <= 0.99
    flagged = np.mean(steadiness(cal.apply(p[:, 0]), cal.apply(p[:, 1:])) < cal.views_threshold)
    assert 0.015 <= flagged <= 0.021 and measured["flagged_share"] == pytest.approx(flagged, abs=1e-4)
    assert fit_views_threshold(p[:, 0], p[:, 1:], 0.1) > fit_views_threshold(p[:, 0], p[:, 1:], 0.02)

    card = {"calibration": cal.to_card()}
    assert card["calibration"]["views"] == VIEWS_ID
    back = Calibration.from_card(card)
    assert back.views_threshold == pytest.approx(cal.views_threshold, abs=1e-4)
    other = {"calibration": {**card["calibration"], "views": "some other views"}}
    assert not Calibration.from_card(other).uses_views  # fitted on other views: not used
    assert not Calibration.from_card({"calibration": {"threshold": 0.8}}).uses_views
    bad = {"calibration": {**card["calibration"], "views_threshold": "nan"}}
    assert not Calibration.from_card(bad).uses_views


class _Counting(Predictor):
    calls = 0

    def predict(self, batch):
        type(self).calls += 1
        return super().predict(batch)


def _tiny_predictor(sharp: float = 1.0) -> _Counting:
    rng = np.random.default_rng(5)
    layers = [
        DenseLayer(rng.normal(0, 0.1, (784, 16)).astype(np.float32), np.zeros(16, np.float32), "relu"),
        DenseLayer(rng.normal(0, sharp, (16, 10)).astype(np.float32), np.zeros(10, np.float32), "softmax"),
    ]
    return _Counting(layers=layers)


def test_read_images_reads_every_view_in_one_pass_and_matches_a_plain_reading():
    predictor = _tiny_predictor()
    cal = Calibration(1.3, 0.5, 0.2)
    images = np.stack([_picture(s) for s in range(3)])
    _Counting.calls = 0
    got = read_images(predictor, images, cal)
    assert _Counting.calls == 1  # the pictures and all their views: one forward pass
    for img, r in zip(images, got, strict=True):
        rows = [predictor.predict(view[None])[0] for view in with_views(img[None])]
        z = [np.log(np.asarray(row, np.float64)) / 1.3 for row in rows]
        q = [np.exp(zz - zz.max()) / np.exp(zz - zz.max()).sum() for zz in z]
        mean = sum(q) / len(q)
        digit = int(np.argmax(mean))  # the picture and its views, averaged, are what is read
        lead = mean[digit] - max(mean[d] for d in range(10) if d != digit)
        assert r.digit == digit and r.confidence == pytest.approx(mean[digit], abs=1e-5)
        assert np.allclose(r.probabilities, mean, atol=1e-5) and r.as_drawn == pytest.approx(
            q[0][digit], abs=1e-5
        )
        assert r.steadiness == pytest.approx(lead, abs=1e-5) and r.sure == (lead >= 0.2)
    # the same pictures again: remembered, not read again; another calibration reads anew
    _Counting.calls = 0
    assert read_images(predictor, images, cal) == got and _Counting.calls == 0
    plain = read_images(predictor, images, dataclasses.replace(cal, views_threshold=None))
    assert _Counting.calls == 1 and all(r.steadiness is None for r in plain)
    assert [r.sure for r in plain] == [r.confidence >= 0.5 for r in plain]
    one = read(predictor.predict(images[:1])[0], cal)  # no views given: the top probability
    assert one.sure == (one.confidence >= 0.5) and one.steadiness is None


def test_a_wrong_reading_pushed_to_look_sure_is_not_sure(mnist):
    """The adversarial slice: MNIST test digits pushed (Fool it) until the top probability alone
    says "sure" of a wrong digit. The steadiness over views flags them (measured: 25 of 28)."""
    from kpgui.core.reading.fool import fool

    shipped = Predictor.load()
    cal = Calibration.from_card(shipped.card)
    assert cal.uses_views  # the shipped card carries the fitted views threshold
    top_only = dataclasses.replace(cal, views_threshold=None)
    x, y = mnist[2][:8].astype(np.float32) / 255.0, mnist[3][:8]
    fooled, flagged = 0, 0
    for image, label in zip(x, y, strict=True):
        r = fool(shipped.layers, image, (int(label) + 3) % 10, top_only, sure=True)
        if not r.reached:
            continue
        fooled += 1
        window = read_images(shipped, r.image[None], cal)[0]
        assert window.digit != label
        flagged += not window.sure
    assert fooled >= 6 and flagged >= fooled - 1


def test_the_window_and_the_command_line_give_the_same_verdict_with_views(tmp_path, capsys):
    """One verdict: AppState (the window's drawing) and `kpgui predict` read a picture the shipped
    model reads with views, and agree on it."""
    from kpgui.cli import main
    from kpgui.core.state import AppState, CurrentModel, Drawing

    shipped = Predictor.load()
    state = AppState()
    state.set_model(CurrentModel(shipped, "shipped model"))
    img = np.zeros((28, 28), np.float32)
    img[4:24, 13:15] = 1.0  # a plain 1
    state.set_drawing(Drawing(img))
    r = state.reading
    assert r is not None and r.steadiness is not None and r.digit == 1 and r.sure
    path = tmp_path / "one.npy"
    np.save(path, np.round((1.0 - img) * 255).astype(np.uint8))  # dark ink on white
    assert main(["predict", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: 1 ({100 * r.confidence:.1f} %)"


def test_a_reading_flagged_only_by_its_views_is_shaky():
    predictor = _tiny_predictor(sharp=4.0)
    images = np.stack([_picture(s) for s in range(12)])
    strict = Calibration(1.0, 0.01, 0.99)  # the views flag everything, the top probability nothing
    readings = read_images(predictor, images, strict)
    assert {r.as_drawn >= 0.9 for r in readings if r.as_drawn is not None} == {True, False}
    for r in readings:  # both kinds are here: read surely as drawn, and not
        assert not r.sure and r.shaky == (r.as_drawn is not None and r.as_drawn >= 0.9)
    for r in read_images(predictor, images, Calibration(1.0, 0.01, None)):
        assert r.sure and not r.shaky  # no views: never shaky


def test_model_info_and_kpgui_train_word_the_rule_the_card_holds():
    from kpgui.core.model.cards import card_facts

    shipped = Predictor.load()
    facts = dict(card_facts(shipped.card))
    threshold = shipped.card["calibration"]["views_threshold"]
    assert f"stays {100 * threshold:.0f} points ahead" in facts["Confidence"]
    assert "moved a pixel or turned a little" in facts["Confidence"]
    old = {"calibration": {"temperature": 1.0, "threshold": 0.9}}
    assert "'not sure' below 90 %" in dict(card_facts(old))["Confidence"]


def test_the_first_layer_skips_blank_pixels_and_gives_the_dense_product():
    from kpgui.core.model.inference import ACTIVATIONS

    predictor = _tiny_predictor(sharp=2.0)
    for images in (
        with_views(_picture(7)[None]),
        np.random.default_rng(8).random((3, 784)),
        np.zeros((2, 784)),
    ):
        x = np.asarray(images, np.float32).reshape(len(images), 784)
        dense = x
        for layer in predictor.layers:  # the plain forward pass, every pixel multiplied
            dense = ACTIVATIONS[layer.activation](dense @ layer.kernel + layer.bias)
        assert np.allclose(predictor.predict(x), dense, atol=1e-6)
