"""Handwriting-like strokes for the ten digits, at canvas scale, sampled like a mouse at 100 Hz.

Each digit is a few parametric curves in a unit box (x right, y down). A "drawing" scales it to a
random height on a 400 px canvas, places it, tilts it a little, and samples each stroke at an
uneven speed (slow at the ends, fast in the middle) with hand jitter: 60-150 points per digit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Curve = Callable[[np.ndarray], np.ndarray]  # t in [0, 1] -> (N, 2) points in the unit box
CANVAS = 400


def _line(*pts: tuple[float, float]) -> Curve:
    p = np.asarray(pts, np.float64)
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)]) / seg.sum()

    def f(t: np.ndarray) -> np.ndarray:
        return np.stack([np.interp(t, cum, p[:, 0]), np.interp(t, cum, p[:, 1])], axis=1)

    return f


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float) -> Curve:
    """Elliptic arc; angles in degrees, 0 = right, 90 = down (screen coordinates)."""

    def f(t: np.ndarray) -> np.ndarray:
        a = np.radians(a0 + (a1 - a0) * t)
        return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)

    return f


def _chain(*curves: Curve) -> Curve:
    """Curves drawn one after the other without lifting the pen (equal time each)."""
    k = len(curves)

    def f(t: np.ndarray) -> np.ndarray:
        idx = np.minimum((t * k).astype(int), k - 1)
        out = np.empty((len(t), 2))
        for i, c in enumerate(curves):
            m = idx == i
            out[m] = c(t[m] * k - i)
        return out

    return f


DIGITS: dict[int, list[Curve]] = {
    0: [_arc(0.5, 0.5, 0.32, 0.48, -90, 275)],
    1: [_line((0.35, 0.18), (0.55, 0.0), (0.55, 1.0))],
    2: [_chain(_arc(0.5, 0.28, 0.3, 0.28, 190, 380), _line((0.78, 0.38), (0.15, 1.0), (0.9, 1.0)))],
    3: [_chain(_arc(0.48, 0.25, 0.3, 0.25, 200, 450), _arc(0.48, 0.73, 0.34, 0.27, -90, 150))],
    4: [_line((0.62, 0.0), (0.08, 0.68), (0.92, 0.68)), _line((0.68, 0.3), (0.68, 1.0))],
    5: [_line((0.85, 0.0), (0.25, 0.0), (0.2, 0.45)), _arc(0.48, 0.68, 0.35, 0.32, -130, 150)],
    6: [_chain(_line((0.75, 0.0), (0.3, 0.45)), _arc(0.5, 0.72, 0.3, 0.28, 200, 560))],
    7: [_line((0.1, 0.02), (0.9, 0.0), (0.38, 1.0))],
    8: [
        _chain(
            _arc(0.5, 0.25, 0.25, 0.25, 90, -180),
            _arc(0.5, 0.75, 0.3, 0.25, -90, 270),
            _arc(0.5, 0.25, 0.25, 0.25, 180, 90),
        )
    ],
    9: [_chain(_arc(0.5, 0.28, 0.3, 0.28, 0, -360), _line((0.8, 0.28), (0.72, 1.0)))],
}


def _sample(curve: Curve, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points along a stroke, dense where the hand is slow (start and end)."""
    u = np.linspace(0.0, 1.0, n)
    speed_bias = rng.uniform(0.2, 0.45)
    t = u - speed_bias * np.sin(2 * np.pi * u) / (2 * np.pi)  # ease in / ease out
    return curve(np.clip(t, 0.0, 1.0))


def draw_digit(
    digit: int, rng: np.random.Generator, canvas: int = CANVAS, points: tuple[int, int] = (60, 150)
) -> tuple[list[np.ndarray], float]:
    """(strokes, pen_width) for one hand-drawn-looking digit on a `canvas` px square."""
    curves = DIGITS[digit]
    total = int(rng.integers(points[0], points[1] + 1))
    share = rng.dirichlet(np.full(len(curves), 4.0)) if len(curves) > 1 else np.ones(1)
    height = rng.uniform(0.35, 0.8) * canvas
    width = height * rng.uniform(0.55, 0.8)
    slant = rng.uniform(-0.25, 0.1)
    x0 = rng.uniform(0.05 * canvas, canvas - width - 0.05 * canvas)
    y0 = rng.uniform(0.05 * canvas, canvas - height - 0.05 * canvas)
    strokes = []
    for curve, frac in zip(curves, share, strict=True):
        pts = _sample(curve, max(8, int(round(total * frac))), rng)
        x = x0 + width * (pts[:, 0] + slant * (1.0 - pts[:, 1]))
        y = y0 + height * pts[:, 1]
        wobble = np.cumsum(rng.normal(0, 0.4, (len(pts), 2)), axis=0)  # slow drift of the hand
        jitter = rng.normal(0, 0.7, (len(pts), 2))
        xy = np.stack([x, y], axis=1) + wobble + jitter
        strokes.append(np.round(np.clip(xy, 0, canvas - 1)))  # mouse positions are integers
    return strokes, float(rng.uniform(8.0, 24.0))


def partial_states(strokes: list[np.ndarray]) -> list[list[np.ndarray]]:
    """Every state the canvas passes through while the digit is drawn, one per mouse move."""
    states = []
    for i, stroke in enumerate(strokes):
        for j in range(1, len(stroke) + 1):
            states.append([*strokes[:i], stroke[:j]])
    return states
