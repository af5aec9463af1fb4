"""The handwriting test set (the benchmarks' `handwriting` package): reproducible, every style
drawn, images made the way strokes_to_mnist makes them, drawings that differ, and a floor per
style for the shipped model."""

from __future__ import annotations

import handwriting as H
import numpy as np
import pytest

# Floors for the SHIPPED model (784-512-512-10 trained with drawn styles, re-stroked MNIST and
# non-digits; 99.28 % on MNIST test) on the first PER_STYLE drawings of each style: what it
# scores (100 % on every style but "7 plain", 98.5 % over 200) minus a margin for 40 drawings.
# The benchmark's targets: >= 97 % per style, >= 98.5 % on MNIST as strokes, >= 80 % of
# non-digits flagged "not sure" (bench_reading.py measures them in full).
PER_STYLE = 40
FLOORS = {
    **{s: 0.95 for s in H.STYLES},
    # measured 98.4 % on 2 000 MNIST test digits re-drawn as pen strokes:
    "mnist strokes": 0.96,
    # share of non-digits flagged "not sure", measured 89.9 % on non_digit_set(2500):
    "non-digits flagged": 0.8,
}

# What the owner asked for by name: each must stay in the set.
REQUIRED_STYLES = [
    "1 plain",
    "1 flag",
    "1 flag+foot",
    "7 plain",
    "7 crossbar",
    "0 plain",
    "0 slashed",
    "4 open",
    "4 closed",
    "2 plain",
    "2 loop",
    "9 curved",
    "9 straight",
    "6 curved",
    "6 straight",
    "3 round",
    "3 flat-top",
    "5 hat joined",
    "5 hat apart",
    "8 one stroke",
    "8 two loops",
]


def _same(a: list[H.Sample], b: list[H.Sample]) -> bool:
    return len(a) == len(b) and all(
        x.style == y.style
        and x.label == y.label
        and x.pen_width == y.pen_width
        and len(x.strokes) == len(y.strokes)
        and all(np.array_equal(p, q) for p, q in zip(x.strokes, y.strokes, strict=True))
        for x, y in zip(a, b, strict=True)
    )


@pytest.fixture(scope="module")
def slice_():
    """The first PER_STYLE drawings of every style, and their images."""
    samples = H.style_set(PER_STYLE)
    return samples, H.render(samples)


def test_floors_cover_every_style():
    assert set(H.STYLES) <= set(FLOORS)
    assert all(FLOORS[s] >= 0.9 for s in ("0 plain", "1 plain", "2 plain", "7 plain"))


def test_same_seed_same_drawings_other_seed_other_drawings():
    assert _same(H.style_set(2), H.style_set(2))
    assert _same(H.non_digit_set(10), H.non_digit_set(10))
    other = H.style_set(2, seed=H.STYLE_SEED + 1)
    assert not any(
        np.array_equal(a.strokes[0], b.strokes[0]) for a, b in zip(H.style_set(2), other, strict=True)
    )


def test_a_drawing_depends_only_on_its_style_and_index():
    a = H.style_set(3, styles=["7 crossbar"])
    b = [s for s in H.style_set(3) if s.style == "7 crossbar"]
    assert _same(a, b)
    with pytest.raises(ValueError):
        H.style_set(1, styles=["7 with a hat"])


def test_every_style_is_drawn_with_its_label():
    samples = H.style_set(1)
    assert [s.style for s in samples] == list(H.STYLES)
    assert set(REQUIRED_STYLES) <= set(H.STYLES)
    for s in samples:
        assert s.label == int(s.style.split()[0]) and s.kind == "digit"
    per_digit = np.bincount([s.label for s in samples], minlength=10)
    assert per_digit.min() >= 2


def test_drawings_are_what_a_canvas_records(slice_):
    samples, _ = slice_
    mouse = tablet = 0
    for s in samples:
        assert 4.0 <= s.pen_width <= 40.0
        for stroke in s.strokes:
            assert stroke.ndim == 2 and stroke.shape[1] == 2 and stroke.dtype == np.float64
            assert stroke.min() >= 0.0 and stroke.max() <= H.CANVAS - 1
        pts = np.concatenate(s.strokes)
        whole = bool(np.all(pts == np.round(pts)))
        mouse += whole
        tablet += not whole
        height = np.ptp(pts[:, 1])
        assert 40 <= max(height, np.ptp(pts[:, 0])) <= H.CANVAS
    assert mouse > len(samples) // 3 and tablet > len(samples) // 5
    points = [sum(len(p) for p in s.strokes) for s in samples]
    assert min(points) >= 3 and np.median(points) > 15


