"""Things people draw that are not one digit, for outlier exposure.

A network trained only on digits answers every drawing with a digit, confidently: a K is "4
(97.7 %)", a scribble "5 (99.3 %)". Trained also on these with a uniform target, it learns to be
unsure. They must never be digits, so what is left out matters as much as what is drawn:

- Letters: A E H K M N R V W X Y and a lowercase m. Left out because some way of writing them
  is, or is close to, a digit: O o D Q C U (0, 6), I l i j J T t L (1, 7, 4), Z z (2), S s (5),
  B (8), G b (6), g q a d P p e y h (9, 6, 4), F (mirror image of a crossed 7) and lowercase n u
  (open 0 / 7 fragments).
- Symbols: + - = # @ % * ~ -> <- star, smiley, check mark, infinity. Left out: ? (a 2 or curly 7
  with a dot), ! and | (a 1), & (a one-loop 8 with a tail), $ (an S), up/down and diagonal
  arrows (a flagged or footed 1, a 7 with an extra barb), triangles and boxes (a closed 4, a 0).
- Two different digits drawn over each other, never with a 1 (a 1 through a 0 is a slashed 0,
  through a 7 a crossed 7) nor an 8 or 0 with a digit its loops could swallow.
- Scribbles, zig-zags, hatching, a filled blob, a spiral of two or more turns.
"""

from __future__ import annotations

import numpy as np

from kpgui.core.data.synth.digits import STYLES, glyph
from kpgui.core.data.synth.pen import (
    CAREFUL,
    arc,
    chain,
    ellipse_stroke,
    hand,
    hand_many,
    jiggle,
    line,
    spline,
)
from kpgui.core.reading.preprocess import strokes_to_mnist


def _letter(rng) -> list[np.ndarray]:
    w = rng.uniform(0.28, 0.42)
    name = rng.choice(list(_LETTERS))
    return [jiggle(s, rng, 0.02) for s in _LETTERS[name](w, rng)]


_LETTERS = {
    "A": lambda w, r: [
        line([-w, 1.0], [r.normal(0, 0.05), 0.0], [w, 1.0]),
        line([-w * 0.55, r.uniform(0.55, 0.7)], [w * 0.55, r.uniform(0.55, 0.7)]),
    ],
    "E": lambda w, r: (
        [line([w, 0.0], [-w, 0.0], [-w, 1.0], [w, 1.0]), line([-w, 0.5], [w * 0.7, 0.5])]
        if r.random() < 0.5
        else [
            line([-w, 0.0], [-w, 1.0]),
            line([-w, 0.0], [w, 0.0]),
            line([-w, 0.5], [w * 0.7, 0.5]),
            line([-w, 1.0], [w, 1.0]),
        ]
    ),
    "H": lambda w, r: [
        line([-w, 0.0], [-w, 1.0]),
        line([w, 0.0], [w, 1.0]),
        line([-w, r.uniform(0.4, 0.6)], [w, r.uniform(0.4, 0.6)]),
    ],
    "K": lambda w, r: (
        [line([-w, 0.0], [-w, 1.0]), line([w, 0.0], [-w, 0.55], [w, 1.0])]
        if r.random() < 0.6
        else [line([-w, 0.0], [-w, 1.0]), line([w, 0.0], [-w, 0.55]), line([-w * 0.3, 0.42], [w, 1.0])]
    ),
    "M": lambda w, r: [
        line([-w * 1.2, 1.0], [-w, 0.0], [0.0, r.uniform(0.45, 0.75)], [w, 0.0], [w * 1.2, 1.0])
    ],
    "N": lambda w, r: [line([-w, 1.0], [-w, 0.0], [w, 1.0], [w, 0.0])],
    "R": lambda w, r: [
        chain(
            line([-w, 1.0], [-w, 0.0]),
            spline([[-w, 0.0], [w * 0.4, 0.0], [w, 0.22], [w * 0.4, 0.46], [-w, 0.48]], 6),
            line([-w, 0.48], [w, 1.0]),
        )
    ],
    "V": lambda w, r: [line([-w, 0.0], [r.normal(0, 0.05), 1.0], [w, 0.0])],
    "W": lambda w, r: [
        line([-w * 1.3, 0.0], [-w * 0.6, 1.0], [0.0, r.uniform(0.2, 0.5)], [w * 0.6, 1.0], [w * 1.3, 0.0])
    ],
    "X": lambda w, r: [line([-w, 0.0], [w, 1.0]), line([w, 0.0], [-w, 1.0])],
    "Y": lambda w, r: [line([-w, 0.0], [0.0, 0.5]), line([w, 0.0], [0.0, 0.5], [0.0, 1.0])],
    "m": lambda w, r: [
        chain(
            line([-w * 1.3, 0.3], [-w * 1.3, 1.0], [-w * 1.3, 0.5]),
            spline([[-w * 1.3, 0.5], [-w * 0.7, 0.3], [-w * 0.05, 0.45], [0.0, 1.0]], 6),
            line([0.0, 1.0], [0.0, 0.5]),
            spline([[0.0, 0.5], [w * 0.6, 0.3], [w * 1.25, 0.45], [w * 1.3, 1.0]], 6),
        )
    ],
}


