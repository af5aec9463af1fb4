"""strokes_to_mnist / image_to_mnist make MNIST-like images whatever the drawing looks like."""

from __future__ import annotations

import numpy as np
import pytest

from kpgui.core.reading.preprocess import image_to_mnist, strokes_to_mnist
from tests.conftest import draw_polyline

YY, XX = np.mgrid[0:28, 0:28]


def seven(scale=1.0, dx=0.0, dy=0.0):
    """A '7' as a person draws it on a 400 px canvas: a bar and a slanted down-stroke."""
    pts = np.array([[110, 90], [290, 90], [230, 200], [180, 330]], np.float64)
    stroke = draw_polyline(pts, 90)
    return [(stroke - 200) * scale + 200 + [dx, dy]]


def four():
    return [
        draw_polyline([[150, 80], [110, 230], [270, 230]], 70),
        draw_polyline([[230, 120], [230, 340]], 50),
    ]


def centre_of_mass(img):
    m = img.sum()
    return (img * XX).sum() / m, (img * YY).sum() / m


def test_output_is_28x28_float_in_unit_range():
    img = strokes_to_mnist(seven(), 12)
    assert img.shape == (28, 28) and img.dtype == np.float32
    assert 0.0 <= img.min() and img.max() <= 1.0 and img.max() > 0.99


def test_centre_of_mass_is_mnists_and_box_is_20px():
    img = strokes_to_mnist(four(), 10)
    cx, cy = centre_of_mass(img)
    assert abs(cx - 14) < 0.05 and abs(cy - 14) < 0.05
    rows, cols = np.nonzero(img > 0.05)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 in (19, 20, 21)


def test_position_does_not_matter():
    a = strokes_to_mnist(seven(), 12)
    b = strokes_to_mnist(seven(dx=-90, dy=60), 12)
    assert np.abs(a - b).max() < 0.01 and np.abs(a - b).mean() < 1e-3


@pytest.mark.parametrize("scale", [0.3, 2.5])
def test_size_does_not_matter(scale):
    a = strokes_to_mnist(seven(), 12)
    b = strokes_to_mnist(seven(scale=scale), 12 * scale)
    assert np.abs(a - b).mean() < 0.01 and np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.98


def test_pen_width_is_normalised_to_mnist_strokes():
    outs = [strokes_to_mnist(seven(), w) for w in (3, 12, 40)]
    for o in outs[1:]:
        assert np.corrcoef(outs[0].ravel(), o.ravel())[0, 1] > 0.98
    # MNIST strokes: about 2 px of solid ink (measured on MNIST: median 2.0 px at > 0.5)
    ink = outs[1] > 0.5
    padded = np.pad(ink, 1)
    perimeter = (padded[1:] != padded[:-1]).sum() + (padded[:, 1:] != padded[:, :-1]).sum()
    width = 2 * ink.sum() / perimeter
    assert 1.5 < width < 3.0


def test_total_ink_is_mnist_like():
    # MNIST digits carry ~103 units of ink on average (mean pixel 33.3 / 255 * 784).
    for strokes in (seven(), four()):
        assert 50 < strokes_to_mnist(strokes, 10).sum() < 160


@pytest.mark.parametrize(
    "strokes",
    [
        [],
        None,
        [np.empty((0, 2))],
        [[[np.nan, np.nan], [np.inf, 3]]],
        [[[5, 5], [5, 5], [5, 5]]],  # zero-length stroke
        [[[1e300, -1e300], [-1e300, 1e300]]],
        [[[1e12, 1e12]]],
        [[[0, 0], [np.nan, 1], [10, 10]]],
        [["a", "b"]],
    ],
)
def test_bad_input_never_raises(strokes):
    img = strokes_to_mnist(strokes, 10)
    assert img.shape == (28, 28) and np.isfinite(img).all()
    assert 0.0 <= img.min() and img.max() <= 1.0


def test_nothing_drawn_gives_zeros():
    assert not strokes_to_mnist([], 5).any()
    assert not strokes_to_mnist([[[np.nan, 1.0]]], 5).any()


