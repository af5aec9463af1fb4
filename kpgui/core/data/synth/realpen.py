"""Real people's pen digits as training data, and the one reader of their file.

The UCI "Pen-Based Recognition of Handwritten Digits" collection (E. Alpaydin, F. Alimoglu,
Bogazici University, 1996; CC BY 4.0): 7,494 digits by 30 people writing with a stylus on a tablet
inside a 500x500 box, y growing upward. Its file (`pendigits-train.npz`: `points`, `stroke_len`,
`n_strokes`, `label`, `writer`) is found like MNIST: a path given, then $KPGUI_PENDIGITS, then
`shared/data/` beside a source checkout. kpgui never downloads or ships it.

Why real strokes and not more of our own generator: the digits people misread are written in
ways no generator of ours drew (a 1 with a long up-stroke flag, a 9 with a small head and long
tail, a 7 written like a Z, an open 4). Each real digit is used as written and, `copies` times,
re-drawn by the simulated hand of `kpgui.core.data.synth.pen` (slant, stretch, bend, size, a mouse's
sampling): a writer's shape, varied the way the same person varies it. The digits of
HELD_OUT_WRITERS are never trained on, so the shipped model can be checked on strangers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CANVAS = 400  # a person writing in the canvas box fills it about as the writers filled theirs
TABLET_BOX = 500.0
MARGIN = 20.0
PEN_WIDTH = 18.0  # the canvas's default pen
HELD_OUT_WRITERS: tuple[int, ...] = (28, 29, 30)  # never trained on: the shipped model's strangers
FILE_NAME = "pendigits-train.npz"
_MAX_POINTS = 2_000_000  # the real file has 304 216; anything much bigger is not it


class PenDigitsError(RuntimeError):
    """The pen digits file could not be found or read; the message says why and what to do."""


@dataclass(frozen=True)
class PenDigits:
    """Every digit's strokes (canvas pixels, y down), its label and who wrote it."""

    strokes: list[list[np.ndarray]]
    label: np.ndarray  # (N,) int64
    writer: np.ndarray  # (N,) int64

    def __len__(self) -> int:
        return len(self.strokes)

    def subset(self, keep: np.ndarray) -> PenDigits:
        """The digits at the given indices (or boolean mask)."""
        idx = np.flatnonzero(keep) if np.asarray(keep).dtype == bool else np.asarray(keep)
        return PenDigits([self.strokes[i] for i in idx], self.label[idx], self.writer[idx])

    def without_writers(self, writers: Iterable[int]) -> PenDigits:
        return self.subset(~np.isin(self.writer, list(writers)))

    def of_writers(self, writers: Iterable[int]) -> PenDigits:
        return self.subset(np.isin(self.writer, list(writers)))


def find_pendigits(path: str | os.PathLike | None = None) -> Path | None:
    """The file: `path` if given (nothing else then), else $KPGUI_PENDIGITS, else shared/data/
    beside a source checkout."""
    if path is not None:
        return Path(path) if Path(path).is_file() else None
    candidates = [
        os.environ.get("KPGUI_PENDIGITS"),
        Path(__file__).resolve().parents[5] / "shared" / "data" / FILE_NAME,
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def to_canvas(points: np.ndarray) -> np.ndarray:
    """Tablet units (y up, 0..500) -> canvas pixels (y down) on a 400 px canvas."""
    scale = (CANVAS - 2 * MARGIN) / TABLET_BOX
    pts = np.asarray(points, np.float64)
    return np.stack([MARGIN + pts[:, 0] * scale, MARGIN + (TABLET_BOX - pts[:, 1]) * scale], axis=1)


def load_pendigits(path: str | os.PathLike | None = None) -> PenDigits:
    """Read the file (no pickles, sizes checked) and cut its flat arrays into digits."""
    found = find_pendigits(path)
    if found is None:
        raise PenDigitsError(
            f"{FILE_NAME} not found{f' at {path}' if path else ''}: give its path "
            "or set KPGUI_PENDIGITS (it is the UCI pen digits collection)."
        )
    try:
        with np.load(found, allow_pickle=False) as d:
            if d["points"].shape[0] > _MAX_POINTS:
                raise PenDigitsError(f"{found}: {d['points'].shape[0]:,} points is not the pen digits file")
            points = d["points"].astype(np.float64).reshape(-1, 2)
            stroke_len = d["stroke_len"].astype(np.int64)
            n_strokes = d["n_strokes"].astype(np.int64)
            label, writer = d["label"].astype(np.int64), d["writer"].astype(np.int64)
    except (OSError, KeyError, ValueError) as exc:
        raise PenDigitsError(f"{found} could not be read as the pen digits file: {exc}") from exc
    if (
        stroke_len.sum() != len(points)
        or n_strokes.sum() != len(stroke_len)
        or len(n_strokes) != len(label)
        or len(label) != len(writer)
        or (stroke_len < 1).any()
        or (n_strokes < 1).any()
        or not np.isin(label, range(10)).all()
    ):
        raise PenDigitsError(f"{found}: its stroke, point and digit counts do not add up")
    stroke_start = np.concatenate([[0], np.cumsum(stroke_len)])
    digit_start = np.concatenate([[0], np.cumsum(n_strokes)])
    canvas = to_canvas(points)
    strokes = [
        [canvas[stroke_start[s] : stroke_start[s + 1]] for s in range(digit_start[i], digit_start[i + 1])]
        for i in range(len(label))
    ]
    return PenDigits(strokes, label, writer)


def _unit_frame(strokes: list[np.ndarray]) -> list[np.ndarray]:
    """Canvas strokes -> the synthetic hand's frame: top-left at 0, one unit high."""
    pts = np.vstack(strokes)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    height = max(hi[1] - lo[1], 0.3 * (hi[0] - lo[0]), 1e-6)
    return [(s - lo) / height for s in strokes]


def render_as_written(digits: PenDigits, pen_width: float = PEN_WIDTH) -> np.ndarray:
    """Each digit as the canvas would read it: (N, 28, 28) float32 in [0, 1]."""
    from kpgui.core.reading.preprocess import strokes_to_mnist

    if not len(digits):
        return np.zeros((0, 28, 28), np.float32)
    return np.stack([strokes_to_mnist(s, pen_width) for s in digits.strokes]).astype(np.float32)


def real_pen_training_set(
    digits: PenDigits, copies: int, seed: int, *, batch: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """Every digit as written plus `copies` re-drawings by the simulated hand, as uint8 images
    (M, 28, 28) and labels (M,). Each re-drawing's randomness depends only on (seed, digit
    index, copy), so the set is the same however it is batched."""
    from kpgui.core.data.synth.pen import PERSON, hand_many
    from kpgui.core.reading.preprocess import strokes_to_mnist

    images = [render_as_written(digits)]
    labels = [digits.label]
    if copies > 0 and len(digits):
        glyphs = [_unit_frame(digits.strokes[i]) for i in range(len(digits)) for _ in range(copies)]
        rngs = [np.random.default_rng([seed, i, c]) for i in range(len(digits)) for c in range(copies)]
        drawn: list[np.ndarray] = []
        for k in range(0, len(glyphs), batch):
            for strokes, pen in hand_many(glyphs[k : k + batch], rngs[k : k + batch], PERSON):
                drawn.append(strokes_to_mnist(strokes, pen))
        images.append(np.stack(drawn).astype(np.float32))
        labels.append(np.repeat(digits.label, copies))
    x = np.clip(np.rint(np.concatenate(images) * 255.0), 0, 255).astype(np.uint8)
    return x, np.concatenate(labels).astype(np.uint8)