def _symbol(rng) -> list[np.ndarray]:
    name = rng.choice(list(_SYMBOLS))
    return [jiggle(s, rng, 0.015) for s in _SYMBOLS[name](rng)]


def _arrow(r, sign):
    head = r.uniform(0.15, 0.3)
    tip = 0.5 * sign
    return [
        line([-tip, 0.5], [tip, 0.5]),
        line(
            [tip - sign * head, 0.5 - head * r.uniform(0.6, 1.0)],
            [tip, 0.5],
            [tip - sign * head, 0.5 + head * r.uniform(0.6, 1.0)],
        ),
    ]


def _star(r):
    a = np.radians(-90 + 144 * np.arange(6) + r.normal(0, 4, 6))
    return [np.stack([0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a)], axis=1)]


def _at(r):
    inner = ellipse_stroke(r, 0.0, 0.5, 0.15, 0.18, start=-30, closure=(0, 20))
    stem = line([0.15, 0.3], [0.15, 0.62])
    outer = arc(0.0, 0.5, 0.45, 0.5, 20, -300, 40)
    return [inner, chain(stem, spline([[0.15, 0.62], [0.3, 0.68], [0.45, 0.55]], 4), outer)]


_SYMBOLS = {
    "plus": lambda r: [line([-0.45, 0.5], [0.45, 0.5]), line([0.0, 0.05], [0.0, 0.95])],
    "minus": lambda r: [line([-0.5, 0.5], [0.5, 0.5 + r.normal(0, 0.03)])],
    "equals": lambda r: [line([-0.45, 0.38], [0.45, 0.38]), line([-0.45, 0.62], [0.45, 0.62])],
    "hash": lambda r: [
        line([-0.1, 0.0], [-0.25, 1.0]),
        line([0.25, 0.0], [0.1, 1.0]),
        line([-0.4, 0.33], [0.4, 0.33]),
        line([-0.45, 0.67], [0.35, 0.67]),
    ],
    "at": _at,
    "percent": lambda r: [
        ellipse_stroke(r, -0.25, 0.18, 0.12, 0.15),
        line([0.35, 0.0], [-0.35, 1.0]),
        ellipse_stroke(r, 0.25, 0.82, 0.12, 0.15),
    ],
    "asterisk": lambda r: [
        line([0.0, 0.05], [0.0, 0.95]),
        line([-0.4, 0.27], [0.4, 0.73]),
        line([0.4, 0.27], [-0.4, 0.73]),
    ],
    "tilde": lambda r: [spline([[-0.5, 0.55], [-0.25, 0.4], [0.0, 0.5], [0.25, 0.6], [0.5, 0.45]], 6)],
    "arrow_right": lambda r: _arrow(r, 1.0),
    "arrow_left": lambda r: _arrow(r, -1.0),
    "star": _star,
    "smiley": lambda r: [
        ellipse_stroke(r, 0.0, 0.5, 0.5, 0.5, closure=(0, 20)),
        line([-0.18, 0.35], [-0.18, 0.4]),
        line([0.18, 0.35], [0.18, 0.4]),
        arc(0.0, 0.55, 0.28, 0.2, 160, 20, 12),
    ],
    "check": lambda r: [line([-0.4, 0.55], [-0.15, 1.0], [0.45, 0.0])],
    "infinity": lambda r: [
        spline(
            [
                [0.0, 0.5],
                [0.25, 0.3],
                [0.5, 0.5],
                [0.25, 0.7],
                [0.0, 0.5],
                [-0.25, 0.3],
                [-0.5, 0.5],
                [-0.25, 0.7],
                [0.02, 0.52],
            ],
            6,
        )
    ],
}


