"""Numbers, not just digits: drawings and pictures split into digits the way people write them,
read by the shipped model in one batch; one digit behaves exactly as the single-digit path."""

from __future__ import annotations

import numpy as np
import pytest

from kpgui.core.model.inference import Predictor
from kpgui.core.reading.confidence import Calibration
from kpgui.core.reading.preprocess import image_to_mnist, strokes_to_mnist
from kpgui.core.reading.segment import Piece, read_number, split_picture, split_strokes
from tests.conftest import draw_polyline

PEN = 12.0


# -- digits as people draw them: strokes in a box about 100 wide and 160 tall --------------------


def _arc(cx, cy, rx, ry, a0, a1, n=40):
    a = np.radians(np.linspace(a0, a1, n))
    return np.c_[cx + rx * np.cos(a), cy + ry * np.sin(a)]


def one():
    return [draw_polyline([[55, 0], [45, 160]], 40)]


def one_flag_dot():
    """A 1 whose flag starts with a dot: the pen touched down, lifted, then drew flag and stem."""
    return [np.array([[22.0, 30.0], [24.0, 29.0]]), draw_polyline([[30, 25], [58, 0], [48, 160]], 50)]


def two():
    return [np.vstack([_arc(50, 45, 42, 42, 200, 360), draw_polyline([[92, 45], [5, 160], [100, 160]], 40)])]


def three():
    return [np.vstack([_arc(48, 40, 42, 40, 200, 450), _arc(48, 120, 48, 40, 270, 500)])]


def four():
    """Two strokes: the open angle, then the stem crossing its bar."""
    return [draw_polyline([[55, 0], [5, 110], [100, 110]], 50), draw_polyline([[75, 40], [75, 160]], 40)]


def five():
    """Two strokes: stem and belly, then the hat, apart."""
    body = np.vstack([draw_polyline([[15, 5], [10, 70]], 15), _arc(50, 110, 45, 50, 230, 500)])
    return [body, draw_polyline([[18, 3], [95, 0]], 20)]


def seven_crossed():
    return [draw_polyline([[0, 5], [100, 0], [35, 160]], 60), draw_polyline([[35, 80], [95, 80]], 20)]


def number(*glyphs, gap=40.0, y=100.0):
    """Each glyph's strokes placed left to right, `gap` px between their centre-line boxes."""
    out, x = [], 50.0
    for g in glyphs:
        lo = min(s[:, 0].min() for s in g)
        hi = max(s[:, 0].max() for s in g)
        out.append([np.asarray(s, float) + [x - lo, y] for s in g])
        x += hi - lo + gap
    return out


def flat(digits):
    return [s for d in digits for s in d]


@pytest.fixture(scope="module")
def reader():
    predictor = Predictor.load()
    calibration = Calibration.from_card(predictor.card)
    return lambda pieces: read_number(pieces, predictor, calibration)


def groups(pieces):
    return [set(p.stroke_ids) for p in pieces]


# -- drawn strokes ---------------------------------------------------------------------------------


def test_digits_written_apart_are_read_as_a_number(reader):
    digits = number(one(), two(), three())
    pieces = split_strokes(flat(digits), PEN)
    assert len(pieces) == 3 and not any(p.split for p in pieces)
    assert groups(pieces) == [{0}, {1}, {2}]
    assert [p.box[0] for p in pieces] == sorted(p.box[0] for p in pieces)
    result = reader(pieces)
    assert result.text == "123" and result.sure and result.digits == (1, 2, 3)


@pytest.mark.parametrize("glyph, label", [(five, 5), (four, 4), (seven_crossed, 7), (one_flag_dot, 1)])
def test_digits_of_several_strokes_stay_one_digit(reader, glyph, label):
    """A 5's separate hat, a 4 in two strokes, a crossed 7, the dot-like start of a 1's flag."""
    digits = number(two(), glyph(), three())
    strokes = flat(digits)
    pieces = split_strokes(strokes, PEN)
    n = len(glyph())
    assert groups(pieces) == [{0}, set(range(1, 1 + n)), {1 + n}]
    assert reader(pieces).digits == (2, label, 3)
    alone = split_strokes(digits[1], PEN)  # and alone it is today's single digit
    assert len(alone) == 1 and np.array_equal(alone[0].image, strokes_to_mnist(digits[1], PEN))


