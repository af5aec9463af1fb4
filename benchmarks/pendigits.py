"""Real people's pen digits: the UCI "Pen-Based Recognition of Handwritten Digits" trajectories
(E. Alpaydin, F. Alimoglu, 1996; CC BY 4.0) at ../shared/data/pendigits-train.npz, as the canvas
would have recorded them.

    from pendigits import load_pendigits
    digits = load_pendigits()            # PenDigits: strokes per digit, label, writer
    digits.strokes[i]                    # list of (N, 2) float arrays, canvas pixels, y down

The writers wrote with a stylus inside a 500x500 box on a tablet, y growing upward. A person
writing in kpgui's 400 px canvas fills it about the same way, so each digit is flipped (y down)
and the box mapped onto the canvas with a margin: the digit keeps the size and place it had in
the writer's box. Never copy the file into the repository; never report a number on writers a
model was fitted on (fold by `writer`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CANVAS = 400  # the benchmarks' canvas (benchmarks/handwriting_pen.py)
TABLET_BOX = 500.0
MARGIN = 20.0
PEN_WIDTH = 18.0  # the canvas's default pen (kpgui/ui/panels/drawing.py)
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "shared" / "data" / "pendigits-train.npz"


@dataclass(frozen=True)
class PenDigits:
    """Every digit's strokes (canvas pixels, y down), its label and who wrote it."""

    strokes: list[list[np.ndarray]]
    label: np.ndarray  # (N,) int
    writer: np.ndarray  # (N,) int

    def __len__(self) -> int:
        return len(self.strokes)


def pendigits_path() -> Path:
    """KPGUI_PENDIGITS, else ../shared/data/pendigits-train.npz beside the project."""
    env = os.environ.get("KPGUI_PENDIGITS")
    return Path(env) if env else DEFAULT_PATH


def to_canvas(points: np.ndarray) -> np.ndarray:
    """Tablet units (y up, 0..500) -> canvas pixels (y down) on the 400 px canvas."""
    scale = (CANVAS - 2 * MARGIN) / TABLET_BOX
    pts = np.asarray(points, np.float64)
    return np.stack([MARGIN + pts[:, 0] * scale, MARGIN + (TABLET_BOX - pts[:, 1]) * scale], axis=1)


def load_pendigits(path: str | Path | None = None) -> PenDigits:
    """Read the file (no pickles) and cut its flat arrays into digits of strokes."""
    with np.load(path or pendigits_path(), allow_pickle=False) as d:
        points, stroke_len = d["points"], d["stroke_len"].astype(np.int64)
        n_strokes = d["n_strokes"].astype(np.int64)
        label, writer = d["label"].astype(np.int64), d["writer"].astype(np.int64)
    if stroke_len.sum() != len(points) or n_strokes.sum() != len(stroke_len):
        raise ValueError("pendigits file: stroke and point counts do not add up")
    stroke_start = np.concatenate([[0], np.cumsum(stroke_len)])
    digit_start = np.concatenate([[0], np.cumsum(n_strokes)])
    canvas = to_canvas(points)
    strokes = [[canvas[stroke_start[s]:stroke_start[s + 1]]
                for s in range(digit_start[i], digit_start[i + 1])] for i in range(len(label))]
    return PenDigits(strokes, label, writer)