def _scribble(rng) -> list[np.ndarray]:
    k = rng.integers(8, 16)  # fewer turns can happen to look like a digit
    pts = np.stack([rng.uniform(-0.5, 0.5, k), rng.uniform(0.0, 1.0, k)], axis=1)
    strokes = [spline(pts, 6)]
    if rng.random() < 0.3:
        j = rng.integers(4, 8)
        strokes.append(spline(np.stack([rng.uniform(-0.5, 0.5, j), rng.uniform(0.0, 1.0, j)], axis=1), 6))
    return strokes


def _rotate(strokes, deg):
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return [(p - [0.0, 0.5]) @ np.array([[c, s], [-s, c]]) + [0.0, 0.5] for p in strokes]


def _zigzag(rng) -> list[np.ndarray]:
    k = rng.integers(5, 12)
    x = np.linspace(-0.5, 0.5, k) + rng.normal(0, 0.02, k)
    y = 0.5 + np.where(np.arange(k) % 2, 1, -1) * rng.uniform(0.15, 0.45) + rng.normal(0, 0.04, k)
    pts = np.stack([x, y], axis=1)
    zig = spline(pts, 4) if rng.random() < 0.3 else pts
    return _rotate([zig], rng.choice([0.0, 90.0, rng.uniform(0, 180)]))


def _hatching(rng) -> list[np.ndarray]:
    k = rng.integers(4, 10)
    offs = np.linspace(-0.45, 0.45, k)
    half = rng.uniform(0.3, 0.5)
    strokes = [line([-half, 0.5 + o], [half, 0.5 + o + rng.normal(0, 0.02)]) for o in offs]
    strokes = _rotate(strokes, rng.uniform(0, 180))
    if rng.random() < 0.35:  # cross-hatched
        strokes += _rotate([line([-half, 0.5 + o], [half, 0.5 + o]) for o in offs], rng.uniform(50, 130))
    return strokes


def _blob(rng) -> list[np.ndarray]:
    """A shape coloured in with a back-and-forth scribble (outline included)."""
    rx, ry = rng.uniform(0.25, 0.5), 0.5
    lumps = rng.normal(0, 0.08, 3)
    gap = rng.uniform(0.06, 0.1)  # about 1.5 output px apart: coloured in, with a little texture
    ys = np.arange(-ry, ry + 1e-9, gap)
    phase = rng.uniform(0, 6.3)

    def half_width(y):
        base = rx * np.sqrt(np.clip(1 - (y / ry) ** 2, 0.0, 1.0))
        return base * (1 + lumps[0] * np.sin(3 * y / ry + phase) + lumps[1] * np.cos(2 * y / ry))

    hw = half_width(ys)
    sides = np.where(np.arange(len(ys)) % 2, 1.0, -1.0)
    fill = np.stack([sides * hw + lumps[2] * ys, ys + 0.5], axis=1)
    outline = ellipse_stroke(rng, 0.0, 0.5, rx * (1 + lumps[0] * 0.5), ry, closure=(0, 30))
    return [outline, fill]