def test_strokes_drawn_out_of_order_group_by_position(reader):
    """Write 4 5 7 leaving out the 4's stem, the 5's hat and the 7's crossbar; add them last."""
    d4, d5, d7 = number(four(), five(), seven_crossed())
    in_order = split_strokes(d4 + d5 + d7, PEN)
    late = [d4[0], d5[0], d7[0], d7[1], d4[1], d5[1]]  # crossbar, stem, hat at the end
    pieces = split_strokes(late, PEN)
    assert groups(pieces) == [{0, 4}, {1, 5}, {2, 3}]
    assert reader(pieces).digits == reader(in_order).digits == (4, 5, 7)


def test_small_gaps_keep_digits_apart():
    height = 160.0
    for glyphs in ((one(), one()), (three(), five()), (four(), seven_crossed())):
        pieces = split_strokes(flat(number(*glyphs, gap=0.1 * height)), PEN)
        assert len(pieces) == 2, glyphs


def test_one_digit_is_exactly_todays_single_digit_path():
    messy = [*five(), np.array([[np.nan, 3.0], [np.inf, 1.0]]), np.zeros((0, 2)), [[40, 60], [41, 62]]]
    for strokes, pen in ((two(), 12.0), (four(), 3.0), (five(), 40.0), (messy, 8.0), (one_flag_dot(), 12.0)):
        pieces = split_strokes(strokes, pen)
        assert len(pieces) == 1 and not pieces[0].split
        assert np.array_equal(pieces[0].image, strokes_to_mnist(strokes, pen))
    # ... and read_number of it is today's reading.
    predictor = Predictor.load()
    probs = predictor.predict(strokes_to_mnist(four(), 12.0)[None])[0]
    result = read_number(split_strokes(four(), 12.0), predictor, Calibration())
    assert result.readings[0].digit == int(probs.argmax())
    assert np.allclose(result.readings[0].probabilities, probs)


def test_touching_digits_in_one_stroke_are_cut(reader):
    """A 2 and a 3 written in one stroke, the 2's base running on into the 3's tail: the ink is
    cut where it is thinnest, the pieces are marked split, and the result is right or says it is
    not sure."""
    two_ = two()[0]
    three_ = three()[0][::-1] + [130, 0]  # drawn from its tail
    stroke = np.vstack([two_, draw_polyline([two_[-1], three_[0]], 20), three_])
    pieces = split_strokes([stroke], PEN)
    assert len(pieces) == 1 and len(pieces[0].parts) == 2  # offered both ways
    left, right = pieces[0].parts
    assert left.split and right.split and left.stroke_ids == right.stroke_ids == (0,)
    assert 100 - PEN <= left.box[2] <= 141 + PEN and 100 - PEN <= right.box[0] <= 141 + PEN
    result = reader(pieces)
    assert len(result.pieces) == 2 and all(p.split for p in result.pieces)
    assert result.text == "23" or not result.sure


def test_a_doubtful_split_is_never_sure(reader):
    image = strokes_to_mnist(seven_crossed(), PEN)
    box = (0.0, 0.0, 1.0, 1.0)
    clean = Piece(image, box, (0,), True)
    assert reader([clean]).sure  # read at ~100 %: a clean cut is sure
    for split in (True, False):
        doubtful = Piece(image, box, (0,), split, doubtful=True)
        result = reader([doubtful])
        assert result.text == "?" and not result.sure and result.digits == (7,)
    blurred = Piece((image + image[:, ::-1]) / 2, box, (0,), True)  # a guess below 90 %
    result = reader([blurred])
    assert result.readings[0].confidence >= 0.9 or result.text == "?"


