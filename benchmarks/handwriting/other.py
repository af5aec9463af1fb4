"""Things people draw that are not digits: scribbles, letters, symbols, two digits drawn on top
of each other, hatching. A good reader says "not sure" to all of them.

Letters that look like digits are left out on purpose -- a person reading them could fairly say
a digit: O, D, Q (0); I, l, J, T, L (1 or 7); Z (2); S (5); G, b (6); B (8); g, q (9); C, U
(an unfinished 0). Kept letters: A E F H K M N P R V W X Y (P is the mirror of a 9 but nobody
reads it as one). Every glyph: unit box, x right, y down, strokes in drawing order.
"""

from __future__ import annotations

import numpy as np

from .glyphs import DIGIT_STYLES, Glyph
from .pen import Shape, line, path, reverse, smooth

EXCLUDED_LETTERS = "O D Q I l J T L Z S G b B g q C U".split()


def _maybe_reversed(g: Shape, stroke: np.ndarray, p: float = 0.2) -> np.ndarray:
    return reverse(stroke) if g.coin(p) else stroke


# -- letters --------------------------------------------------------------------------------------


def letter_a(g):
    w, y = g.u(0.55, 0.8), g.u(0.5, 0.68)
    bar = line(g.p(0.22 * w, y), g.p(0.8 * w, y))
    return [line(g.p(0, 1), g.p(w / 2, 0), g.p(w, 1)), bar]


def letter_e(g):
    w = g.u(0.45, 0.6)
    mid = line(g.p(0, 0.5), g.p(0.8 * w, 0.5))
    if g.coin(0.6):
        return [line(g.p(w, 0), g.p(0, 0), g.p(0, 1), g.p(w, 1)), mid]
    return [line(g.p(0, 0), g.p(0, 1)), line(g.p(0, 0), g.p(w, 0)), mid, line(g.p(0, 1), g.p(w, 1))]


def letter_f(g):
    w = g.u(0.45, 0.6)
    mid = line(g.p(0, 0.48), g.p(0.75 * w, 0.48))
    if g.coin(0.5):
        return [line(g.p(w, 0), g.p(0, 0), g.p(0, 1)), mid]
    return [line(g.p(0, 0), g.p(0, 1)), line(g.p(0, 0), g.p(w, 0)), mid]


def letter_h(g):
    w = g.u(0.5, 0.75)
    y = g.u(0.42, 0.55)
    return [line(g.p(0, 0), g.p(0, 1)), line(g.p(w, 0), g.p(w, 1)), line(g.p(0, y), g.p(w, y))]


def letter_k(g):
    w, y = g.u(0.45, 0.65), g.u(0.45, 0.6)
    joint = g.p(0.02, y)
    if g.coin(0.6):
        return [line(g.p(0, 0), g.p(0, 1)), line(g.p(w, 0), joint, g.p(w, 1))]
    return [line(g.p(0, 0), g.p(0, 1)), line(g.p(w, 0), joint), line(g.p(0.3 * w, y - 0.1), g.p(w, 1))]


def letter_m(g):
    w = g.u(0.65, 0.9)
    return [line(g.p(0, 1), g.p(0.03, 0), g.p(w / 2, g.u(0.45, 0.7)), g.p(w - 0.03, 0), g.p(w, 1))]


def letter_n(g):
    w = g.u(0.5, 0.7)
    return [line(g.p(0, 1), g.p(0, 0), g.p(w, 1), g.p(w, 0))]


def letter_p(g):
    w, y = g.u(0.45, 0.6), g.u(0.42, 0.55)
    bowl = smooth(g.p(0, 0), g.p(0.6 * w, 0.0), g.p(w, y * 0.45), g.p(0.6 * w, y), g.p(0, y))
    if g.coin(0.6):
        return [path(line(g.p(0, 1), bowl[0]), bowl)]
    return [line(g.p(0, 0), g.p(0, 1)), bowl]


def letter_r(g):
    w, y = g.u(0.45, 0.6), g.u(0.42, 0.55)
    bowl = smooth(g.p(0, 0), g.p(0.6 * w, 0.0), g.p(w, y * 0.45), g.p(0.6 * w, y), g.p(0, y))
    leg = line(bowl[-1], g.p(w * g.u(0.9, 1.1), 1))
    return [line(g.p(0, 0), g.p(0, 1)), path(bowl, leg)]


def letter_v(g):
    w = g.u(0.5, 0.75)
    return [line(g.p(0, 0), g.p(w / 2, 1), g.p(w, 0))]


