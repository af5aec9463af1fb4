"""The drawing hand of the handwriting test set: shapes in a unit box -> pen strokes on a canvas.

Benchmark-side code, written independently of anything kpgui trains with. Two parts:

* geometry helpers the glyphs are built from (`smooth`, `line`, `Shape.loop`, `path`), all in a
  unit box, x right, y down, a digit about 1 tall;
* `draw()`, the hand: it slants, stretches, turns, sizes and places a glyph on the 400 px canvas,
  misplaces the pen a little between strokes, overshoots ends, and then *moves the pen through
  time* -- slow in tight curves and at both ends of a stroke (the 2/3 power law of human
  movement), sampled like a 100 Hz mouse (integer pixels, the odd dropped event) or a tablet
  (float coordinates, faster sampling) -- with a slow tremor of the hand on top.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CANVAS = 400


# -- geometry in the unit box -------------------------------------------------------------------


def smooth(*knots, per_segment: int = 12) -> np.ndarray:
    """A smooth curve through the knots (centripetal Catmull-Rom, ends extrapolated)."""
    p = np.asarray(knots, np.float64).reshape(-1, 2)
    if len(p) < 3:
        return line(*p, n=per_segment)
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    t = np.linspace(0.0, 1.0, per_segment, endpoint=False)[:, None]
    out = []
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        d01, d12, d23 = (
            max(float(np.linalg.norm(b - a)) ** 0.5, 1e-6) for a, b in ((p0, p1), (p1, p2), (p2, p3))
        )
        t0, t1, t2, t3 = 0.0, d01, d01 + d12, d01 + d12 + d23
        u = t1 + t * (t2 - t1)
        a1 = (t1 - u) / (t1 - t0) * p0 + (u - t0) / (t1 - t0) * p1
        a2 = (t2 - u) / (t2 - t1) * p1 + (u - t1) / (t2 - t1) * p2
        a3 = (t3 - u) / (t3 - t2) * p2 + (u - t2) / (t3 - t2) * p3
        b1 = (t2 - u) / (t2 - t0) * a1 + (u - t0) / (t2 - t0) * a2
        b2 = (t3 - u) / (t3 - t1) * a2 + (u - t1) / (t3 - t1) * a3
        out.append((t2 - u) / (t2 - t1) * b1 + (u - t1) / (t2 - t1) * b2)
    out.append(p[-1:])
    return np.vstack(out)


def line(*pts, n: int = 8) -> np.ndarray:
    """Straight segments through the points (a polyline with sharp corners), densely sampled."""
    p = np.asarray(pts, np.float64).reshape(-1, 2)
    if len(p) == 1:
        return p.copy()
    parts = [
        p[i] + np.linspace(0, 1, n, endpoint=False)[:, None] * (p[i + 1] - p[i]) for i in range(len(p) - 1)
    ]
    return np.vstack([*parts, p[-1:]])


def path(*pieces: np.ndarray) -> np.ndarray:
    """Pieces drawn one after the other without lifting the pen (a corner at each join)."""
    out = [np.asarray(pieces[0], np.float64)]
    for piece in pieces[1:]:
        piece = np.asarray(piece, np.float64)
        if np.allclose(piece[0], out[-1][-1]):
            piece = piece[1:]
        out.append(piece)
    return np.vstack(out)


def mirror_x(strokes: list[np.ndarray]) -> list[np.ndarray]:
    """The glyph mirrored left-right inside its own box."""
    xs = np.concatenate([s[:, 0] for s in strokes])
    lo, hi = xs.min(), xs.max()
    return [np.stack([lo + hi - s[:, 0], s[:, 1]], axis=1) for s in strokes]


def reverse(stroke: np.ndarray) -> np.ndarray:
    return stroke[::-1].copy()


class Shape:
    """Random choices of one glyph: a loose hand moves every knot a little (`sd`, unit box)."""

    def __init__(self, rng: np.random.Generator, sd: float | None = None) -> None:
        self.rng = rng
        self.sd = float(rng.uniform(0.01, 0.035)) if sd is None else sd

    def p(self, x: float, y: float, sd: float | None = None) -> np.ndarray:
        """The point (x, y) as this hand hits it."""
        return np.array([x, y]) + self.rng.normal(0.0, self.sd if sd is None else sd, 2)

    def u(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def coin(self, p: float = 0.5) -> bool:
        return bool(self.rng.random() < p)

    def loop(
        self, cx: float, cy: float, rx: float, ry: float, start: float, sweep: float, per_knot: float = 45.0
    ) -> np.ndarray:
        """An oval drawn from angle `start` through `sweep` degrees (> 360 overlaps itself,
        negative = anticlockwise), its radius wavering from knot to knot."""
        k = max(3, int(np.ceil(abs(sweep) / per_knot)) + 1)
        a = np.radians(start + sweep * np.linspace(0.0, 1.0, k))
        wobble = 1.0 + self.rng.normal(0.0, 0.9 * self.sd / max(min(rx, ry), 0.05), k)
        knots = np.stack([cx + rx * np.cos(a) * wobble, cy + ry * np.sin(a) * wobble], axis=1)
        return smooth(*knots)


# -- the hand -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hand:
    """How much a drawing may vary; the defaults are the style set's."""

    height: tuple[float, float] = (70.0, 360.0)  # px, the glyph's larger side, log-uniform
    slant: tuple[float, float] = (-0.12, 0.4)  # shear: the top moves right by slant * height
    rotation_sd: float = 5.0  # degrees
    aspect: tuple[float, float] = (0.75, 1.3)  # width stretch, log-uniform
    pen: tuple[float, float] = (4.0, 40.0)  # px, log-uniform, at most a quarter of the height
    seconds: tuple[float, float] = (0.35, 1.6)  # time to draw the whole glyph
    tremor: tuple[float, float] = (0.0, 0.008)  # slow wobble, share of the height
    join_slop: float = 0.025  # sd of each later stroke's misplacement, share of the height
    overshoot: float = 0.05  # longest run-on past a stroke's end, share of the height
    hooks: float = 0.12  # chance of a small tick where the pen lands (and half that where it lifts)
    tablet_share: float = 0.35  # the rest is a mouse


