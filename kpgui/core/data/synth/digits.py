"""Digits drawn the ways people draw them, including the styles MNIST has few of.

Each style is a function of a random generator returning strokes in the unit frame of `pen`
(about one unit high, x centred near 0, y down). Key points are jiggled per drawing so no two
drawings share proportions; the hand then adds slant, bend, speed, tremor and whole pixels.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kpgui.core.data.synth.pen import arc, chain, ellipse_stroke, hand, hand_many, jiggle, line, spline
from kpgui.core.reading.preprocess import strokes_to_mnist

Glyph = list[np.ndarray]


def _zero(rng, slashed: bool) -> Glyph:
    rx = rng.uniform(0.22, 0.4)
    ccw = rng.random() < 0.8  # most people draw a 0 anticlockwise from the top
    loop = ellipse_stroke(rng, 0.0, 0.5, rx, 0.5, start=rng.uniform(-115, -60), ccw=ccw)
    if not slashed:
        return [loop]
    a, b = rng.uniform(0.45, 1.35, 2)
    slash = line([rx * a, 0.5 - 0.5 * a], [-rx * b, 0.5 + 0.5 * b])
    slash = jiggle(slash, rng, 0.03)
    return [loop, slash if rng.random() < 0.8 else slash[::-1]]


def _one(rng, flag: bool, foot: bool) -> Glyph:
    bow = rng.normal(0.0, 0.02)
    stem = spline([[0.0, 0.0], [bow, 0.5], [0.0, 1.0]], 6)
    if not flag:
        return [stem]
    f = rng.uniform(0.15, 0.5)
    a = np.radians(rng.uniform(15.0, 65.0))  # how far the flag droops below horizontal
    tip = [-f * np.cos(a), f * np.sin(a)]
    if rng.random() < 0.3:  # a slightly curved flag
        mid = [tip[0] * 0.5 + rng.normal(0, 0.02), tip[1] * 0.5 - rng.uniform(0.0, 0.05)]
        flag_part = spline([tip, mid, [0.0, 0.0]], 6)
    else:
        flag_part = line(tip, [0.0, 0.0])
    strokes = [chain(flag_part, stem)] if rng.random() < 0.85 else [flag_part, stem]
    if foot:
        g, h = rng.uniform(0.12, 0.45, 2)  # from a serif to a base as wide as the digit is tall
        strokes.append(line([-g, 1.0], [h, 1.0 + rng.normal(0, 0.015)]))
    return strokes


def _two(rng, loop: bool) -> Glyph:
    w = rng.uniform(0.24, 0.38)  # half width
    top = rng.uniform(0.22, 0.32)  # radius of the top arch (vertical)
    arch = arc(0.0, top, w, top, rng.uniform(190, 215), rng.uniform(370, 400), 16)
    end = arch[-1]
    base_y = 1.0
    if not loop:
        corner = [-w * rng.uniform(0.85, 1.1), base_y]
        sag = rng.uniform(-0.06, 0.1)  # the descent bows in (> 0) or out
        mid = (end + np.array(corner)) / 2 + [-sag, -sag * 0.6]
        body = spline([end, mid, corner], 8)
        base = line(corner, [w * rng.uniform(0.8, 1.25), base_y + rng.normal(0, 0.02)])
        return [chain(arch, body, base)]
    r = rng.uniform(0.09, 0.15)
    low = np.array([-w * 0.6, base_y - r * 0.2])
    mid = (end + low) / 2 + [0.02, -0.02]
    curl = jiggle(
        [
            low,
            low + [-r * 1.1, r * 0.1],
            low + [-r * 0.6, -r * 1.4],
            low + [r * 0.6, -r * 0.9],
            low + [r * 1.2, r * 0.2],
        ],
        rng,
        0.012,
    )
    body = spline([end, mid, *curl, [w * rng.uniform(0.85, 1.25), base_y + rng.normal(0, 0.02)]], 8)
    return [chain(arch, body)]


def _three(rng, flat: bool) -> Glyph:
    w = rng.uniform(0.25, 0.36)
    mid_y = rng.uniform(0.42, 0.52)
    waist = [rng.uniform(-0.12, 0.05), mid_y]
    bowl = jiggle(
        [waist, [w * 0.8, mid_y + 0.08], [w, mid_y + 0.3], [0.15, 0.98], [-0.15, 1.0], [-w * 1.05, 0.86]],
        rng,
        0.02,
    )
    bowl[0] = waist
    if flat:
        top = line([-w, 0.0], [w * rng.uniform(0.8, 1.15), rng.normal(0, 0.02)])
        diag = line(top[-1], waist)
        return [chain(top, diag, spline(bowl, 8))]
    upper = jiggle([[-w * 0.95, 0.14], [-0.1, 0.0], [w * 0.75, 0.06], [w * 0.85, 0.26], waist], rng, 0.02)
    upper[-1] = waist
    if rng.random() < 0.2:  # two separate bumps
        return [spline(upper, 8), spline(bowl, 8)]
    return [chain(spline(upper, 8), spline(bowl, 8))]


def _four(rng, closed: bool) -> Glyph:
    stem_x = rng.uniform(0.05, 0.2)
    bar_y = rng.uniform(0.55, 0.72)
    left = -rng.uniform(0.25, 0.38)
    right = stem_x + rng.uniform(0.06, 0.2)
    stem_top = rng.uniform(0.0, 0.15) if not closed else 0.0
    stem = line([stem_x, stem_top], [stem_x + rng.normal(0, 0.02), 1.0])
    if closed:
        apex = [stem_x, 0.0]
        angle = chain(line(apex, [left, bar_y]), line([left, bar_y], [right, bar_y + rng.normal(0, 0.02)]))
        if rng.random() < 0.3:  # one stroke: up the stem, down the diagonal, across
            return [chain(stem[::-1], angle)]
        return [angle, stem]
    top_x = rng.uniform(left, left + 0.25)
    angle = chain(
        line([top_x, 0.0], [left, bar_y]), line([left, bar_y], [right, bar_y + rng.normal(0, 0.02)])
    )
    return [angle, stem]


def _five(rng, separate_hat: bool) -> Glyph:
    w = rng.uniform(0.25, 0.36)
    corner = [-w * rng.uniform(0.65, 1.0), 0.0]
    hip = [corner[0] - rng.uniform(-0.03, 0.06), rng.uniform(0.38, 0.48)]
    belly = jiggle(
        [hip, [0.0, hip[1] - 0.06], [w, hip[1] + 0.15], [w * 1.05, 0.78], [0.05, 1.0], [-w, 0.88]], rng, 0.02
    )
    belly[0] = hip
    body = chain(line(corner, hip), spline(belly, 8))
    hat = line(corner, [w * rng.uniform(0.75, 1.2), rng.normal(-0.01, 0.025)])
    if separate_hat:
        return [body, hat]
    return [chain(hat[::-1], body)]


def _six(rng, straight: bool) -> Glyph:
    w = rng.uniform(0.24, 0.34)
    cy = rng.uniform(0.68, 0.74)
    r = 1.0 - cy
    start = [w * rng.uniform(0.3, 0.9), rng.uniform(0.0, 0.08)]
    if straight:
        cy = rng.uniform(0.72, 0.8)
        r = 1.0 - cy
        w *= rng.uniform(0.8, 0.95)
        join = [-w, cy + rng.uniform(-0.03, 0.06)]
        stem = line(start, join)
        loop = spline(
            jiggle(
                [
                    join,
                    [-w * 0.6, 1.0 - 0.05],
                    [0.05, 1.0],
                    [w, cy + 0.05],
                    [w * 0.6, cy - r],
                    [-w * 0.3, cy - r * 0.95],
                    [-w * 0.95, cy + 0.02],
                ],
                rng,
                0.015,
            ),
            8,
        )
        loop[0] = join
        return [chain(stem, loop)]
    pts = jiggle(
        [
            start,
            [-w * 0.4, 0.18],
            [-w, cy - 0.05],
            [-w * 0.55, 0.97],
            [w * 0.4, 0.98],
            [w, cy],
            [w * 0.35, cy - r],
            [-w * 0.45, cy - r * 0.8],
            [-w * 0.9, cy + 0.05],
        ],
        rng,
        0.02,
    )
    return [spline(pts, 8)]


def _seven(rng, crossbar: bool) -> Glyph:
    w = rng.uniform(0.25, 0.38)
    left = [-w, rng.normal(0.0, 0.02)]
    corner = [w, 0.0]
    foot = [rng.uniform(-0.2, 0.05), 1.0]
    bow = rng.normal(0.0, 0.04)
    mid = [(corner[0] + foot[0]) / 2 + bow, 0.5]
    down = spline([corner, mid, foot], 8)
    top = line(left, corner)
    if rng.random() < 0.2:  # a little tick at the start of the bar
        top = chain(line([left[0], left[1] + rng.uniform(0.08, 0.16)], left), top)
    strokes = [chain(top, down)]
    if crossbar:
        t = rng.uniform(0.42, 0.6)
        cx = np.interp(t, down[:, 1], down[:, 0])
        g, h = rng.uniform(0.1, 0.22, 2)
        tilt = rng.normal(0.0, 0.03)
        strokes.append(line([cx - g, t + tilt], [cx + h, t - tilt]))
    return strokes


def _eight(rng, two_loops: bool) -> Glyph:
    wt = rng.uniform(0.16, 0.26)  # top half width
    wb = wt * rng.uniform(1.0, 1.35)
    waist = rng.uniform(0.42, 0.5)
    if two_loops:
        top = ellipse_stroke(
            rng,
            rng.normal(0, 0.02),
            waist / 2,
            wt,
            waist / 2,
            start=90.0 + rng.normal(0, 20),
            ccw=rng.random() < 0.5,
            closure=(-10, 30),
        )
        rb = (1.0 - waist) / 2
        bottom = ellipse_stroke(
            rng,
            rng.normal(0, 0.02),
            waist + rb,
            wb,
            rb,
            start=-90.0 + rng.normal(0, 20),
            ccw=rng.random() < 0.5,
            closure=(-10, 30),
        )
        return [top, bottom]
    cross = [rng.normal(0.0, 0.03), waist]
    pts = jiggle(
        [
            [wt * 0.8, 0.1],
            [0.0, 0.0],
            [-wt, 0.15],
            [-wt * 0.5, waist * 0.8],
            cross,
            [wb * 0.85, waist + 0.16],
            [wb * 0.8, 0.9],
            [0.0, 1.0],
            [-wb, 0.85],
            [-wb * 0.7, waist + 0.12],
            cross,
            [wt * 0.7, waist * 0.6],
            [wt * 0.85, 0.1 + rng.uniform(-0.05, 0.08)],
        ],
        rng,
        0.02,
    )
    return [spline(pts, 8)]


def _nine(rng, straight: bool) -> Glyph:
    w = rng.uniform(0.22, 0.32)
    ry = rng.uniform(0.2, 0.26)
    cy = ry
    join = [w, cy - rng.uniform(0.0, 0.1)]
    loop = spline(
        jiggle(
            [
                [w * 0.9, cy - ry * 0.5],
                [0.0, 0.0],
                [-w, cy],
                [-w * 0.2, 2 * ry],
                [w * 0.9, cy + ry * 0.3],
                join,
            ],
            rng,
            0.015,
        ),
        8,
    )
    loop[-1] = join
    if straight:
        tail = line(join, [w + rng.normal(-0.03, 0.04), 1.0])
    else:
        tail = spline([join, [w, 0.6], [w * 0.6, 0.88], [0.0, 1.0], [-w * rng.uniform(0.3, 0.9), 0.92]], 8)
    return [chain(loop, tail)]


_STYLE_FUNCS: dict[int, dict[str, Callable[[np.random.Generator], Glyph]]] = {
    0: {"plain": lambda r: _zero(r, False), "slashed": lambda r: _zero(r, True)},
    1: {
        "plain": lambda r: _one(r, False, False),
        "flag": lambda r: _one(r, True, False),
        "flag_foot": lambda r: _one(r, True, True),
    },
    2: {"plain": lambda r: _two(r, False), "loop": lambda r: _two(r, True)},
    3: {"round": lambda r: _three(r, False), "flat_top": lambda r: _three(r, True)},
    4: {"open": lambda r: _four(r, False), "closed": lambda r: _four(r, True)},
    5: {"joined_hat": lambda r: _five(r, False), "separate_hat": lambda r: _five(r, True)},
    6: {"curved": lambda r: _six(r, False), "straight": lambda r: _six(r, True)},
    7: {"plain": lambda r: _seven(r, False), "crossbar": lambda r: _seven(r, True)},
    8: {"one_loop": lambda r: _eight(r, False), "two_loops": lambda r: _eight(r, True)},
    9: {"curved": lambda r: _nine(r, False), "straight": lambda r: _nine(r, True)},
}

STYLES: dict[int, list[str]] = {d: list(funcs) for d, funcs in _STYLE_FUNCS.items()}
"""The styles of each digit; the first one of each list is the style MNIST is full of."""

UNCOMMON_IN_MNIST: dict[int, list[str]] = {
    0: ["slashed"],
    1: ["flag", "flag_foot"],
    2: ["loop"],
    3: ["flat_top"],
    7: ["crossbar"],
}
"""Styles MNIST (US census staff and students) has few or none of."""


def glyph(digit: int, style: str, rng: np.random.Generator) -> Glyph:
    """Unit-frame strokes of one drawing of `digit` in `style` (before the hand draws them)."""
    try:
        return _STYLE_FUNCS[int(digit)][style](rng)
    except KeyError:
        raise ValueError(f"no style {style!r} for digit {digit}; styles are {STYLES.get(digit)}") from None


def draw_style(digit: int, style: str, rng: np.random.Generator) -> tuple[list[np.ndarray], float]:
    """One drawing of `digit` in `style` as a mouse would report it: (canvas strokes, pen width).

    Strokes are (N, 2) float64 arrays of whole-pixel canvas coordinates (x right, y down), ready
    for `strokes_to_mnist(strokes, pen_width)`.
    """
    return hand(glyph(digit, style, rng), rng)


def synthetic_digits(n: int, seed: int, *, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """`n` drawn digits as MNIST-style images: (uint8 (n, 28, 28), uint8 labels (n,)).

    Labels are balanced (counts differ by at most one) and shuffled; each digit's styles take
    turns (`style_of(labels)` says which), so every style of STYLES appears once n >= 30. Drawing
    i is `draw_style(label, style, np.random.default_rng([seed, i]))`: it depends only on (seed, i).
    """
    n = int(n)
    labels = np.random.default_rng([seed, 10**9]).permutation(np.arange(n) % 10).astype(np.uint8)
    styles = style_of(labels)
    images = np.zeros((n, 28, 28), np.uint8)
    for start in range(0, n, batch):
        idx = range(start, min(n, start + batch))
        rngs = [np.random.default_rng([seed, i]) for i in idx]
        glyphs = [glyph(int(labels[i]), styles[i], rng) for i, rng in zip(idx, rngs, strict=True)]
        for i, (strokes, pen) in zip(idx, hand_many(glyphs, rngs), strict=True):
            images[i] = np.round(strokes_to_mnist(strokes, pen) * 255.0)
    return images, labels


def style_of(labels: np.ndarray) -> list[str]:
    """The style `synthetic_digits` used for each of its labels (same turn-taking rule)."""
    seen = np.zeros(10, np.int64)
    out = []
    for d in np.asarray(labels, np.int64):
        out.append(STYLES[int(d)][seen[d] % len(STYLES[int(d)])])
        seen[d] += 1
    return out