def test_images_are_valid_mnist_style(slice_):
    _, images = slice_
    assert images.shape == (len(H.STYLES) * PER_STYLE, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    yy, xx = np.mgrid[0:28, 0:28]
    for img in images:
        assert img.sum() > 30  # a digit's worth of ink (MNIST: ~100)
        rows, cols = np.nonzero(img > 0.05)
        assert np.ptp(rows) + 1 <= 21 and np.ptp(cols) + 1 <= 21  # the 20x20 box (+ anti-aliasing)
        m = img.sum()
        assert abs((img * xx).sum() / m - 14) < 0.6 and abs((img * yy).sum() / m - 14) < 0.6


def test_drawings_of_a_style_differ(slice_):
    samples, images = slice_
    pens = []
    for i, style in enumerate(H.STYLES):
        x = images[i * PER_STYLE : i * PER_STYLE + 10].reshape(10, -1)
        d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))[np.triu_indices(10, 1)]
        assert d.min() > 0.5, style  # no two drawings (nearly) the same (two 1s: ~1)
        assert d.mean() > 4.0, style  # and a real spread (MNIST 1s: ~5, 0s: ~9)
        pens.append([s.pen_width for s in samples[i * PER_STYLE : (i + 1) * PER_STYLE]])
    assert all(np.ptp(p) > 10 for p in pens), [np.ptp(p) for p in pens]


def test_non_digit_set_has_every_kind_and_no_labels():
    samples = H.non_digit_set(30)
    assert [s.kind for s in samples[:5]] == list(H.NON_DIGIT_KINDS)
    assert all(s.label is None for s in samples), "a non-digit has a label"
    assert {s.kind for s in samples} == set(H.NON_DIGIT_KINDS)
    letters = {s.style.split()[1] for s in H.non_digit_set(5 * 13) if s.kind == "letter"}
    assert len(letters) == 13 and not letters & set(H.EXCLUDED_LETTERS)
    images = H.render(samples)
    assert images.shape == (30, 28, 28) and (images.sum(axis=(1, 2)) > 30).all()
    assert (H.label_array(samples) == -1).all()


def test_mnist_digits_become_pen_strokes_that_look_like_them(mnist):
    _, _, x_test, y_test = mnist
    samples = H.mnist_stroke_set(x_test[:20], y_test[:20])
    again = H.mnist_stroke_set(x_test[:20], y_test[:20])
    assert _same(samples, again)
    assert [s.label for s in samples] == y_test[:20].tolist()
    assert all(s.style == "mnist" and s.strokes for s in samples), "a traced digit without strokes"
    images = H.render(samples)
    original = x_test[:20].astype(np.float32) / 255.0
    corr = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(images, original, strict=True)]
    assert np.median(corr) > 0.7


def test_shipped_model_meets_the_floor_of_every_style(slice_):
    from kpgui.core.model.inference import Predictor

    samples, images = slice_
    pred = Predictor.load().predict(images).argmax(axis=1)
    labels = H.label_array(samples)
    styles = np.array([s.style for s in samples])
    below = {}
    for style in H.STYLES:
        m = styles == style
        acc = float(np.mean(pred[m] == labels[m]))
        if acc < FLOORS[style]:
            below[style] = acc
    assert not below, f"below the floor: {below}"


def test_shipped_model_flags_some_non_digits():
    from kpgui.core.model.inference import Predictor
    from kpgui.core.reading.confidence import Calibration, read_batch

    predictor = Predictor.load()
    samples = H.non_digit_set(100)
    _, sure = read_batch(predictor.predict(H.render(samples)), Calibration.from_card(predictor.card))
    assert np.mean(~sure) >= FLOORS["non-digits flagged"]


@pytest.mark.slow
def test_shipped_model_meets_the_floor_on_mnist_as_strokes(mnist):
    from kpgui.core.model.inference import Predictor

    _, _, x_test, y_test = mnist
    idx = np.arange(0, len(y_test), 25)
    samples = H.mnist_stroke_set(x_test[idx], y_test[idx])
    pred = Predictor.load().predict(H.render(samples)).argmax(axis=1)
    assert np.mean(pred == y_test[idx]) >= FLOORS["mnist strokes"]
