"""Real people's pen digits: the one reader of their file, and the training set made from them."""

from __future__ import annotations

import numpy as np
import pytest

from kpgui.core.data.synth.realpen import (
    HELD_OUT_WRITERS,
    PenDigitsError,
    find_pendigits,
    load_pendigits,
    real_pen_training_set,
    to_canvas,
)

needs_file = pytest.mark.skipif(find_pendigits() is None, reason="the pen digits file is not here")


def _write_small_file(path, digits):
    """A pen digits file in the real layout, holding `digits` (list of (strokes, label, writer))
    with strokes in tablet units, y up."""
    points, stroke_len, n_strokes, label, writer = [], [], [], [], []
    for strokes, lab, who in digits:
        for s in strokes:
            points.append(np.asarray(s, np.int16))
            stroke_len.append(len(s))
        n_strokes.append(len(strokes))
        label.append(lab)
        writer.append(who)
    np.savez(
        path,
        points=np.vstack(points),
        stroke_len=np.array(stroke_len, np.int32),
        n_strokes=np.array(n_strokes, np.int32),
        label=np.array(label, np.uint8),
        writer=np.array(writer, np.int16),
    )
    return path


ONE = [[(250, 450), (250, 50)]]  # a plain 1, top to bottom (tablet y grows upward)
SEVEN = [[(100, 450), (400, 450), (200, 50)]]


def test_tablet_box_maps_onto_the_canvas_upright():
    corners = to_canvas(np.array([[0, 500], [500, 0]]))
    assert np.allclose(corners, [[20, 20], [380, 380]])  # top-left stays top-left: y flipped


def test_reader_cuts_the_flat_arrays_into_digits_of_strokes(tmp_path):
    path = _write_small_file(tmp_path / "pen.npz", [(ONE, 1, 1), (SEVEN + ONE, 7, 2)])
    digits = load_pendigits(path)
    assert len(digits) == 2 and list(digits.label) == [1, 7] and list(digits.writer) == [1, 2]
    assert [len(s) for s in digits.strokes] == [1, 2]
    top, bottom = digits.strokes[0][0]
    assert top[1] < bottom[1]  # the 1 starts at the top of the canvas


def test_a_missing_or_inconsistent_file_says_what_to_do(tmp_path):
    with pytest.raises(PenDigitsError, match="KPGUI_PENDIGITS"):
        load_pendigits(tmp_path / "nowhere.npz")
    bad = tmp_path / "bad.npz"
    np.savez(
        bad,
        points=np.zeros((5, 2), np.int16),
        stroke_len=np.array([9], np.int32),
        n_strokes=np.array([1], np.int32),
        label=np.array([3], np.uint8),
        writer=np.array([1], np.int16),
    )
    with pytest.raises(PenDigitsError, match="do not add up"):
        load_pendigits(bad)


def test_training_set_is_the_digits_as_written_plus_repeatable_redrawings(tmp_path):
    path = _write_small_file(tmp_path / "pen.npz", [(ONE, 1, 1), (SEVEN, 7, 1), (ONE, 1, 2)])
    digits = load_pendigits(path)
    x, y = real_pen_training_set(digits, copies=3, seed=5)
    assert x.shape == (12, 28, 28) and x.dtype == np.uint8
    assert list(y[:3]) == [1, 7, 1] and sorted(y[3:].tolist()) == [1] * 6 + [7] * 3
    again, _ = real_pen_training_set(digits, copies=3, seed=5, batch=2)  # batching changes nothing
    assert np.array_equal(x, again)
    other, _ = real_pen_training_set(digits, copies=3, seed=6)
    assert np.array_equal(x[:3], other[:3]) and not np.array_equal(x[3:], other[3:])
    assert all(img.max() > 200 for img in x), "a drawing without ink"


def test_training_never_sees_the_held_out_writers(tmp_path, monkeypatch):
    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.training.trainer import generated_extras

    held = HELD_OUT_WRITERS[0]
    path = _write_small_file(tmp_path / "pen.npz", [(ONE, 1, 1), (SEVEN, 7, held), (SEVEN, 7, 2)])
    monkeypatch.setenv("KPGUI_PENDIGITS", str(path))
    x0, y0 = np.zeros((10, 28, 28), np.uint8), np.zeros(10, np.int64)
    images, targets = generated_extras(ModelSpec(real_pen=2), x0, y0)
    assert len(images) == 2 * 3  # two writers' digits, each as written and twice re-drawn
    assert targets.argmax(axis=1).tolist().count(7) == 3
    fold, _t = generated_extras(ModelSpec(real_pen=2), x0, y0, held_out_writers=(1, 2))
    assert len(fold) == 3  # a benchmark fold keeps its own writers out instead


@needs_file
def test_the_real_file_has_thirty_writers_and_upright_ones():
    digits = load_pendigits()
    assert len(digits) == 7494 and len(np.unique(digits.writer)) == 30
    ones = digits.subset(digits.label == 1)
    tall = [np.ptp(np.vstack(s)[:, 1]) > np.ptp(np.vstack(s)[:, 0]) for s in ones.strokes]
    assert np.mean(tall) > 0.8


def test_continue_refuses_a_model_whose_layers_differ(capsys):
    from kpgui.cli import main
    from kpgui.core.storage.resources import default_model_path

    rc = main(["train", "--continue", str(default_model_path()), "--hidden", "64", "--epochs", "1"])
    assert rc != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--hidden 512,512" in err[0] and "Traceback" not in err[0]
