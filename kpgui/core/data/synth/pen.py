"""Shapes in a unit frame and the hand that draws them on a canvas like a mouse or tablet would.

Glyphs (digits, letters, symbols) are built from a few primitives in a frame about one unit high
(x right, y down, the glyph's top near y = 0, its bottom near y = 1). `hand` then does to them
what a person and a pointing device do: it over- or undershoots the ends of strokes and misplaces
separate strokes a little (so joins do not meet exactly), bends the whole shape (a smooth random
field, slant, rotation, aspect), puts the drawing somewhere on a canvas a few hundred pixels wide,
moves the pen along each stroke at an uneven speed (slow at the ends and in tight turns, with
slow surges) and reports where it was at each event, with tremor, in whole pixels, dropping
repeated points as the canvas does.

`hand_many` does this for many drawings in one go: every step is one set of array operations
over all their strokes, which is what makes tens of thousands of drawings cheap. Each drawing
still takes all its randomness from its own generator, so it is the same whatever it is batched
with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Stroke = np.ndarray  # (N, 2) float64, x right, y down


# ---------------------------------------------------------------------------------------------
# Primitives


def line(*points) -> Stroke:
    """Straight segments through `points` (corners where they meet)."""
    return np.asarray(points, np.float64).reshape(-1, 2)


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 24) -> Stroke:
    """Elliptic arc; angles in degrees on screen (0 right, 90 down, -90 up), drawn from a0 to a1.

    Decreasing angles run counter-clockwise as a person sees it (a 0 drawn from the top, leftwards).
    """
    a = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)


def spline(points, n: int = 10) -> Stroke:
    """Smooth curve through `points` (centripetal Catmull-Rom: no cusps, no overshooting loops)."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    if len(p) < 3:
        return p
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    gaps = np.sqrt(np.maximum(np.hypot(*np.diff(ext, axis=0).T), 1e-9))  # |dp| ** 0.5
    knots = np.concatenate([[0.0], np.cumsum(gaps)])
    k0, k1, k2, k3 = (knots[i : i + len(p) - 1, None, None] for i in range(4))
    p0, p1, p2, p3 = (ext[i : i + len(p) - 1, None, :] for i in range(4))
    t = k1 + (k2 - k1) * np.linspace(0.0, 1.0, n, endpoint=False)[None, :, None]
    a1 = ((k1 - t) * p0 + (t - k0) * p1) / (k1 - k0)
    a2 = ((k2 - t) * p1 + (t - k1) * p2) / (k2 - k1)
    a3 = ((k3 - t) * p2 + (t - k2) * p3) / (k3 - k2)
    b1 = ((k2 - t) * a1 + (t - k0) * a2) / (k2 - k0)
    b2 = ((k3 - t) * a2 + (t - k1) * a3) / (k3 - k1)
    c = ((k2 - t) * b1 + (t - k1) * b2) / (k2 - k1)
    return np.vstack([c.reshape(-1, 2), p[-1:]])


def chain(*parts) -> Stroke:
    """One stroke made of pieces drawn without lifting the pen (each starts where the last ended)."""
    out = [np.asarray(parts[0], np.float64).reshape(-1, 2)]
    for part in parts[1:]:
        out.append(np.asarray(part, np.float64).reshape(-1, 2)[1:])
    return np.vstack(out)


def ellipse_stroke(rng, cx, cy, rx, ry, start=-90.0, ccw=True, closure=(-25.0, 35.0), drift=0.08, n=40):
    """A hand-drawn loop: starts at angle `start`, goes round once, ends with a gap or an overlap
    (`closure` in degrees) and a radius that drifts by up to `drift`, so it rarely closes exactly."""
    turn = 360.0 + rng.uniform(*closure)
    a = np.radians(start + np.linspace(0.0, -turn if ccw else turn, n))
    grow = 1.0 + rng.uniform(-drift, drift) * np.linspace(0.0, 1.0, n)
    return np.stack([cx + rx * grow * np.cos(a), cy + ry * grow * np.sin(a)], axis=1)


def jiggle(points, rng, sd: float) -> np.ndarray:
    """Key points moved independently by N(0, sd): each drawing of a style has its own proportions."""
    p = np.asarray(points, np.float64)
    return p + rng.normal(0.0, sd, p.shape)


# ---------------------------------------------------------------------------------------------
# Geometry helpers


def _groups(sizes: np.ndarray):
    """(first index, last index, group id per item) of consecutive groups of the given sizes."""
    first = np.cumsum(sizes) - sizes
    return first, first + sizes - 1, np.repeat(np.arange(len(sizes)), sizes)