def letter_w(g):
    w = g.u(0.75, 1.0)
    return [line(g.p(0, 0), g.p(0.22 * w, 1), g.p(w / 2, g.u(0.25, 0.5)), g.p(0.78 * w, 1), g.p(w, 0))]


def letter_x(g):
    w = g.u(0.5, 0.75)
    return [line(g.p(0, 0), g.p(w, 1)), _maybe_reversed(g, line(g.p(w, 0), g.p(0, 1)))]


def letter_y(g):
    w, y = g.u(0.5, 0.75), g.u(0.4, 0.55)
    joint = g.p(w / 2, y)
    if g.coin(0.5):
        return [line(g.p(0, 0), joint), line(g.p(w, 0), joint, g.p(w / 2, 1))]
    return [line(g.p(0, 0), joint), line(g.p(w, 0), g.p(w * g.u(0.3, 0.45), 1))]


LETTERS: dict[str, Glyph] = {
    "A": letter_a,
    "E": letter_e,
    "F": letter_f,
    "H": letter_h,
    "K": letter_k,
    "M": letter_m,
    "N": letter_n,
    "P": letter_p,
    "R": letter_r,
    "V": letter_v,
    "W": letter_w,
    "X": letter_x,
    "Y": letter_y,
}


# -- symbols --------------------------------------------------------------------------------------


def plus(g):
    v, h = line(g.p(0.5, 0), g.p(0.5, 1)), line(g.p(0, 0.5), g.p(1, 0.5))
    return [v, h] if g.coin() else [h, v]


def equals(g):
    gap = g.u(0.25, 0.55)
    return [line(g.p(0, 0), g.p(1, 0)), line(g.p(0, gap), g.p(1, gap))]


def hash_sign(g):
    s = g.u(0.0, 0.25)
    return [
        line(g.p(0.35 + s, 0), g.p(0.3, 1)),
        line(g.p(0.75 + s, 0), g.p(0.7, 1)),
        line(g.p(0, 0.35), g.p(1, 0.35)),
        line(g.p(0, 0.68), g.p(1, 0.68)),
    ]


def at_sign(g):
    r = g.u(0.14, 0.2)
    inner = g.loop(0.5, 0.5, r, r * 1.1, g.u(-20, 10), -360)
    down = line(inner[-1], g.p(0.5 + r, 0.5 + r), g.p(0.5 + r + 0.1, 0.5 + r + 0.02))
    outer = g.loop(0.5, 0.5, 0.48, 0.5, 25, -g.u(300, 340))
    return [path(inner, down, outer)]


def percent(g):
    r = g.u(0.12, 0.18)
    slash = line(g.p(0.05, 1), g.p(0.7, 0))
    return [g.loop(0.15, 0.18, r, r * 1.2, -90, -360), slash, g.loop(0.6, 0.82, r, r * 1.2, -90, -360)]


def asterisk(g):
    k = 3 if g.coin(0.6) else 4
    turn = g.u(0, 180 / k)
    out = []
    for i in range(k):
        a = np.radians(turn + 180 * i / k)
        d = 0.5 * np.array([np.cos(a), np.sin(a)])
        out.append(line(g.p(*(0.5 - d)), g.p(*(0.5 + d))))
    return out


def question(g):
    hook = smooth(
        g.p(0.02, 0.25), g.p(0.25, 0.0), g.p(0.5, 0.1), g.p(0.48, 0.32), g.p(0.28, 0.48), g.p(0.26, 0.72)
    )
    dot = g.p(0.26, 0.96)
    return [hook, line(dot, dot + [0.0, 0.02])]


def ampersand(g):
    return [
        smooth(
            g.p(0.7, 1.0),
            g.p(0.38, 0.6),
            g.p(0.2, 0.32),
            g.p(0.22, 0.08),
            g.p(0.38, 0.0),
            g.p(0.52, 0.12),
            g.p(0.45, 0.32),
            g.p(0.1, 0.6),
            g.p(0.05, 0.86),
            g.p(0.25, 1.0),
            g.p(0.5, 0.92),
            g.p(0.72, g.u(0.55, 0.7)),
        )
    ]


def arrow(g):
    a = np.radians(45 * int(g.rng.integers(0, 8)))
    d = np.array([np.cos(a), np.sin(a)])
    tail, tip = 0.5 - 0.5 * d, 0.5 + 0.5 * d
    barb, spread = g.u(0.2, 0.4), np.radians(g.u(25, 45))
    ends = [tip - barb * np.array([np.cos(a + s), np.sin(a + s)]) for s in (spread, -spread)]
    shaft = line(g.p(*tail), g.p(*tip))
    if g.coin(0.5):  # head as one stroke
        return [shaft, line(g.p(*ends[0]), g.p(*tip), g.p(*ends[1]))]
    return [path(shaft, line(shaft[-1], g.p(*ends[0]))), line(g.p(*tip), g.p(*ends[1]))]


