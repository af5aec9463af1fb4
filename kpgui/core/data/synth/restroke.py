"""MNIST digits drawn again with a pen: thin, trace, edit, redraw.

MNIST strokes were made with real pens and scanned: their width varies along a stroke and from
one writer to the next. The canvas draws with a uniform round pen. `restroke` bridges the two:
each digit is thinned to a one-pixel skeleton (Zhang & Suen 1984, as 256-entry lookup tables run
on the whole batch at once), the skeleton is traced into polylines, smoothed, optionally given a
stroke MNIST rarely has (a flag and foot on a 1, a crossbar on a 7, a slash through a 0), bent a
little, sampled like a mouse and rendered by the canvas' own `strokes_to_mnist`.
"""

from __future__ import annotations

import numpy as np

from kpgui.core.data.synth.pen import TRACER, hand_many
from kpgui.core.reading.preprocess import strokes_to_mnist

INK = 128  # grey level (of 255) above which an MNIST pixel is ink for thinning
CORE = 200  # small loops seen at this level are kept open (their grey inside is not ink)
PAD = 1
_W = 28 + 2 * PAD
# Neighbours P2..P9 of Zhang-Suen: N, NE, E, SE, S, SW, W, NW as (dy, dx).
_NB = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))
_OFF = [dy * _W + dx for dy, dx in _NB]

# Edits, as codes in `restroke_with_info`'s third result.
NO_EDIT, FLAG, FLAG_FOOT, CROSSBAR, SLASH = 0, 1, 2, 3, 4


def _holes(mask: np.ndarray) -> np.ndarray:
    """Background pixels of a bool batch that cannot reach the border (the insides of loops)."""
    bg = np.pad(~mask, ((0, 0), (1, 1), (1, 1)), constant_values=True)
    out = np.zeros_like(bg)
    out[:, 0, :] = out[:, -1, :] = out[:, :, 0] = out[:, :, -1] = True
    for _ in range(200):
        grown = out.copy()
        grown[:, 1:, :] |= out[:, :-1, :]
        grown[:, :-1, :] |= out[:, 1:, :]
        grown[:, :, 1:] |= out[:, :, :-1]
        grown[:, :, :-1] |= out[:, :, 1:]
        grown &= bg
        if np.array_equal(grown, out):
            break
        out = grown
    return (bg & ~out)[:, 1:-1, 1:-1]


def ink_mask(images: np.ndarray) -> np.ndarray:
    """Which pixels of uint8 MNIST images are ink: >= INK, except inside loops that are open at
    CORE (a small loop's hole is often grey in MNIST; thinning it shut would turn an 8 into a 9)."""
    return (images >= INK) & ~_holes(images >= CORE)


