"""The drawn-digit test set: digits in the styles people draw them, MNIST test digits re-drawn as
pen strokes, and things that are not digits. For measuring only -- never train on it.

    from handwriting import style_set, mnist_stroke_set, non_digit_set, render
    samples = style_set(per_style=200)          # 21 styles x 200 drawings, fixed seed
    images = render(samples)                    # (N, 28, 28) float32 via strokes_to_mnist

Each `Sample` is one drawing as the canvas records it: strokes of canvas pixel coordinates on a
400 px canvas (x right, y down; integers from a 100 Hz mouse, floats from a tablet) and the pen
width in pixels (4-40). Everything is reproducible: a drawing depends only on (seed, style name,
index), so adding a style changes no other drawing. The seeds live in the 900 000 namespace,
apart from any training seed.

The code is benchmark-side and independent of kpgui's training augmentation and synthesis (it
neither reads nor imports them), so what it measures is not what a model was taught.
Modules: pen.py (geometry and the drawing hand), glyphs.py (digit styles), other.py
(non-digits), trace.py (MNIST skeletons -> strokes).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .glyphs import DIGIT_STYLES
from .other import EXCLUDED_LETTERS, LETTERS, SCRIBBLES, SYMBOLS, hatching, overlap
from .pen import CANVAS, STYLE_HAND, TRACE_HAND, Shape, draw

STYLE_SEED = 900_001
MNIST_SEED = 900_002
NON_DIGIT_SEED = 900_003

STYLES: tuple[str, ...] = tuple(DIGIT_STYLES)
NON_DIGIT_KINDS: tuple[str, ...] = ("scribble", "letter", "symbol", "overlap", "hatching")
__all__ = [
    "CANVAS",
    "EXCLUDED_LETTERS",
    "NON_DIGIT_KINDS",
    "STYLES",
    "Sample",
    "kind_of",
    "label_array",
    "mnist_stroke_set",
    "non_digit_set",
    "render",
    "style_set",
]


@dataclass(frozen=True)
class Sample:
    """One drawing: its style ("1 flag", "letter K", "mnist", ...), the digit it is (None for a
    non-digit), its strokes ((N, 2) float arrays, canvas pixels) and the pen width (px)."""

    style: str
    label: int | None
    strokes: list[np.ndarray]
    pen_width: float

    @property
    def kind(self) -> str:
        return kind_of(self.style)


def kind_of(style: str) -> str:
    """'letter K' -> 'letter'; a digit style '7 crossbar' -> 'digit'; 'mnist' -> 'mnist'."""
    head = style.split(" ", 1)[0]
    return "digit" if head.isdigit() else head


def _rng(seed: int, name: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8")), index])


def draw_style(style: str, rng: np.random.Generator) -> Sample:
    """One drawing of a digit style (a name from STYLES)."""
    label, glyph = DIGIT_STYLES[style]
    strokes, pen = draw(glyph(Shape(rng)), rng, STYLE_HAND)
    return Sample(style, label, strokes, pen)


def style_set(per_style: int, seed: int = STYLE_SEED, styles: Sequence[str] | None = None) -> list[Sample]:
    """`per_style` drawings of every digit style (or of `styles`), grouped by style."""
    names = STYLES if styles is None else tuple(styles)
    unknown = [s for s in names if s not in DIGIT_STYLES]
    if unknown:
        raise ValueError(f"unknown styles {unknown}; known: {', '.join(STYLES)}")
    return [draw_style(s, _rng(seed, s, i)) for s in names for i in range(per_style)]


def mnist_stroke_set(images: np.ndarray, labels: np.ndarray, seed: int = MNIST_SEED) -> list[Sample]:
    """MNIST digits (uint8 (N, 28, 28)) thinned, traced into pen strokes and drawn by the hand at
    various sizes, places, speeds and pen widths. Style "mnist"; an image whose skeleton is empty
    (never in MNIST's test set) becomes a single dot."""
    from .trace import traced_strokes

    out = []
    for i, (strokes, label) in enumerate(zip(traced_strokes(images), labels, strict=True)):
        glyph = strokes or [np.array([[0.0, 0.0]])]
        drawn, pen = draw(glyph, _rng(seed, "mnist", i), TRACE_HAND)
        out.append(Sample("mnist", int(label), drawn, pen))
    return out


def _non_digit(kind: str, j: int, rng: np.random.Generator) -> tuple[str, list[np.ndarray]]:
    g = Shape(rng)
    if kind == "letter":
        name = sorted(LETTERS)[j % len(LETTERS)]
        return f"letter {name}", LETTERS[name](g)
    if kind == "symbol":
        name = list(SYMBOLS)[j % len(SYMBOLS)]
        return f"symbol {name}", SYMBOLS[name](g)
    if kind == "scribble":
        name = list(SCRIBBLES)[j % len(SCRIBBLES)]
        return f"scribble {name}", SCRIBBLES[name](g)
    if kind == "overlap":
        strokes, pair = overlap(g)
        return f"overlap {pair}", strokes
    return "hatching", hatching(g)


def non_digit_set(n: int, seed: int = NON_DIGIT_SEED) -> list[Sample]:
    """`n` drawings that are not digits, the kinds in turn (scribble, letter, symbol, overlap,
    hatching), letters and symbols each in turn within their kind. Labels are None."""
    out = []
    for i in range(n):
        kind = NON_DIGIT_KINDS[i % len(NON_DIGIT_KINDS)]
        rng = _rng(seed, kind, i)
        style, glyph = _non_digit(kind, i // len(NON_DIGIT_KINDS), rng)
        strokes, pen = draw(glyph, rng, STYLE_HAND)
        out.append(Sample(style, None, strokes, pen))
    return out


def render(samples: Sequence[Sample]) -> np.ndarray:
    """(N, 28, 28) float32 MNIST-style images of the drawings, made by strokes_to_mnist."""
    from kpgui.core.reading.preprocess import strokes_to_mnist

    if not samples:
        return np.zeros((0, 28, 28), np.float32)
    return np.stack([strokes_to_mnist(s.strokes, s.pen_width) for s in samples]).astype(np.float32)


def label_array(samples: Sequence[Sample]) -> np.ndarray:
    """Labels as an int array, -1 for non-digits."""
    return np.array([-1 if s.label is None else s.label for s in samples], np.int64)