def _arclength(pts: np.ndarray, gid: np.ndarray, first: np.ndarray):
    """Per point: arclength from the start of its own stroke; per segment: length (0 between strokes)."""
    d = np.diff(pts, axis=0)
    ds = np.where(gid[1:] == gid[:-1], np.hypot(d[:, 0], d[:, 1]), 0.0)
    s = np.concatenate([[0.0], np.cumsum(ds)])
    return s - s[first][gid], ds


def follow(pts: np.ndarray, sizes: np.ndarray, step: float, ends: np.ndarray):
    """Strokes (concatenated `pts`, `sizes` points each) walked every `step`, each lengthened
    (> 0) or cut short (< 0, by at most 30 % of its length) at its start and end by `ends` (S, 2):
    a hand over- or undershooting. Returns (points, sizes) the same way; a dot stays a dot."""
    first, last, gid = _groups(sizes)
    s, _ = _arclength(pts, gid, first)
    total = s[last]
    start, end = ends[:, 0], ends[:, 1]
    lo = np.where(start > 0, -start, np.minimum(-start, 0.3 * total))
    hi = total + np.where(end > 0, end, -np.minimum(-end, 0.3 * total))
    count = np.maximum(2, np.ceil((hi - lo) / step).astype(np.int64) + 1)
    _, _, tid = _groups(count)
    r = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    t = lo[tid] + (hi - lo)[tid] * r / (count[tid] - 1)
    # Interpolate on one axis on which each stroke's arclengths lie past all earlier strokes'.
    shift = np.concatenate([[0.0], np.cumsum(total[:-1] + 1.0)])
    axis = s + shift[gid]
    at = np.clip(t, 0.0, total[tid]) + shift[tid]
    out = np.stack([np.interp(at, axis, pts[:, 0]), np.interp(at, axis, pts[:, 1])], axis=1)
    # Beyond an end, carry straight on in the direction the stroke ended with.
    away_start = pts[first] - pts[np.minimum(first + 1, last)]
    away_end = pts[last] - pts[np.maximum(last - 1, first)]
    away_start /= np.maximum(np.hypot(away_start[:, 0], away_start[:, 1]), 1e-9)[:, None]
    away_end /= np.maximum(np.hypot(away_end[:, 0], away_end[:, 1]), 1e-9)[:, None]
    out += np.maximum(-t, 0.0)[:, None] * away_start[tid]
    out += np.maximum(t - total[tid], 0.0)[:, None] * away_end[tid]
    return out, count


def mouse_events(
    pts: np.ndarray, sizes: np.ndarray, spacing: np.ndarray, surge: np.ndarray, phase: np.ndarray
):
    """Where a mouse reports the pen while it follows dense strokes (canvas px; concatenated `pts`,
    `sizes` points each): at a speed giving `spacing` px (per stroke) between events on straight
    runs, slower where a stroke starts and ends and in tight turns, surging slowly (`surge` (S, 2):
    cycles per stroke and phase); the first tick after pen-down at `phase` (S,) in [0, 1).
    Returns (events, sizes), pen-down and pen-up points included."""
    first, last, gid = _groups(sizes)
    s, ds = _arclength(pts, gid, first)
    total = s[last][gid]
    d = np.diff(pts, axis=0)
    heading = np.arctan2(d[:, 1], d[:, 0])
    same = ds > 0
    bend = np.abs((np.diff(heading) + np.pi) % (2 * np.pi) - np.pi)
    turn = np.zeros(len(pts))
    turn[1:-1] = np.where(same[:-1] & same[1:], bend, 0.0)
    # Mean over 5 points, not reaching into the next stroke (or drawing).
    acc = np.concatenate([[0.0], np.cumsum(turn)])
    i = np.arange(len(turn))
    turn = (acc[np.minimum(i + 2, last[gid]) + 1] - acc[np.maximum(i - 2, first[gid])]) / 5.0
    safe = np.maximum(total, 1e-9)
    ramp = np.sqrt(np.minimum(np.maximum(np.minimum(s, total - s) / (0.12 * safe), 0.15), 1.0))
    wave = np.exp(0.3 * np.sin(2 * np.pi * surge[gid, 0] * s / safe + surge[gid, 1]))
    speed = spacing[gid] * ramp * wave / (1.0 + 6.0 * turn)
    dt = np.where(same, ds / (0.5 * (speed[1:] + speed[:-1])), 0.0)
    clock = np.concatenate([[0.0], np.cumsum(dt)])
    clock -= clock[first][gid]
    duration = clock[last]
    offset = np.concatenate([[0.0], np.cumsum(duration[:-1] + 2.0)])
    inner = np.where(duration > 0, np.maximum(np.ceil(duration - phase), 0), 0).astype(np.int64)
    counts = np.where(duration > 0, inner + 2, 1)
    _, _, tid = _groups(counts)
    r = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    local = np.where(r == 0, 0.0, np.where(r == counts[tid] - 1, duration[tid], phase[tid] + r - 1))
    when = np.minimum(local, duration[tid]) + offset[tid]
    axis = clock + offset[gid]
    ev = np.stack([np.interp(when, axis, pts[:, 0]), np.interp(when, axis, pts[:, 1])], axis=1)
    return ev, counts