def _zs_tables() -> tuple[np.ndarray, np.ndarray]:
    codes = np.arange(256)
    bits = (codes[:, None] >> np.arange(8)) & 1  # P2..P9
    b = bits.sum(axis=1)
    a = ((bits == 0) & (np.roll(bits, -1, axis=1) == 1)).sum(axis=1)
    p2, p4, p6, p8 = bits[:, 0], bits[:, 2], bits[:, 4], bits[:, 6]
    common = (b >= 2) & (b <= 6) & (a == 1)
    first = common & (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
    second = common & (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
    return first, second


_ZS_FIRST, _ZS_SECOND = _zs_tables()


def _neighbour_code(img: np.ndarray) -> np.ndarray:
    """8-bit code of each pixel's neighbours (bit k = neighbour _NB[k]) for a padded batch."""
    h, w = img.shape[1:]
    code = np.zeros(img.shape, np.uint8)
    inner = code[:, 1:-1, 1:-1]
    for k, (dy, dx) in enumerate(_NB):
        inner |= img[:, 1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx].view(np.uint8) << k
    return code


def thin(binary: np.ndarray) -> np.ndarray:
    """Zhang-Suen skeletons of a bool batch (B, H, W), all images at once."""
    img = np.pad(np.asarray(binary, bool), ((0, 0), (1, 1), (1, 1)))
    for _ in range(40):
        changed = False
        for table in (_ZS_FIRST, _ZS_SECOND):
            delete = img & table[_neighbour_code(img)]
            if delete.any():
                img &= ~delete
                changed = True
        if not changed:
            break
    return img[:, 1:-1, 1:-1]


def _adjacency(skel: np.ndarray) -> np.ndarray:
    """Per pixel, a bit mask of the skeleton neighbours it is joined to (bit k = _NB[k]).

    A diagonal step is dropped when the two pixels also touch through a common 4-neighbour, so a
    staircase is a chain, not a chain of triangles.
    """
    s = np.pad(skel, ((0, 0), (1, 1), (1, 1)))
    h, w = s.shape[1:]

    def at(dy, dx):
        return s[:, 1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx]

    mask = np.zeros(skel.shape, np.uint8)
    for k, (dy, dx) in enumerate(_NB):
        edge = at(dy, dx).copy()
        if dy and dx:
            edge &= ~(at(dy, 0) | at(0, dx))
        mask |= (edge & skel).astype(np.uint8) << k
    return mask


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.int64)
_BITS = [[k for k in range(8) if (m >> k) & 1] for m in range(256)]


def _trace(adj: np.ndarray) -> list[list[int]]:
    """Polylines (lists of flat pixel indices in the padded _W-wide grid) covering every edge."""
    flat = np.pad(adj, PAD).ravel()
    pix = np.flatnonzero(flat)
    masks = flat[pix].tolist()
    nbrs = {p: [p + _OFF[k] for k in _BITS[m]] for p, m in zip(pix.tolist(), masks, strict=True)}
    done: set[tuple[int, int]] = set()
    lines: list[list[int]] = []

    def walk(start: int, nxt: int) -> list[int]:
        path = [start, nxt]
        done.add((min(start, nxt), max(start, nxt)))
        prev, cur = start, nxt
        while len(nbrs[cur]) == 2:
            a, b = nbrs[cur]
            step = b if a == prev else a
            key = (min(cur, step), max(cur, step))
            if key in done:
                break
            done.add(key)
            path.append(step)
            prev, cur = cur, step
        return path

    for p, ns in nbrs.items():
        if len(ns) != 2:
            for q in ns:
                if (min(p, q), max(p, q)) not in done:
                    lines.append(walk(p, q))
            if not ns:
                lines.append([p])
    for p, ns in nbrs.items():  # what is left are closed loops without junctions
        for q in ns:
            if (min(p, q), max(p, q)) not in done:
                lines.append(walk(p, q))
    return lines


def _prune(lines: list[list[int]], degree: dict[int, int], spur: int = 3) -> list[list[int]]:
    """Drop short spurs (an end on a junction, a free end, few pixels) and lone specks."""
    out = []
    for ln in lines:
        free = [degree[ln[0]] == 1, degree[ln[-1]] == 1]
        junction = [degree[ln[0]] >= 3, degree[ln[-1]] >= 3]
        if len(ln) <= spur and ((free[0] and junction[1]) or (free[1] and junction[0])):
            continue
        if len(ln) < 3 and (all(free) or len(ln) == 1):
            continue
        out.append(ln)
    return out


def _smooth(xy: np.ndarray, closed: bool) -> np.ndarray:
    """Two passes of a [1, 2, 1] filter: pixel staircases become the curves the pen made."""
    if len(xy) < 3:
        return xy
    for _ in range(2):
        if closed:
            xy = np.vstack([xy[:-1], xy[:1]])
            ring = xy[:-1]
            ring = 0.25 * np.roll(ring, 1, 0) + 0.5 * ring + 0.25 * np.roll(ring, -1, 0)
            xy = np.vstack([ring, ring[:1]])
        else:
            xy = np.vstack([xy[:1], 0.25 * xy[:-2] + 0.5 * xy[1:-1] + 0.25 * xy[2:], xy[-1:]])
    return xy


def _extend_ends(xy: np.ndarray, ink: list, free: tuple[bool, bool]) -> np.ndarray:
    """Thinning eats about half a stroke's width at each free end; walk the end on towards the
    ink's edge, stopping a pixel short (the pen's own width covers that). `ink` is a nested list."""
    if len(xy) < 3:
        return xy
    parts = [xy]
    for first in (True, False):
        if not free[0 if first else 1]:
            continue
        tip = xy[0] if first else xy[-1]
        back = xy[min(3, len(xy) - 1)] if first else xy[max(-4, -len(xy))]
        dx, dy = float(tip[0] - back[0]), float(tip[1] - back[1])
        norm = (dx * dx + dy * dy) ** 0.5
        if norm < 1e-9:
            continue
        dx, dy = dx / norm, dy / norm
        reach = 0.0
        while reach < 5.0:  # half-pixel steps while still on ink
            ix, iy = round(tip[0] + dx * (reach + 0.5)), round(tip[1] + dy * (reach + 0.5))
            if not (0 <= ix < 28 and 0 <= iy < 28 and ink[iy][ix]):
                break
            reach += 0.5
        if reach >= 1.5:
            point = np.array([[tip[0] + dx * (reach - 1.0), tip[1] + dy * (reach - 1.0)]])
            parts.insert(0, point) if first else parts.append(point)
    return np.vstack(parts)


def _polylines(lines: list[list[int]], degree: np.ndarray, ink: list) -> list[np.ndarray]:
    out = []
    for ln in lines:
        p = np.asarray(ln)
        xy = np.stack([p % _W - PAD, p // _W - PAD], axis=1).astype(np.float64)
        # A ring with no junction is smoothed all round; one hanging on a junction keeps that point.
        xy = _smooth(xy, closed=len(ln) > 3 and ln[0] == ln[-1] and degree[ln[0]] == 2)
        out.append(_extend_ends(xy, ink, (degree[ln[0]] == 1, degree[ln[-1]] == 1)))
    return out


def _straight_one(polys: list[np.ndarray]):
    """(top, bottom, down unit vector, length) of a 1 that is a single near-straight line, else None."""
    if len(polys) != 1 or len(polys[0]) < 5:
        return None
    p = polys[0]
    a, b = (p[0], p[-1]) if p[0, 1] <= p[-1, 1] else (p[-1], p[0])
    chord = b - a
    length = float(np.hypot(*chord))
    if length < 8 or abs(chord[1]) < 0.7 * length:
        return None
    normal = np.array([-chord[1], chord[0]]) / length
    if np.abs((p - a) @ normal).max() > 0.12 * length:
        return None
    return a, b, chord / length, length


def _edit(label: int, polys: list[np.ndarray], rng, prob: float) -> tuple[list[np.ndarray], int]:
    """Maybe add a stroke MNIST rarely has; returns (polylines, edit code)."""
    if rng.random() >= prob or label not in (0, 1, 7):
        return polys, NO_EDIT
    pts = np.vstack(polys)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    if label == 1:
        found = _straight_one(polys)
        if found is None:
            return polys, NO_EDIT
        top, bottom, down, length = found
        left = np.array([down[1], -down[0]])  # the stem's left-hand side, as a reader sees it
        if left[0] > 0:
            left = -left
        angle = np.radians(rng.uniform(20.0, 60.0))
        tip = top + length * rng.uniform(0.18, 0.38) * (np.cos(angle) * left + np.sin(angle) * down)
        out = [*polys, np.vstack([tip, top])]
        if rng.random() < 0.4:
            g, h = length * rng.uniform(0.14, 0.3, 2)
            foot_y = bottom[1] + rng.normal(0, 0.3)
            out.append(np.array([[bottom[0] - g, bottom[1]], [bottom[0] + h, foot_y]]))
            return out, FLAG_FOOT
        return out, FLAG
    height, width = hi[1] - lo[1], hi[0] - lo[0]
    if len(polys) > 2:  # junctions: it may be crossed or slashed already
        return polys, NO_EDIT
    if label == 7:
        y = lo[1] + height * rng.uniform(0.45, 0.6)
        near = pts[np.abs(pts[:, 1] - y) < 1.0]
        if height < 10 or len(near) == 0 or np.ptp(near[:, 0]) > 3.0:
            return polys, NO_EDIT
        cx = float(near[:, 0].mean())
        g, h = max(width, 0.5 * height) * rng.uniform(0.18, 0.35, 2)
        tilt = rng.normal(0.0, 0.6)
        return [*polys, np.array([[cx - g, y + tilt], [cx + h, y - tilt]])], CROSSBAR
    if height < 10 or width < 5:
        return polys, NO_EDIT
    c = (lo + hi) / 2
    r = (hi - lo) / 2
    a, b = rng.uniform(0.45, 1.3, 2)
    slash = np.array([[c[0] + r[0] * a, c[1] - r[1] * a], [c[0] - r[0] * b, c[1] + r[1] * b]])
    return [*polys, slash + rng.normal(0, 0.4, (2, 2))], SLASH


def restroke_with_info(
    images: np.ndarray, labels: np.ndarray, seed: int, *, edit_prob: float = 0.4, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`restroke`, also returning which digits were traced (bool (N,)) and the edit made (int8 (N,):
    NO_EDIT, FLAG, FLAG_FOOT, CROSSBAR or SLASH)."""
    images = np.asarray(images)
    labels = np.asarray(labels).astype(np.int64).ravel()
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(labels) != len(images):
        raise ValueError(f"expected (N, 28, 28) images and N labels, got {images.shape} and {labels.shape}")
    n = len(images)
    out = np.array(images, np.uint8, copy=True)
    traced = np.zeros(n, bool)
    edits = np.zeros(n, np.int8)
    for start in range(0, n, chunk):
        block = images[start : start + chunk]
        ink = ink_mask(block)
        skel = thin(ink)
        adj = _adjacency(skel)
        degree_all = _POPCOUNT[adj]
        kept = np.zeros_like(skel)
        results: list[tuple[list[list[int]], np.ndarray, np.random.Generator] | None] = []
        for j in range(len(block)):
            i = start + j
            rng = np.random.default_rng([seed, i])
            lines = _trace(adj[j])
            deg = np.pad(degree_all[j], PAD).ravel()
            lines = _prune(lines, {p: int(deg[p]) for ln in lines for p in (ln[0], ln[-1])})
            if not lines or len(lines) > 14:
                results.append(None)
                continue
            idx = np.concatenate([np.asarray(ln) for ln in lines])
            kept[j, idx // _W - PAD, idx % _W - PAD] = True
            results.append((lines, deg, rng))
        # Sensible traces cover the ink: nearly every ink pixel within 3 px of the kept skeleton.
        near = _dilate(kept, 3)
        covered = (near & ink).sum(axis=(1, 2)) >= 0.95 * np.maximum(ink.sum(axis=(1, 2)), 1)
        todo, glyphs, rngs = [], [], []
        for j, res in enumerate(results):
            if res is None or not covered[j] or ink[j].sum() < 10:
                continue
            lines, deg, rng = res
            polys = _polylines(lines, deg, ink[j].tolist())
            polys, code = _edit(int(labels[start + j]), polys, rng, edit_prob)
            height = max(float(np.ptp(np.vstack(polys), axis=0).max()), 1.0)
            todo.append(start + j)
            glyphs.append([p / height for p in polys])  # the hand works in units of the height
            rngs.append(rng)
            edits[start + j] = code
        for i, (strokes, pen) in zip(todo, hand_many(glyphs, rngs, TRACER), strict=True):
            out[i] = np.round(strokes_to_mnist(strokes, pen) * 255.0)
            traced[i] = True
    return out, traced, edits


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    """Max over a (2r+1)^2 square, per image of a bool batch (separable)."""
    p = np.pad(mask, ((0, 0), (r, r), (r, r)))
    h, w = mask.shape[1:]
    rows = np.zeros((len(mask), h, w + 2 * r), bool)
    for dy in range(2 * r + 1):
        rows |= p[:, dy : dy + h, :]
    out = np.zeros(mask.shape, bool)
    for dx in range(2 * r + 1):
        out |= rows[:, :, dx : dx + w]
    return out


def restroke(images: np.ndarray, labels: np.ndarray, seed: int, *, edit_prob: float = 0.4) -> np.ndarray:
    """MNIST digits re-drawn as uniform pen strokes: uint8 (N, 28, 28), same order as `images`.

    With probability `edit_prob`, a 1 that is one straight line gets a flag (and, 4 times in 10,
    a foot), a 7 a crossbar, a 0 a slash; the label stays. A digit whose skeleton does not trace
    sensibly (a filled blob, a tangle, specks) is returned unchanged. Deterministic per seed;
    digit i depends only on (seed, i) and its image.
    """
    return restroke_with_info(images, labels, seed, edit_prob=edit_prob)[0]
