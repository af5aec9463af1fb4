"""Digits in the styles people draw them, and things that are not digits, as unit-box strokes.

Each glyph is a function of a `Shape` (the random choices of one person's hand) returning its
strokes in drawing order: (N, 2) arrays, x right, y down, a digit about 1 tall and 0.6 wide.
Benchmark-side code, written independently of anything kpgui trains with.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .pen import Shape, line, mirror_x, path, reverse, smooth

Glyph = Callable[[Shape], list[np.ndarray]]


# -- digits -------------------------------------------------------------------------------------


def _oval(g: Shape, cx=0.3, cy=0.5, rx=None, ry=0.5) -> np.ndarray:
    rx = g.u(0.2, 0.34) if rx is None else rx
    sweep = 360 + g.u(-20, 35)
    return g.loop(cx, cy, rx, ry, g.u(-125, -55), sweep if g.coin(0.4) else -sweep)


def zero_plain(g: Shape) -> list[np.ndarray]:
    return [_oval(g)]


def zero_slashed(g: Shape) -> list[np.ndarray]:
    rx = g.u(0.22, 0.34)
    reach = g.u(0.85, 1.3)
    slash = line(g.p(0.3 - rx * reach, 0.5 + 0.5 * reach), g.p(0.3 + rx * reach, 0.5 - 0.5 * reach))
    return [_oval(g, rx=rx), slash if g.coin(0.6) else reverse(slash)]


def _one_stem(g: Shape, top: np.ndarray) -> np.ndarray:
    bend = g.u(-0.04, 0.04)
    return smooth(top, g.p(top[0] + bend, 0.5), g.p(top[0] + g.u(-0.03, 0.03), 1.0))


def one_plain(g: Shape) -> list[np.ndarray]:
    return [_one_stem(g, g.p(0.0, 0.0))]


def _flag(g: Shape) -> tuple[np.ndarray, np.ndarray]:
    top = g.p(0.0, 0.0)
    # Longer, wider or flatter than this and a person would see a 7 (a forward slant flattens
    # the flag a little more).
    angle = np.radians(g.u(35, 65))
    length = max(min(g.u(0.15, 0.36), 0.25 / np.cos(angle)), 0.1 / np.sin(angle))
    start = top + [-length * np.cos(angle), length * np.sin(angle)]
    mid = (start + top) / 2 + g.u(-0.03, 0.02) * np.array([np.sin(angle), np.cos(angle)])
    return smooth(start, mid, top), top


def one_flag(g: Shape) -> list[np.ndarray]:
    flag, top = _flag(g)
    return [path(flag, _one_stem(g, top))]


def one_flag_foot(g: Shape) -> list[np.ndarray]:
    flag, top = _flag(g)
    stem = _one_stem(g, top)
    half = g.u(0.14, 0.3)
    x = stem[-1, 0] + g.u(-0.04, 0.04)
    foot = line(g.p(x - half, 1.0), g.p(x + half, 1.0))
    return [path(flag, stem), foot if g.coin(0.8) else reverse(foot)]


def _two_neck(g: Shape) -> tuple[list[np.ndarray], float]:
    w, top = g.u(0.5, 0.68), g.u(0.8, 1.15)  # width; size of the hump
    return [
        g.p(0.02, g.u(0.18, 0.32) * top),
        g.p(0.2 * w, 0.03),
        g.p(0.55 * w, 0.0),
        g.p(0.92 * w, g.u(0.12, 0.2) * top),
        g.p(0.85 * w, g.u(0.35, 0.45) * top),
        g.p(g.u(0.35, 0.5) * w, g.u(0.62, 0.72)),
    ], w


def two_plain(g: Shape) -> list[np.ndarray]:
    knots, w = _two_neck(g)
    corner = g.p(g.u(0.0, 0.06), 1.0)
    return [path(smooth(*knots, corner), line(corner, g.p(w * g.u(0.95, 1.15), g.u(0.96, 1.02))))]


def two_loop(g: Shape) -> list[np.ndarray]:
    knots, w = _two_neck(g)
    r = g.u(0.06, 0.11)
    c = np.array([g.u(0.08, 0.14), 1.0 - r * g.u(0.9, 1.2)])
    loop = [c + [0.2 * r, r], c + [-r, 0.1 * r], c + [0.0, -r], c + [r, -0.1 * r], c + [1.8 * r, 0.9 * r]]
    base = [g.p(0.55 * w, 1.0 - g.u(-0.02, 0.03)), g.p(w * g.u(0.95, 1.15), g.u(0.96, 1.02))]
    return [smooth(*knots, *loop, *base)]


def three_round(g: Shape) -> list[np.ndarray]:
    w = g.u(0.5, 0.65)
    mid = g.p(g.u(0.15, 0.3) * w / 0.6, g.u(0.38, 0.52))
    top = smooth(g.p(0.02, g.u(0.1, 0.2)), g.p(0.4 * w, 0.0), g.p(0.9 * w, 0.12), g.p(0.85 * w, 0.3), mid)
    bottom = smooth(mid, g.p(0.8 * w, 0.55), g.p(w, 0.77), g.p(0.6 * w, 1.0), g.p(0.0, g.u(0.82, 0.92)))
    return [path(top, bottom)]


def three_flat(g: Shape) -> list[np.ndarray]:
    w = g.u(0.5, 0.65)
    a, b = g.p(0.02, 0.0), g.p(w * g.u(0.9, 1.05), 0.01)
    mid = g.p(w * g.u(0.25, 0.45), g.u(0.38, 0.46))
    bowl = smooth(mid, g.p(0.85 * w, 0.5), g.p(w, 0.74), g.p(0.6 * w, 1.0), g.p(0.0, g.u(0.82, 0.92)))
    return [path(line(a, b, mid), bowl)]


def four_open(g: Shape) -> list[np.ndarray]:
    y = g.u(0.5, 0.75)
    left = line(g.p(g.u(0.05, 0.25), 0.0), g.p(g.u(0.0, 0.06), y), g.p(g.u(0.62, 0.85), y))
    x = g.u(0.45, 0.6)
    stem = smooth(g.p(x, g.u(0.0, 0.12)), g.p(x, 0.5), g.p(x + g.u(-0.05, 0.03), 1.0))
    return [left, stem] if g.coin(0.85) else [stem, left]


def four_closed(g: Shape) -> list[np.ndarray]:
    apex = g.p(g.u(0.45, 0.6), 0.0)
    y = g.u(0.5, 0.75)
    body = line(apex, g.p(0.0, y), g.p(g.u(0.62, 0.85), y))
    stem = line(apex + g.rng.normal(0, 0.02, 2), g.p(apex[0] + g.u(-0.04, 0.02), 1.0))
    return [body, stem] if g.coin(0.85) else [stem, body]


def _five_belly(g: Shape, start: np.ndarray, w: float) -> np.ndarray:
    top = start[1] - g.u(0.0, 0.08)  # where the belly begins to bulge
    return smooth(
        start,
        g.p(0.45 * w, top),
        g.p(0.95 * w, (top + 1) / 2 - 0.15),
        g.p(w, (top + 1) / 2 + 0.1),
        g.p(0.6 * w, 1.0),
        g.p(0.0, g.u(0.82, 0.95)),
    )


def five_joined(g: Shape) -> list[np.ndarray]:
    w = g.u(0.5, 0.65)
    a, b = g.p(w * g.u(0.9, 1.1), 0.0), g.p(g.u(0.08, 0.16), 0.02)
    c = g.p(g.u(0.04, 0.12), g.u(0.35, 0.52))
    return [path(line(a, b, c), _five_belly(g, c, w))]


def five_hat_apart(g: Shape) -> list[np.ndarray]:
    w = g.u(0.5, 0.65)
    top, c = g.p(g.u(0.08, 0.16), 0.02), g.p(g.u(0.04, 0.12), g.u(0.35, 0.52))
    hat = line(top + [g.u(-0.02, 0.06), g.u(-0.04, 0.0)], g.p(w * g.u(0.9, 1.1), 0.0))
    return [path(line(top, c), _five_belly(g, c, w)), hat if g.coin(0.85) else reverse(hat)]


def _six_loop(g: Shape, w: float) -> np.ndarray:
    r = g.u(0.18, 0.3) * w / 0.6
    cy = 1.0 - g.u(0.2, 0.32)
    return g.loop(w / 2, cy, r * 1.05, 1.0 - cy, 180, -(360 + g.u(-20, 20)))


def six_curved(g: Shape) -> list[np.ndarray]:
    w = g.u(0.5, 0.62)
    loop = _six_loop(g, w)
    stem = smooth(g.p(w * g.u(0.75, 0.95), 0.0), g.p(0.35 * w, 0.18), g.p(0.05 * w, 0.5), loop[0])
    return [path(stem, loop)]


def six_straight(g: Shape) -> list[np.ndarray]:
    w = g.u(0.5, 0.62)
    loop = _six_loop(g, w)
    return [path(line(g.p(w * g.u(0.7, 0.95), 0.0), loop[0]), loop)]


def _seven_stem(g: Shape, corner: np.ndarray) -> np.ndarray:
    bottom = g.p(g.u(0.12, 0.32), 1.0)
    return smooth(corner, (corner + bottom) / 2 + [g.u(-0.05, 0.02), 0.0], bottom)


def seven_plain(g: Shape) -> list[np.ndarray]:
    start, corner = g.p(0.0, g.u(0.0, 0.04)), g.p(g.u(0.45, 0.75), 0.0)
    head = line(g.p(0.0, g.u(0.1, 0.18)), start) if g.coin(0.2) else start[None]
    return [path(head, line(start, corner), _seven_stem(g, corner))]


def seven_crossbar(g: Shape) -> list[np.ndarray]:
    stroke = seven_plain(g)[0]
    y = g.u(0.45, 0.6)
    i = int(np.argmin(np.abs(stroke[:, 1] - y) + 10 * (stroke[:, 1] < 0.1)))
    half = g.u(0.1, 0.22)
    x = stroke[i, 0] + g.u(-0.05, 0.05)
    bar = line(g.p(x - half, y), g.p(x + half, y + g.u(-0.03, 0.01)))
    return [stroke, bar]


def eight_one(g: Shape) -> list[np.ndarray]:
    w = g.u(0.45, 0.6)
    tx, bx = w * g.u(0.34, 0.46), w * g.u(0.38, 0.5)  # loop half-widths: top, bottom
    cx = w / 2
    ym = g.u(0.38, 0.52)
    knots = [
        g.p(cx + 0.8 * tx, 0.1),
        g.p(cx, 0.0),
        g.p(cx - tx, 0.15),
        g.p(cx - 0.6 * tx, ym - 0.1),
        g.p(cx, ym),
        g.p(cx + bx, ym + 0.2),
        g.p(cx + 0.7 * bx, 0.96),
        g.p(cx - 0.2 * bx, 1.0),
        g.p(cx - bx, ym + 0.25),
        g.p(cx - 0.3 * bx, ym + 0.06),
        g.p(cx + 0.6 * tx, ym - 0.12),
        g.p(cx + tx, 0.18),
        g.p(cx + 0.5 * tx, g.u(0.0, 0.05)),
    ]
    strokes = [smooth(*knots)]
    return mirror_x(strokes) if g.coin(0.25) else strokes


def eight_two_loops(g: Shape) -> list[np.ndarray]:
    w = g.u(0.45, 0.6)
    ym = g.u(0.4, 0.48)
    top = g.loop(
        w / 2 + g.u(-0.03, 0.03),
        ym / 2,
        w * g.u(0.3, 0.42),
        ym / 2,
        g.u(60, 120),
        (360 + g.u(-10, 20)) * (1 if g.coin() else -1),
    )
    bottom = g.loop(
        w / 2,
        (1 + ym) / 2,
        w * g.u(0.38, 0.5),
        (1 - ym) / 2,
        g.u(-120, -60),
        (360 + g.u(-10, 20)) * (1 if g.coin() else -1),
    )
    return [top, bottom]


def _nine_loop(g: Shape, w: float) -> tuple[np.ndarray, float]:
    r = w * g.u(0.35, 0.55)
    cy = g.u(0.2, 0.34)
    loop = g.loop(w - r, cy, r, cy, g.u(-20, 10), -(360 + g.u(0, 40)))
    return loop, w - r + r * 0.95


def nine_curved(g: Shape) -> list[np.ndarray]:
    w = g.u(0.5, 0.62)
    loop, x = _nine_loop(g, w)
    stem = smooth(loop[-1], g.p(x, 0.55), g.p(x - g.u(0.05, 0.15), 0.9), g.p(x - g.u(0.2, 0.35), 1.0))
    return [path(loop, stem)]


def nine_straight(g: Shape) -> list[np.ndarray]:
    w = g.u(0.5, 0.62)
    loop, x = _nine_loop(g, w)
    return [path(loop, line(loop[-1], g.p(x + g.u(-0.04, 0.02), 1.0)))]


DIGIT_STYLES: dict[str, tuple[int, Glyph]] = {
    "0 plain": (0, zero_plain),
    "0 slashed": (0, zero_slashed),
    "1 plain": (1, one_plain),
    "1 flag": (1, one_flag),
    "1 flag+foot": (1, one_flag_foot),
    "2 plain": (2, two_plain),
    "2 loop": (2, two_loop),
    "3 round": (3, three_round),
    "3 flat-top": (3, three_flat),
    "4 open": (4, four_open),
    "4 closed": (4, four_closed),
    "5 hat joined": (5, five_joined),
    "5 hat apart": (5, five_hat_apart),
    "6 curved": (6, six_curved),
    "6 straight": (6, six_straight),
    "7 plain": (7, seven_plain),
    "7 crossbar": (7, seven_crossbar),
    "8 one stroke": (8, eight_one),
    "8 two loops": (8, eight_two_loops),
    "9 curved": (9, nine_curved),
    "9 straight": (9, nine_straight),
}