@dataclass(frozen=True)
class Hand:
    """How much a drawing varies from its ideal shape (all lengths relative to its height)."""

    ends: tuple[float, float] = (-0.04, 0.05)  # stroke ends cut short / overshot by U(lo, hi)
    misplace: float = 0.018  # sd of the offset of each separate stroke
    bend: float = 0.035  # largest amplitude of each of the 3 slow waves of the smooth field
    wiggle: float = 0.01  # ... and of its 2 faster ones (about 2.5 per height: a wobbly hand)
    lean: tuple[float, float] = (0.12, 0.14)  # slant ~ N(mean, sd), clipped to [-0.25, 0.5]
    rotate: float = 4.0  # sd, degrees
    aspect: float = 0.15  # sd of log(horizontal stretch)
    size_px: tuple[float, float] = (60.0, 320.0)  # drawing height on the canvas, log-uniform
    spacing: tuple[float, float] = (0.012, 0.13)  # mouse event spacing, log-uniform (0.13: a fast flick)
    tremor: float = 0.006  # sd of tremor, at most
    pen: tuple[float, float] = (0.04, 0.3)  # pen width (the app: 18 px for digits 60-320 px tall)


PERSON = Hand()  # digits, letters, symbols drawn from scratch
CAREFUL = Hand(ends=(-0.025, 0.03), misplace=0.012)  # shapes whose strokes must keep their places
TRACER = Hand(
    ends=(0.0, 0.0),
    misplace=0.0,
    bend=0.02,
    wiggle=0.005,
    lean=(0.0, 0.06),
    rotate=3.0,
    aspect=0.06,
    size_px=(120.0, 280.0),
    spacing=(0.02, 0.08),
    tremor=0.002,
    pen=(0.04, 0.12),
)
"""Re-drawing traced MNIST skeletons: their junctions must stay joined and their shape is the writer's."""


def _draws(strokes: int, rng, hand: Hand) -> dict:
    """All of one drawing's random choices, from its own generator, in a fixed order."""
    log_size, log_spacing = np.log(hand.size_px), np.log(hand.spacing)
    direction = rng.normal(size=(5, 2))
    return {
        "ends": rng.uniform(*hand.ends, (strokes, 2)),
        "misplace": rng.normal(0.0, hand.misplace, (strokes, 2)) if strokes > 1 else np.zeros((1, 2)),
        "wave": rng.normal(0.0, 2.0 * np.pi, (5, 2)) * [[0.8], [0.8], [0.8], [2.5], [2.5]],
        "wave_phase": rng.uniform(0.0, 2.0 * np.pi, 5),
        "wave_amp": rng.uniform(0.0, 1.0, 5) * np.array([hand.bend] * 3 + [hand.wiggle] * 2),
        "wave_dir": direction / np.maximum(np.hypot(direction[:, 0], direction[:, 1]), 1e-9)[:, None],
        "lean": float(np.clip(rng.normal(*hand.lean), -0.25, 0.5)),
        "rotate": np.radians(rng.normal(0.0, hand.rotate)),
        "aspect": float(np.exp(rng.normal(0.0, hand.aspect))),
        "size": float(np.exp(rng.uniform(*log_size))),
        "canvas": rng.uniform(280.0, 600.0),
        "place": rng.uniform(0.0, 1.0, 2),
        "spacing": float(np.exp(rng.uniform(*log_spacing))),
        "tremor": rng.uniform(0.0, hand.tremor),
        "pen": rng.uniform(*hand.pen),
        "surge": np.stack([rng.uniform(0.5, 2.0, strokes), rng.uniform(0.0, 2.0 * np.pi, strokes)], axis=1),
        "tick": rng.uniform(0.0, 1.0, strokes),
    }


def _per_drawing(values, did):
    return np.asarray(values)[did]