def test_empty_and_bad_input():
    assert split_strokes([], PEN) == []
    assert split_strokes(None, PEN) == []
    assert split_strokes([np.zeros((0, 2)), [[np.nan, np.nan]], "junk"], PEN) == []
    assert split_picture(np.ones((50, 80))) == []
    assert split_picture(np.zeros((0, 0))) == []
    result = read_number([], None, None)
    assert result.text == "" and not result.sure and result.readings == ()
    with pytest.raises(ValueError):
        split_picture(np.ones((5, 5)), ink="purple")


def test_work_is_bounded():
    rng = np.random.default_rng(0)
    digits = [[s + [i * 150, rng.uniform(-20, 20)] for s in one()] for i in range(40)]
    pieces = split_strokes(flat(digits), PEN)
    assert 1 <= len(pieces) <= 20
    dots = [np.array([[x, y]]) for x, y in rng.uniform(0, 400, (3000, 2))]
    assert len(split_strokes(dots, 4.0)) <= 20


# -- pictures --------------------------------------------------------------------------------------


def _easy_digits(mnist, labels, predictor):
    """MNIST test digits of these labels that the model reads right alone."""
    _, _, x, y = mnist
    ok = predictor.predict(x[:400].astype(np.float32) / 255).argmax(axis=1) == y[:400]
    return [x[:400][(y[:400] == d) & ok][0] for d in labels]


def _picture(digits, gap=8, dark=True):
    """Digits side by side on a 4x larger canvas with `gap` (MNIST px) between their ink."""
    crops = []
    for d in digits:
        cols = np.flatnonzero(d.max(axis=0) > 0)
        crops.append(d[:, cols.min() : cols.max() + 1])
    strip = [np.zeros((28, 6), np.uint8)]
    for c in crops:
        strip += [c, np.zeros((28, gap), np.uint8)]
    ink = np.kron(np.hstack(strip), np.ones((4, 4))).astype(np.float64) / 255.0
    ink = np.pad(ink, 16)
    return 0.9 - 0.75 * ink if dark else 0.1 + 0.8 * ink


@pytest.mark.parametrize("dark", [True, False])
def test_picture_of_a_number_is_read(mnist, reader, dark):
    predictor = Predictor.load()
    digits = _easy_digits(mnist, [2, 0, 2, 6], predictor)
    pieces = split_picture(_picture(digits, dark=dark))
    assert len(pieces) == 4
    assert reader(pieces).text == "2026"


def test_one_digit_picture_is_exactly_image_to_mnist(mnist):
    _, _, x, _ = mnist
    for img in (x[0], 255 - x[1], _picture([x[2]])):
        pieces = split_picture(img)
        assert len(pieces) == 1
        assert np.array_equal(pieces[0].image, image_to_mnist(img))


def test_broken_digit_is_merged(mnist, reader):
    predictor = Predictor.load()
    digits = _easy_digits(mnist, [4, 7], predictor)
    picture = _picture(digits)
    rows = np.flatnonzero((picture < 0.5).any(axis=1))
    mid = (rows.min() + rows.max()) // 2
    picture[mid - 3 : mid + 3] = 0.9  # a band of paper through both digits: each in two pieces
    pieces = split_picture(picture)
    assert len(pieces) == 2
    assert reader(pieces).digits == (4, 7)


def test_specks_are_ignored(mnist, reader):
    predictor = Predictor.load()
    digits = _easy_digits(mnist, [3, 8], predictor)
    picture = _picture(digits)
    clean = split_picture(picture)
    rng = np.random.default_rng(1)
    h, w = picture.shape
    for y, x in zip(rng.integers(0, 14, 25), rng.integers(0, w - 2, 25), strict=True):
        picture[y : y + 2, x : x + 2] = 0.1  # dust along the top margin
    picture[h - 8 : h - 6, w // 2 : w // 2 + 3] = 0.1
    noisy = split_picture(picture)
    assert len(noisy) == len(clean) == 2
    assert reader(noisy).text == reader(clean).text == "38"
