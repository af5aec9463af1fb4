"""Numbers, not just digits: split a drawing or a picture into its digits and read them all.

    pieces = split_strokes(strokes, pen_width)        # or split_picture(gray)
    number = read_number(pieces, predictor, calibration)
    number.text                                       # "2026"; "20?6" when a digit is not sure
    number.pieces                                     # the digits read, with their boxes

Each piece is one digit, normalised the MNIST way by the single-digit path (`strokes_to_mnist`,
`image_to_mnist`); a drawing or picture of one digit gives exactly what that path gives.

Ink that may be one digit or several touching ones (wider than a digit is tall, or neighbours
whose ink touches) comes as one piece with `parts`: the same ink cut where it is thinnest.
`read_number` reads both in its one batched predict and keeps the reading that is more probable
(the product of the parts' confidences against the whole's squared). A piece cut out of touching ink is
sure only when the model reads it very surely, and never when the cut was doubtful.

How ink is grouped and cut: `_layout`; strokes: `_strokes`; pictures: `_picture`, with the NumPy
connected-component labelling of `_label` (no SciPy).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kpgui.core.reading.confidence import Calibration, Reading, read_images
from kpgui.core.reading.segment import _picture, _strokes
from kpgui.core.reading.segment._layout import Piece

__all__ = ["NumberReading", "Piece", "read_drawing", "read_number", "split_picture", "split_strokes"]

SPLIT_CONFIDENCE = 0.9  # a digit cut out of touching ink must be read at least this surely
# Parts win over the whole when the product of their confidences beats the whole's to this power
# (2: a whole read at 60 % loses to parts read at 80 % and 50 %; one read at 99 % needs > 98 %).
PARTS_POWER = 2.0


@dataclass(frozen=True)
class NumberReading:
    """What the model reads in a number: one calibrated Reading per digit, left to right."""

    readings: tuple[Reading, ...]
    text: str  # e.g. "2026"; "?" for a digit that is not sure
    sure: bool  # every digit sure and no doubtful cut (False when there is nothing to read)
    pieces: tuple[Piece, ...] = ()  # the digits read (a piece or its parts, whichever won)

    @property
    def digits(self) -> tuple[int, ...]:
        """The best guess of every digit, sure or not."""
        return tuple(r.digit for r in self.readings)


def split_strokes(strokes: Sequence[np.ndarray], pen_width: float) -> list[Piece]:
    """The digits of a drawing, left to right. `strokes` are (N, 2) polylines in canvas pixels
    (x right, y down), `pen_width` the pen's diameter in the same pixels. Strokes are grouped by
    where their ink lies, not by the order they were drawn in; a drawing of one digit gives one
    piece whose image is exactly `strokes_to_mnist(strokes, pen_width)`. Bad input never
    raises; empty input gives []."""
    return _strokes.split(strokes, pen_width)


def split_picture(gray: np.ndarray, ink: str = "auto") -> list[Piece]:
    """The digits of a picture, left to right: connected ink components, pieces of a broken digit
    merged, specks away from any digit ignored. `gray` and `ink` are as for image_to_mnist; a
    picture of one digit gives exactly what image_to_mnist gives."""
    return _picture.split(gray, ink)


def _judged(piece: Piece, r: Reading) -> Reading:
    if r.sure and (piece.doubtful or (piece.split and r.confidence < SPLIT_CONFIDENCE)):
        return dataclasses.replace(r, sure=False)
    return r


def read_number(pieces: Sequence[Piece], predictor, calibration: Calibration | None = None) -> NumberReading:
    """Read every piece (and every part a piece offers) with one batched predict (their views
    included, when the calibration uses them: kpgui.core.reading.confidence.read_images)."""
    pieces = tuple(pieces)
    if not pieces:
        return NumberReading((), "", False, ())
    images = [im for p in pieces for im in (p.image, *(q.image for q in p.parts))]
    every = read_images(predictor, np.stack(images).astype(np.float32, copy=False), calibration)
    chosen: list[Piece] = []
    readings: list[Reading] = []
    k = 0
    for piece in pieces:
        whole = every[k]
        parts = every[k + 1 : k + 1 + len(piece.parts)]
        k += 1 + len(piece.parts)
        if parts and (
            sum(np.log(max(r.confidence, 1e-12)) for r in parts)
            > PARTS_POWER * np.log(max(whole.confidence, 1e-12))
        ):
            chosen += piece.parts
            readings += [_judged(q, r) for q, r in zip(piece.parts, parts, strict=True)]
        else:
            chosen.append(piece)
            readings.append(_judged(piece, whole))
    text = "".join(str(r.digit) if r.sure else "?" for r in readings)
    return NumberReading(tuple(readings), text, all(r.sure for r in readings), tuple(chosen))


def read_drawing(
    strokes: Sequence[np.ndarray], pen_width: float, predictor, calibration: Calibration | None = None
) -> NumberReading:
    """Canvas strokes read the way the window reads them: split into digits where people leave
    space between them, every digit read in one batch (benchmarks and tests of real writing)."""
    return read_number(split_strokes(strokes, pen_width), predictor, calibration)
