"""Synthetic training data: drawn digits in people's styles, restroked MNIST, non-digits."""

from __future__ import annotations

import numpy as np
import pytest

from kpgui.core.data.synth import (
    NON_DIGIT_KINDS,
    STYLES,
    draw_non_digit,
    draw_style,
    non_digit_kinds,
    non_digits,
    restroke,
    restroke_with_info,
    style_of,
    synthetic_digits,
)
from kpgui.core.data.synth.restroke import CROSSBAR, FLAG, FLAG_FOOT, NO_EDIT, SLASH, thin
from kpgui.core.model.inference import Predictor
from kpgui.core.reading.preprocess import strokes_to_mnist

YY, XX = np.mgrid[0:28, 0:28]
N_SYNTH = 600  # 20 to 30 drawings of every style


@pytest.fixture(scope="module")
def synth():
    return synthetic_digits(N_SYNTH, seed=11)


@pytest.fixture(scope="module")
def predictor():
    return Predictor.load()


def _com(images: np.ndarray) -> np.ndarray:
    m = images.reshape(len(images), -1).astype(np.float64)
    total = m.sum(axis=1)
    return np.stack([(m @ XX.ravel()) / total, (m @ YY.ravel()) / total], axis=1)


def _flat(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(d2, 0.0))


# ---------------------------------------------------------------------------------------------
# synthetic_digits / draw_style


def test_synthetic_digits_shapes_and_balanced_labels(synth):
    x, y = synth
    assert x.shape == (N_SYNTH, 28, 28) and x.dtype == np.uint8
    assert y.shape == (N_SYNTH,) and y.dtype == np.uint8
    counts = np.bincount(y, minlength=10)
    assert counts.max() - counts.min() <= 1
    assert len(set(y[:20].tolist())) > 3  # shuffled, not 0,0,0,...
    x7, y7 = synthetic_digits(7, seed=0)
    assert np.bincount(y7, minlength=10).max() == 1


def test_synthetic_digits_are_deterministic_per_seed():
    a = synthetic_digits(30, seed=5)
    b = synthetic_digits(30, seed=5)
    c = synthetic_digits(30, seed=6)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_a_drawing_depends_only_on_seed_and_index():
    x, y = synthetic_digits(23, seed=8)
    assert np.array_equal(x, synthetic_digits(23, seed=8, batch=5)[0])  # batching changes nothing
    styles = style_of(y)
    for i in (0, 13, 22):
        strokes, pen = draw_style(int(y[i]), styles[i], np.random.default_rng([8, i]))
        assert np.array_equal(x[i], np.round(strokes_to_mnist(strokes, pen) * 255.0))
    assert np.array_equal(non_digits(14, seed=2), non_digits(14, seed=2, batch=3))


def test_every_style_is_produced(synth):
    _, y = synth
    produced = set(zip(y.tolist(), style_of(y), strict=True))
    wanted = {(d, s) for d, styles in STYLES.items() for s in styles}
    assert produced == wanted
    assert STYLES[1] == ["plain", "flag", "flag_foot"] and STYLES[7] == ["plain", "crossbar"]
    assert sorted(STYLES) == list(range(10)) and all(len(STYLES[d]) >= 2 for d in range(10))


@pytest.mark.parametrize("digit", range(10))
def test_draw_style_gives_mouse_like_strokes(digit):
    rng = np.random.default_rng(digit)
    for style in STYLES[digit]:
        for _ in range(5):
            strokes, pen = draw_style(digit, style, rng)
            assert 1 <= len(strokes) <= 4 and 2.0 <= pen <= 60.0
            pts = np.vstack(strokes)
            assert np.array_equal(pts, np.round(pts))  # whole mouse pixels
            assert pts.min() >= 0 and pts.max() < 800  # on a canvas of a few hundred px
            for s in strokes:
                assert s.ndim == 2 and s.shape[1] == 2 and len(s) >= 2
                step = np.hypot(*np.diff(s, axis=0).T)
                assert step.min() > 0  # repeated points are dropped, as the canvas does
            longest = max(strokes, key=len)
            step = np.hypot(*np.diff(longest, axis=0).T)
            assert step.std() / step.mean() > 0.1  # uneven speed, not a resampled polyline


def test_draw_style_rejects_unknown_styles():
    with pytest.raises(ValueError, match="styles are"):
        draw_style(1, "gothic", np.random.default_rng(0))


def test_synthetic_digits_look_like_mnist(synth, mnist):
    x, _ = synth
    com = _com(x)
    assert np.abs(com - 14.0).max() < 0.5
    for img in x[:200]:
        rows, cols = np.nonzero(img > 12)
        assert max(np.ptp(rows), np.ptp(cols)) + 1 <= 21  # inside MNIST's 20x20 box
    ink, mnist_ink = x.mean(), mnist[0][:5000].mean()
    assert 0.75 * mnist_ink < ink < 1.25 * mnist_ink
    assert (x.reshape(len(x), -1).max(axis=1) >= 250).all()


def test_shipped_model_reads_plain_styles(synth, predictor):
    x, y = synth
    styles = np.array(style_of(y))
    plain = np.array([s == STYLES[d][0] for d, s in zip(y.tolist(), styles, strict=True)])
    pred = predictor.predict(_flat(x)).argmax(axis=1)
    assert (pred[plain] == y[plain]).mean() >= 0.9


# ---------------------------------------------------------------------------------------------
# restroke