def hand_many(glyphs: list[list[np.ndarray]], rngs: list, hand: Hand = PERSON):
    """Draw many unit-frame glyphs as people with a mouse or tablet would; drawing i uses only
    rngs[i]. Returns a list of (canvas strokes, pen width): strokes are (N, 2) float64 arrays of
    whole-pixel coordinates (x right, y down), ready for `strokes_to_mnist(strokes, pen)`."""
    if not glyphs:
        return []
    glyphs = [[np.asarray(p, np.float64).reshape(-1, 2) for p in g] for g in glyphs]
    per = [_draws(len(g), rng, hand) for g, rng in zip(glyphs, rngs, strict=True)]
    strokes = [p for g in glyphs for p in g]
    n_strokes = np.array([len(g) for g in glyphs])
    sdid = np.repeat(np.arange(len(glyphs)), n_strokes)  # drawing of each stroke
    pts, sizes = follow(
        np.vstack(strokes), np.array([len(p) for p in strokes]), 0.02, np.vstack([d["ends"] for d in per])
    )
    _, _, sid = _groups(sizes)
    did = sdid[sid]  # drawing of each point
    pts = pts + np.vstack([d["misplace"] for d in per])[sid]

    # Each drawing around its own centre, in units of its height.
    pcount = np.bincount(did, minlength=len(glyphs))
    pfirst = np.cumsum(pcount) - pcount
    lo, hi = np.minimum.reduceat(pts, pfirst), np.maximum.reduceat(pts, pfirst)
    origin = (lo + hi) / 2.0
    height = np.maximum(np.maximum(hi[:, 1] - lo[:, 1], 0.3 * (hi[:, 0] - lo[:, 0])), 1e-6)
    q = (pts - origin[did]) / height[did, None]
    # A smooth field bends the shape (strokes that touch keep touching)...
    wave = np.stack([d["wave"] for d in per])[did]  # (N, 5, 2)
    phase = np.stack([d["wave_phase"] for d in per])[did]
    amp = np.stack([d["wave_amp"] for d in per])[did]
    wdir = np.stack([d["wave_dir"] for d in per])[did]
    swing = np.sin(np.einsum("nk,nwk->nw", q, wave) + phase) * amp
    q = q + np.einsum("nw,nwk->nk", swing, wdir)
    # ...then slant, stretch and turn it.
    lean = _per_drawing([d["lean"] for d in per], did)
    aspect = _per_drawing([d["aspect"] for d in per], did)
    angle = _per_drawing([d["rotate"] for d in per], did)
    x = (q[:, 0] - lean * q[:, 1]) * aspect
    c, s = np.cos(angle), np.sin(angle)
    q = np.stack([c * x - s * q[:, 1], s * x + c * q[:, 1]], axis=1)

    # On the canvas: some height in px, somewhere on a sheet a few hundred px wide.
    size = np.array([d["size"] for d in per])
    px = q * size[did, None]
    lo, hi = np.minimum.reduceat(px, pfirst), np.maximum.reduceat(px, pfirst)
    canvas = np.maximum([d["canvas"] for d in per], 1.3 * size)
    margin = 10.0  # px kept clear at the sheet's edges (tremor must not leave it)
    room = np.maximum(canvas[:, None] - (hi - lo) - 2 * margin, 0.0)
    px += (np.stack([d["place"] for d in per]) * room - lo + margin)[did]

    spacing = size * np.array([d["spacing"] for d in per])
    ev, counts = mouse_events(
        px,
        sizes,
        spacing[sdid],
        np.vstack([d["surge"] for d in per]),
        np.concatenate([d["tick"] for d in per]),
    )
    ecount = np.bincount(np.repeat(sdid, counts), minlength=len(glyphs))
    noise = [
        rng.normal(0.0, d["tremor"] * sz, (k, 2))
        for rng, d, sz, k in zip(rngs, per, size, ecount, strict=True)
    ]
    ev = np.round(ev + np.vstack(noise))
    _, _, eid = _groups(counts)
    keep = np.ones(len(ev), bool)
    keep[1:] = (eid[1:] != eid[:-1]) | np.any(ev[1:] != ev[:-1], axis=1)  # the canvas drops repeats
    kept = np.bincount(eid[keep], minlength=len(counts))
    out = np.split(ev[keep], np.cumsum(kept)[:-1])
    pens = np.clip(size * np.array([d["pen"] for d in per]), 2.0, 60.0)
    bounds = np.cumsum(n_strokes)
    return [(out[b - k : b], float(pen)) for b, k, pen in zip(bounds, n_strokes, pens, strict=True)]


def hand(strokes: list[np.ndarray], rng, how: Hand = PERSON) -> tuple[list[np.ndarray], float]:
    """One drawing of unit-frame `strokes` as a person would make it: (canvas strokes, pen width)."""
    return hand_many([strokes], [rng], how)[0]