STYLE_HAND = Hand()
# Digits traced from MNIST already carry a person's slant and proportions: only size, pen,
# speed and tremor vary, plus a little slant.
TRACE_HAND = Hand(
    slant=(-0.08, 0.08),
    rotation_sd=2.0,
    aspect=(0.9, 1.1),
    join_slop=0.0,
    overshoot=0.0,
    hooks=0.0,
    tremor=(0.0, 0.005),
)


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _run_on(stroke: np.ndarray, length: float) -> np.ndarray:
    """The stroke continued past its end along its last direction (the pen lifts late)."""
    if len(stroke) < 2 or length <= 0:
        return stroke
    tail = stroke[-1] - stroke[max(0, len(stroke) - 4)]
    norm = float(np.hypot(*tail))
    if norm < 1e-9:
        return stroke
    return np.vstack([stroke, stroke[-1] + tail / norm * length])


def _hook(stroke: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A short tick bent back from the stroke's end (a pen landing or lifting carelessly)."""
    if len(stroke) < 2:
        return stroke
    tail = stroke[-1] - stroke[max(0, len(stroke) - 4)]
    norm = float(np.hypot(*tail))
    if norm < 1e-9:
        return stroke
    a = np.radians(rng.uniform(100, 160) * rng.choice([-1, 1]))
    turn = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    tick = turn @ (tail / norm) * rng.uniform(0.02, 0.05)
    return np.vstack([stroke, stroke[-1] + tick])


def _resample(stroke: np.ndarray, step: float) -> np.ndarray:
    """Points every `step` px along the stroke (ends kept)."""
    seg = np.hypot(*np.diff(stroke, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] < step:
        return stroke[[0, -1]] if len(stroke) > 1 else stroke
    q = np.linspace(0.0, s[-1], int(np.ceil(s[-1] / step)) + 1)
    return np.stack([np.interp(q, s, stroke[:, 0]), np.interp(q, s, stroke[:, 1])], axis=1)


def _slowness(pts: np.ndarray, height: float) -> np.ndarray:
    """Relative time per unit length at each point: the hand slows in tight curves (speed ~
    radius^(1/3)) and at the start and end of a stroke."""
    n = len(pts)
    if n < 3:
        return np.ones(n)
    d = np.diff(pts, axis=0)
    ang = np.arctan2(d[:, 1], d[:, 0])
    turn = np.abs(np.angle(np.exp(1j * np.diff(ang))))
    step = np.hypot(d[:, 0], d[:, 1]).mean()
    turn = np.pad(turn, 3, "edge")  # n + 4 values: one per point, 2 more at each end
    curv = np.convolve(turn, np.ones(5) / 5, "valid") / step
    radius = np.clip(1.0 / np.maximum(curv, 1e-9), 0.01 * height, 2.0 * height)
    u = np.linspace(0.0, 1.0, n)
    ends = np.clip(np.minimum(u, 1.0 - u) / 0.15, 0.25, 1.0) ** 0.7
    return 1.0 / (radius ** (1.0 / 3.0) * ends)


def _ar1(rng: np.random.Generator, n: int, sd: float, phi: float = 0.85) -> np.ndarray:
    """Slow (low-pass) 2-D noise with standard deviation `sd`: a wavering hand."""
    e = rng.normal(0.0, sd * np.sqrt(1 - phi * phi), (n, 2))
    out = np.empty((n, 2))
    acc = rng.normal(0.0, sd, 2)
    for i in range(n):
        acc = phi * acc + e[i]
        out[i] = acc
    return out


def draw(
    glyph: list[np.ndarray], rng: np.random.Generator, hand: Hand = STYLE_HAND
) -> tuple[list[np.ndarray], float]:
    """(strokes in canvas pixels, pen width) for one drawing of a unit-box glyph."""
    strokes = [np.asarray(s, np.float64).reshape(-1, 2) for s in glyph if len(s)]
    allp = np.vstack(strokes)
    centre = (allp.min(axis=0) + allp.max(axis=0)) / 2
    size0 = float((allp.max(axis=0) - allp.min(axis=0)).max()) or 1.0
    # Pen misplaced between strokes, ends run on: in glyph units, before any stretching.
    out = []
    for i, s in enumerate(strokes):
        s = (s - centre) / size0
        if i and hand.join_slop:
            s = s + rng.normal(0.0, hand.join_slop, 2)
        if hand.overshoot and rng.random() < 0.35:
            s = _run_on(s, rng.uniform(0.0, hand.overshoot))
        if hand.hooks and rng.random() < hand.hooks:
            s = _hook(s[::-1], rng)[::-1]
        if hand.hooks and rng.random() < hand.hooks / 2:
            s = _hook(s, rng)
        out.append(s)
    # Slant, stretch, turn.
    slant = rng.uniform(*hand.slant)
    aspect = _log_uniform(rng, *hand.aspect)
    a = np.radians(rng.normal(0.0, hand.rotation_sd))
    m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.array([[aspect, -slant], [0.0, 1.0]])
    out = [s @ m.T for s in out]
    allp = np.vstack(out)
    extent = allp.max(axis=0) - allp.min(axis=0)
    height = _log_uniform(rng, *hand.height)
    k = height / max(extent.max(), 1e-9)
    # Nobody picks a pen as fat as the thing drawn: at most a quarter of its smaller side (a
    # third of its larger side for thin things like a 1).
    detail = max(extent.min(), extent.max() / 3) * k
    pen = min(_log_uniform(rng, *hand.pen), max(hand.pen[0], 0.25 * detail))
    k = min(k, (CANVAS - 2 - pen) / max(extent.max(), 1e-9))
    size = extent * k
    lo = pen / 2 + 1 + rng.uniform(0.0, 1.0, 2) * np.maximum(CANVAS - 2 - pen - size, 0.0)
    out = [(s - allp.min(axis=0)) * k + lo for s in out]
    return _move_pen(out, rng, hand, float(size.max())), float(pen)


def _move_pen(
    strokes: list[np.ndarray], rng: np.random.Generator, hand: Hand, height: float
) -> list[np.ndarray]:
    """The pen's path through time, sampled by the input device, with tremor."""
    tablet = rng.random() < hand.tablet_share
    rate = rng.uniform(120.0, 200.0) if tablet else 100.0
    fine = [_resample(s, 1.0) for s in strokes]
    slow = [_slowness(f, height) for f in fine]
    step_len = [np.concatenate([[0.0], np.hypot(*np.diff(f, axis=0).T)]) for f in fine]
    total = sum(float((w * d).sum()) for w, d in zip(slow, step_len, strict=True))
    seconds = rng.uniform(*hand.seconds)
    per_unit = seconds / max(total, 1e-9)  # time = per_unit * slowness * length
    tremor = rng.uniform(*hand.tremor) * height
    drop = 0.0 if tablet else rng.uniform(0.0, 0.05)
    result = []
    for f, w, d in zip(fine, slow, step_len, strict=True):
        t = np.cumsum(per_unit * w * d)
        t_end = float(t[-1])
        when = np.arange(rng.uniform(0.0, 0.3), t_end * rate) / rate  # events after pen-down
        when = np.concatenate([[0.0], when[when > 0], [t_end]])
        if drop and len(when) > 3:  # the odd mouse event lost by a busy window
            keep = rng.random(len(when)) >= drop
            keep[[0, -1]] = True
            when = when[keep]
        xy = np.stack([np.interp(when, t, f[:, 0]), np.interp(when, t, f[:, 1])], axis=1)
        if tremor > 0:
            xy = xy + _ar1(rng, len(xy), tremor)
        if tablet:
            xy = xy + rng.normal(0.0, 0.25, xy.shape)
        else:
            xy = np.round(xy)
        xy = np.clip(xy, 0.0, CANVAS - 1.0)
        if len(xy) > 1 and not tablet:  # a mouse reports no move without moving
            moved = np.concatenate([[True], np.any(np.diff(xy, axis=0) != 0, axis=1)])
            xy = xy[moved]
        result.append(xy.astype(np.float64))
    return result