def test_thinning_gives_one_pixel_wide_skeletons():
    yy, xx = np.mgrid[0:28, 0:28]
    ring = np.abs(np.hypot(yy - 14, xx - 14) - 8) < 2.2  # a thick 0
    bar = (np.abs(xx - 14) <= 2) & (yy >= 4) & (yy <= 23)  # a thick 1
    sk = thin(np.stack([ring, bar]))
    assert (sk <= np.stack([ring, bar])).all()  # inside the ink
    for s in sk:
        blocks = s[1:, 1:] & s[:-1, 1:] & s[1:, :-1] & s[:-1, :-1]
        assert not blocks.any()
    assert sk[0, 14, 14] == 0 and sk[0].sum() > 30  # the ring keeps its hole
    assert 12 <= sk[1].sum() <= 20 and np.ptp(np.nonzero(sk[1])[1]) <= 1  # the bar is a line


def test_restroke_keeps_digits_readable_and_changes_them(mnist, predictor):
    _, _, xt, yt = mnist
    x, y = xt[:300], yt[:300]
    out, traced, edits = restroke_with_info(x, y, seed=2, edit_prob=0.0)
    assert out.shape == x.shape and out.dtype == np.uint8
    assert traced.mean() > 0.9 and (edits == NO_EDIT).all()
    assert np.array_equal(out[~traced], x[~traced])  # untraceable ones come back as they were
    diff = np.abs(out[traced].astype(int) - x[traced]).mean(axis=(1, 2))
    assert (diff > 3).mean() > 0.95  # re-drawn, not copied
    acc = (predictor.predict(_flat(out)).argmax(axis=1) == y).mean()
    assert acc >= 0.9
    com = _com(out[traced])
    assert np.abs(com - 14.0).max() < 0.5
    # Deterministic, and digit i depends only on (seed, i) and its image.
    assert np.array_equal(out[:40], restroke(x[:40], y[:40], seed=2, edit_prob=0.0))
    assert not np.array_equal(out[:40], restroke(x[:40], y[:40], seed=3, edit_prob=0.0))


def test_restroke_adds_flags_crossbars_and_slashes(mnist):
    _, _, xt, yt = mnist
    pick = np.concatenate([np.flatnonzero(yt == d)[:40] for d in (0, 1, 7, 4)])
    x, y = xt[pick], yt[pick]
    out, traced, edits = restroke_with_info(x, y, seed=4, edit_prob=1.0)
    plain, _, _ = restroke_with_info(x, y, seed=4, edit_prob=0.0)
    assert (edits[y == 4] == NO_EDIT).all()
    assert (np.isin(edits[(y == 1) & (edits != NO_EDIT)], [FLAG, FLAG_FOOT])).all()
    assert ((edits == FLAG) | (edits == FLAG_FOOT))[y == 1].mean() > 0.5
    assert (edits[y == 7] == CROSSBAR).mean() > 0.5 and (edits[y == 0] == SLASH).mean() > 0.7
    assert (edits == FLAG_FOOT).any()

    def width(imgs):
        return np.array([np.ptp(np.nonzero(i > 50)[1]) for i in imgs])

    ones = (y == 1) & (edits != NO_EDIT)
    assert width(out[ones]).mean() > width(plain[ones]).mean() + 3  # a flag widens a 1
    edited = edits != NO_EDIT
    assert (np.abs(out[edited].astype(int) - plain[edited]).sum(axis=(1, 2)) > 0).all()


def test_restroke_falls_back_when_it_cannot_trace():
    yy, xx = np.mgrid[0:28, 0:28]
    blob = np.where(np.hypot(yy - 14, xx - 14) < 8, 255, 0).astype(np.uint8)  # a filled disc
    empty = np.zeros((28, 28), np.uint8)
    speck = empty.copy()
    speck[14, 14] = 255
    x = np.stack([blob, empty, speck])
    out, traced, _ = restroke_with_info(x, np.array([0, 1, 2]), seed=0)
    assert not traced.any() and np.array_equal(out, x)
    with pytest.raises(ValueError):
        restroke(np.zeros((3, 28, 28), np.uint8), np.zeros(2), seed=0)


# ---------------------------------------------------------------------------------------------
# non_digits


def test_non_digits_shapes_determinism_and_kinds():
    a = non_digits(36, seed=3)
    assert a.shape == (36, 28, 28) and a.dtype == np.uint8
    assert np.array_equal(a, non_digits(36, seed=3))
    assert not np.array_equal(a, non_digits(36, seed=4))
    assert set(non_digit_kinds(36)) == set(NON_DIGIT_KINDS)
    assert (a.reshape(36, -1).astype(int).sum(axis=1) > 20 * 255).all()  # real ink, not specks
    com = _com(a)
    assert np.abs(com - 14.0).max() < 0.5  # normalised like everything the canvas sends
    for kind in NON_DIGIT_KINDS:
        strokes, pen = draw_non_digit(kind, np.random.default_rng(1))
        assert strokes and pen > 0


def test_non_digits_are_diverse_and_not_digits(synth):
    nd = _flat(non_digits(240, seed=9))
    digits = _flat(synth[0])
    pair = _distances(nd, nd)
    np.fill_diagonal(pair, np.inf)
    assert (pair.min(axis=1) < 1.0).mean() < 0.05  # hardly any near-duplicates among themselves
    assert pair[np.isfinite(pair)].mean() > 0.9 * _distances(digits, digits).mean()
    # No non-digit is closer to a drawn digit than a typical digit is to its nearest sibling.
    dd = _distances(digits, digits)
    np.fill_diagonal(dd, np.inf)
    same = np.where(synth[1][:, None] == synth[1][None, :], dd, np.inf).min(axis=1)
    assert _distances(nd, digits).min() > np.median(same)
