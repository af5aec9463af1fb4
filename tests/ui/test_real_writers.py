"""Real people's digits written on the canvas with the mouse (issue 19): the held-out writers'
digits that the previous shipped model read confidently wrong — 1s with a long up-stroke flag
read as 7, 9s with a small head and long tail read as 7, a 7 written like a Z read as 2, an
open 4 — replayed stroke by stroke through qtbot and read by the window."""

from __future__ import annotations

import numpy as np
import pytest

from kpgui.core.data.synth.realpen import HELD_OUT_WRITERS, find_pendigits, load_pendigits
from tests.ui.helpers import draw, settle

pytestmark = pytest.mark.skipif(find_pendigits() is None, reason="the pen digits file is not here")

# Indices among the held-out writers' digits (load_pendigits().of_writers(HELD_OUT_WRITERS)) that
# the previous shipped model (commit 42c4747) read sure and wrong: 27 digits.
PREVIOUS_SURE_AND_WRONG = (
    21,
    36,
    41,
    109,
    134,
    135,
    142,
    254,
    337,
    401,
    405,
    428,
    512,
    514,
    517,
    528,
    573,
    584,
    625,
    641,
    648,
    669,
    678,
    697,
    707,
    724,
    742,
)


def _on_canvas(strokes, canvas) -> list[np.ndarray]:
    """The 400 px writing box scaled onto the canvas as it is now."""
    w, h = canvas.canvas_size()
    k = min(w, h) / 400.0
    return [np.asarray(s) * k for s in strokes]


def test_digits_people_write_are_read_right_or_flagged(qtbot, rig):
    digits = load_pendigits().of_writers(HELD_OUT_WRITERS)
    canvas = rig.panels["drawing"].canvas
    rig.panels["drawing"].pen_spin.setValue(18)
    right = flagged = wrong = 0
    for i in PREVIOUS_SURE_AND_WRONG:
        rig.drawing.clear()
        for stroke in _on_canvas(digits.strokes[i], canvas):
            draw(qtbot, canvas, stroke)
        settle(qtbot, rig)
        reading, number = rig.state.reading, rig.state.number
        assert reading is not None
        shown = number.digits if number is not None else (reading.digit,)
        sure = number.sure if number is not None else reading.sure
        if shown == (digits.label[i],):
            right += 1
        elif not sure:
            flagged += 1
        else:
            wrong += 1
    # Measured with the shipped model: 19 right, 5 flagged "not sure", 3 still sure and wrong (all
    # 27 were sure and wrong before; by the top probability alone, without the views: 3 and 5).
    assert right >= 17 and wrong <= 4, (right, flagged, wrong)