def _spiral(rng) -> list[np.ndarray]:
    turns = rng.uniform(2.2, 4.0)
    t = np.linspace(0.0, 2 * np.pi * turns, int(40 * turns))
    r = (0.03 + t / t[-1]) * 0.5
    sign = rng.choice([-1.0, 1.0])
    return [np.stack([r * np.cos(sign * t), 0.5 + r * np.sin(sign * t)], axis=1)]


_NO_PAIR = {frozenset(p) for p in [(0, 6), (0, 9), (0, 8), (8, 3), (8, 5), (8, 6), (8, 9), (6, 9), (3, 5)]}
_PAIRS = [
    (a, b)
    for a in range(10)
    for b in range(a + 1, 10)
    if 1 not in (a, b) and frozenset((a, b)) not in _NO_PAIR
]


def _two_digits(rng) -> list[np.ndarray]:
    a, b = _PAIRS[rng.integers(len(_PAIRS))]
    out = []
    shift = np.array([rng.uniform(0.12, 0.4) * rng.choice([-1, 1]), rng.uniform(-0.2, 0.2)])
    for k, d in enumerate((a, b)):
        styles = STYLES[d]
        g = glyph(d, styles[rng.integers(len(styles))], rng)
        scale = rng.uniform(0.85, 1.15)
        out += [(s - [0.0, 0.5]) * scale + [0.0, 0.5] + shift * k for s in g]
    return out


KINDS = ["letter", "symbol", "scribble", "zigzag", "two_digits", "hatching", "blob", "spiral"]
_MAKERS = {
    "letter": _letter,
    "symbol": _symbol,
    "scribble": _scribble,
    "zigzag": _zigzag,
    "two_digits": _two_digits,
    "hatching": _hatching,
    "blob": _blob,
    "spiral": _spiral,
}
# Letters and symbols are what people try most; each kind appears once n >= 12.
_PATTERN = [
    "letter",
    "symbol",
    "scribble",
    "two_digits",
    "letter",
    "symbol",
    "zigzag",
    "hatching",
    "letter",
    "symbol",
    "blob",
    "spiral",
]


def draw_non_digit(kind: str, rng: np.random.Generator) -> tuple[list[np.ndarray], float]:
    """One drawing of a non-digit of `kind` (one of KINDS): (canvas strokes, pen width)."""
    return hand(_MAKERS[kind](rng), rng, CAREFUL)


def non_digit_kinds(n: int) -> list[str]:
    """The kind `non_digits(n, ...)` draws at each index."""
    return [_PATTERN[i % len(_PATTERN)] for i in range(int(n))]


def non_digits(n: int, seed: int, *, batch: int = 512) -> np.ndarray:
    """`n` drawings that are not one digit, as MNIST-style uint8 images (n, 28, 28).

    Kinds take turns (see `non_digit_kinds`); drawing i is
    `draw_non_digit(kind, np.random.default_rng([seed, i, 7]))`, so it depends only on (seed, i).
    """
    kinds = non_digit_kinds(n)
    out = np.zeros((len(kinds), 28, 28), np.uint8)
    for start in range(0, len(kinds), batch):
        idx = range(start, min(len(kinds), start + batch))
        rngs = [np.random.default_rng([seed, i, 7]) for i in idx]
        shapes = [_MAKERS[kinds[i]](rng) for i, rng in zip(idx, rngs, strict=True)]
        for i, (strokes, pen) in zip(idx, hand_many(shapes, rngs, CAREFUL), strict=True):
            out[i] = np.round(strokes_to_mnist(strokes, pen) * 255.0)
    return out