def test_a_dot_stays_a_small_dot():
    img = strokes_to_mnist([[[100.0, 100.0]]], 8)
    assert 0 < (img > 0.1).sum() < 30
    cx, cy = centre_of_mass(img)
    assert abs(cx - 14) < 0.1 and abs(cy - 14) < 0.1


def test_bad_pen_width_is_tolerated():
    for pen in (0, -3, np.nan, np.inf, "x", None):
        assert strokes_to_mnist(seven(), pen).any()


# -- pictures ------------------------------------------------------------------------------


def _on_paper(digit28: np.ndarray, size=300, zoom=8, at=(40, 70), dark_ink=True):
    """An MNIST digit blown up onto a big sheet, as a photo/scan of paper would show it."""
    big = np.kron(digit28.astype(np.float64) / 255.0, np.ones((zoom, zoom)))
    sheet = np.zeros((size, size))
    y, x = at
    sheet[y : y + big.shape[0], x : x + big.shape[1]] = big[: size - y, : size - x]
    return (1.0 - sheet) if dark_ink else sheet


def test_picture_of_a_digit_is_recognised(mnist):
    from kpgui.core.model.inference import Predictor

    _, _, x_test, y_test = mnist
    predictor = Predictor.load()
    right = 0
    for i in range(40):
        img = image_to_mnist(_on_paper(x_test[i]), ink="auto")
        right += int(predictor.predict_one(img).argmax() == y_test[i])
    assert right >= 36


def test_ink_modes_agree_on_a_clear_picture(mnist):
    digit = mnist[2][0]
    dark = image_to_mnist(_on_paper(digit, dark_ink=True), ink="dark")
    light = image_to_mnist(_on_paper(digit, dark_ink=False), ink="light")
    auto = image_to_mnist(_on_paper(digit, dark_ink=True), ink="auto")
    assert np.abs(dark - light).max() < 1e-6 and np.abs(dark - auto).max() < 1e-6
    cx, cy = centre_of_mass(dark)
    assert abs(cx - 14) < 0.3 and abs(cy - 14) < 0.3


def test_uint8_rgb_and_rgba_pictures_are_accepted(mnist):
    gray = (_on_paper(mnist[2][1]) * 255).astype(np.uint8)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    rgba = np.concatenate([rgb, np.full(gray.shape + (1,), 255, np.uint8)], axis=2)
    a, b, c = image_to_mnist(gray), image_to_mnist(rgb), image_to_mnist(rgba)
    assert np.abs(a - b).max() < 1e-2 and np.abs(a - c).max() < 1e-2


def test_blank_or_flat_pictures_give_zeros():
    assert not image_to_mnist(np.ones((50, 80))).any()
    assert not image_to_mnist(np.zeros((10, 10), np.uint8)).any()
    assert not image_to_mnist(np.zeros((0, 0))).any()


def test_bad_ink_mode_is_refused():
    with pytest.raises(ValueError):
        image_to_mnist(np.zeros((5, 5)), ink="purple")


def test_a_picture_with_transparency_reads_as_its_luma_within_pillows_rounding(tmp_path, mnist):
    """The reader's grey is Pillow's convert("L"): ITU-R 601-2 luma, rounded to 1/255."""
    from PIL import Image

    from kpgui.core.reading.imageio import read_image
    from kpgui.core.reading.preprocess import flatten_alpha

    rng = np.random.default_rng(0)
    digit = (_on_paper(mnist[2][3], dark_ink=True) * 255).astype(np.uint8)
    rgb = np.clip(digit[..., None].astype(int) + rng.integers(-60, 60, (1, 1, 3)), 0, 255).astype(np.uint8)
    alpha = rng.integers(128, 256, digit.shape).astype(np.uint8)  # translucent in places
    path = tmp_path / "tinted.png"
    Image.fromarray(np.dstack([rgb, alpha])).save(path)
    luma = (rgb.astype(np.float64) / 255.0) @ np.array([0.299, 0.587, 0.114])
    expected = flatten_alpha(luma, alpha / 255.0)
    got = read_image(path)
    assert got.shape == digit.shape
    assert np.abs(got - expected).max() <= 0.5 / 255 + 1e-9, np.abs(got - expected).max()