SYMBOLS: dict[str, Glyph] = {
    "+": plus,
    "=": equals,
    "#": hash_sign,
    "@": at_sign,
    "%": percent,
    "*": asterisk,
    "?": question,
    "&": ampersand,
    "arrow": arrow,
}


# -- scribbles and hatching -----------------------------------------------------------------------


def scribble_tangle(g):
    n = int(g.rng.integers(8, 16))
    pos, vel, knots = g.rng.uniform(0.3, 0.7, 2), g.rng.normal(0, 0.3, 2), []
    for _ in range(n):
        vel = 0.6 * vel + g.rng.normal(0, 0.35, 2)
        pos = np.clip(pos + vel, 0.0, 1.0)
        vel = np.where((pos <= 0) | (pos >= 1), -vel, vel)
        knots.append(pos.copy())
    return [smooth(*knots)]


def scribble_zigzag(g):
    legs = int(g.rng.integers(5, 11))
    y = np.linspace(0.0, 1.0, legs + 1) + g.rng.normal(0, 0.03, legs + 1)
    x = np.where(np.arange(legs + 1) % 2 == 0, g.u(0.0, 0.15), g.u(0.85, 1.0))
    x = x + g.rng.normal(0, 0.05, legs + 1)
    return [line(*np.stack([x, y], axis=1))]


def scribble_coil(g):
    loops = int(g.rng.integers(4, 8))
    r = g.u(0.25, 0.45)
    t = np.linspace(0.0, 2 * np.pi * loops, 40 * loops)
    x = t / (2 * np.pi * loops) * 1.6 + r * np.cos(t + np.pi)
    y = 0.5 + g.u(0.6, 1.0) * r * np.sin(-t)
    return [np.stack([x, y], axis=1) + g.rng.normal(0, g.sd / 3, (len(t), 2))]


def hatching(g):
    def family(angle: float, n: int) -> list[np.ndarray]:
        d = np.array([np.cos(angle), np.sin(angle)])
        normal = np.array([-d[1], d[0]])
        out = []
        for i, off in enumerate(np.linspace(-0.45, 0.45, n)):
            c = 0.5 + normal * (off + g.rng.normal(0, 0.02))
            s = line(g.p(*(c - 0.5 * d)), g.p(*(c + 0.5 * d)))
            out.append(reverse(s) if zigzag and i % 2 else s)
        return out

    zigzag = g.coin(0.4)  # back and forth instead of always the same way
    a = np.radians(g.u(0, 180))
    out = family(a, int(g.rng.integers(3, 9)))
    if g.coin(0.4):
        out += family(a + np.radians(g.u(60, 120)), int(g.rng.integers(3, 7)))
    return out


SCRIBBLES: dict[str, Glyph] = {"tangle": scribble_tangle, "zigzag": scribble_zigzag, "coil": scribble_coil}

# Two digits on top of each other: pairs whose union could fairly be read as one of them are
# not used (a 1 hides inside most digits; 0, 3, 6 and 9 inside an 8; a 0 over a 6 or 9 is a 6 or 9).
ALIKE_PAIRS = {frozenset(p) for p in ((0, 8), (3, 8), (6, 8), (8, 9), (0, 6), (0, 9))}


def overlap(g: Shape) -> tuple[list[np.ndarray], str]:
    """Two different digits drawn in the same place, the second moved by a third to half a
    digit's width (overlapping, not side by side). Returns (strokes, 'a+b')."""
    names = [n for n, (d, _) in DIGIT_STYLES.items() if d != 1]
    while True:
        a, b = (names[i] for i in g.rng.choice(len(names), 2, replace=False))
        da, db = DIGIT_STYLES[a][0], DIGIT_STYLES[b][0]
        if da != db and frozenset((da, db)) not in ALIKE_PAIRS:
            break
    first, second = DIGIT_STYLES[a][1](g), DIGIT_STYLES[b][1](g)
    shift = np.array([g.u(0.18, 0.32) * (1 if g.coin() else -1), g.u(-0.12, 0.12)])
    scale = g.u(0.85, 1.15)
    second = [s * scale + shift for s in second]
    return first + second, f"{da}+{db}"
