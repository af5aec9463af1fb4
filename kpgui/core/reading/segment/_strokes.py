"""Drawn strokes -> digits: group strokes by where their ink lies, offer cuts for ink that may be
several touching digits."""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from kpgui.core.reading.preprocess import clean_strokes, strokes_to_mnist
from kpgui.core.reading.segment._layout import (
    KEEP_WHOLE,
    MAX_PIECES,
    Cut,
    Piece,
    box_of,
    choose_cut,
    digits_in,
    group_boxes,
    keep_largest,
    surely_several,
    tall_enough,
)

_CACHE_SIZE = 64  # digits remembered: while one digit is drawn, the others are not redone
_cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()
_MAX_STROKES = 1000  # more strokes than this are read as one drawing, as before
_CELLS = 40.0  # cut and contact resolution: cells per digit height


def _pen(pen_width: float) -> float:
    try:
        pen = float(pen_width)
    except (TypeError, ValueError):
        return 1.0
    return min(pen, 1e9) if np.isfinite(pen) and pen > 0 else 1.0


def _resample(pts: np.ndarray, step: float) -> np.ndarray:
    """Points every `step` along a polyline (a lone point stays one point)."""
    if len(pts) < 2:
        return pts
    seg = np.hypot(*np.diff(pts, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    q = np.linspace(0.0, s[-1], max(2, min(100_000, int(np.ceil(s[-1] / step)) + 1)))
    return np.stack([np.interp(q, s, pts[:, 0]), np.interp(q, s, pts[:, 1])], axis=1)


def _remembered(key: tuple, make):
    """make(), remembered under `key` (a few dozen results): while a number is written, every pen
    move re-reads it and only the digit under the pen has changed."""
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = make()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def _render(polys: Sequence[np.ndarray], pen: float) -> np.ndarray:
    image = strokes_to_mnist(list(polys), pen)
    image.setflags(write=False)  # shared by every reading of the same ink
    return image


def _ink_box(polys: Sequence[np.ndarray], pen: float) -> tuple[float, float, float, float]:
    pts = np.concatenate(polys)
    lo, hi = pts.min(axis=0) - pen / 2, pts.max(axis=0) + pen / 2
    return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


def _touch(a: np.ndarray, b: np.ndarray, pen: float) -> bool:
    """Do the inks of two groups (their sampled centre lines) touch?"""
    lo = np.maximum(a.min(axis=0), b.min(axis=0)) - pen
    hi = np.minimum(a.max(axis=0), b.max(axis=0)) + pen
    if (lo > hi).any():
        return False
    a = a[((a >= lo) & (a <= hi)).all(axis=1)]
    b = b[((b >= lo) & (b <= hi)).all(axis=1)]
    if not len(a) or not len(b):
        return False
    d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
    return bool(d2.min() <= pen * pen)


def _cut_polyline(pts: np.ndarray, cut: Cut) -> list[tuple[int, np.ndarray]]:
    """The polyline cut at the cut lines: (part, sub-polyline) pieces sharing the crossing points."""
    part = cut.part(pts[:, 0], pts[:, 1])
    change = np.flatnonzero(np.diff(part))
    if not len(change):
        return [(int(part[0]), pts)]
    f = pts[:, 0] - cut.shear * (pts[:, 1] - cut.y_mid)
    out: list[tuple[int, np.ndarray]] = []
    body: list[np.ndarray] = []
    start = 0
    for i in change.tolist():
        body = [*body, pts[start : i + 1]]
        a, b = int(part[i]), int(part[i + 1])
        step = 1 if b > a else -1
        for k in range(a, b, step):  # every line between the two points is crossed
            at = cut.at[k if step > 0 else k - 1]
            point = pts[i] + (at - f[i]) / (f[i + 1] - f[i]) * (pts[i + 1] - pts[i])
            out.append((k, np.vstack([*body, point[None]])))
            body = [point[None]]
        start = i + 1
    out.append((int(part[-1]), np.vstack([*body, pts[start:]])))
    return out


def _cut_group(
    polys: list[np.ndarray], samples: list[np.ndarray], parts: int, height: float, pen: float, cell: float
) -> list[Piece]:
    """The group cut into digits where its ink is thinnest, strokes lying nearly all on one side
    kept whole; [] when no cut leaves digit-tall parts. Stroke ids are positions in `polys`."""
    pts = np.concatenate(samples)
    cut, clean = choose_cut(
        pts[:, 0], pts[:, 1], np.full(len(pts), 0.5), parts, cell, pen / cell, height, True
    )
    if cut is None:
        return []
    k = len(cut.at) + 1
    subs: list[list[np.ndarray]] = [[] for _ in range(k)]
    owners: list[set[int]] = [set() for _ in range(k)]
    for i, (poly, sample) in enumerate(zip(polys, samples, strict=True)):
        share = np.bincount(cut.part(sample[:, 0], sample[:, 1]), minlength=k) / len(sample)
        cuts = [(int(share.argmax()), poly)] if share.max() >= KEEP_WHOLE else _cut_polyline(poly, cut)
        for part, sub in cuts:
            subs[part].append(sub)
            owners[part].add(i)
    return [
        Piece(_render(s, pen), _ink_box(s, pen), tuple(sorted(o)), True, tuple(s), not clean)
        for s, o in zip(subs, owners, strict=True)
        if s
    ]


def _cluster(
    polys: list[np.ndarray], groups: list[list[int]], touching: bool, height: float, pen: float, cap: int
) -> Piece:
    """One piece for neighbouring groups of strokes (indices into `polys`; stroke ids in the
    result are positions in the concatenation of the groups), with its parts when it may be
    several digits: the groups themselves when they touch, else a cut when it is wide."""
    members = [i for g in groups for i in g]
    subs = [polys[i] for i in members]
    box = np.array(_ink_box(subs, pen))
    parts: list[Piece] = []
    if len(groups) > 1:
        at = 0
        if touching and len(groups) <= cap:
            for g in groups:
                mine = subs[at : at + len(g)]
                parts.append(
                    Piece(
                        _render(mine, pen),
                        _ink_box(mine, pen),
                        tuple(range(at, at + len(g))),
                        True,
                        tuple(mine),
                    )
                )
                at += len(g)
    elif cap > 1 and digits_in(box, height) > 1:
        cell = max(height, pen) / _CELLS
        parts = _cut_group(
            subs, [_resample(p, cell / 2) for p in subs], min(digits_in(box, height), cap), height, pen, cell
        )
    return Piece(
        _render(subs, pen),
        box_of(box),
        tuple(range(len(members))),
        False,
        tuple(subs),
        surely_several(box),
        tuple(parts),
    )


def _with_ids(piece: Piece, ids: list[int]) -> Piece:
    return dataclasses.replace(
        piece,
        stroke_ids=tuple(sorted(ids[i] for i in piece.stroke_ids)),
        parts=tuple(_with_ids(q, ids) for q in piece.parts),
    )


def split(strokes: Sequence, pen_width: float) -> list[Piece]:
    polys, ids = clean_strokes(strokes)
    if not polys:
        return []
    pen = _pen(pen_width)
    if len(polys) > _MAX_STROKES:
        return [
            Piece(strokes_to_mnist(strokes, pen_width), _ink_box(polys, pen), tuple(ids), False, tuple(polys))
        ]
    lo = np.array([p.min(axis=0) for p in polys]) - pen / 2
    hi = np.array([p.max(axis=0) for p in polys]) + pen / 2
    if len(polys) == 1:  # one stroke, not too wide for a digit (the usual pen move): no grouping
        box = np.concatenate([lo[0], hi[0]])
        if digits_in(box, float(box[3] - box[1])) == 1:
            return [
                Piece(
                    _remembered(("one stroke", pen, polys[0].tobytes()), lambda: _render(polys, pen)),
                    box_of(box),
                    tuple(ids),
                    False,
                    tuple(polys),
                )
            ]
    length = np.array([np.hypot(*np.diff(p, axis=0).T).sum() + pen for p in polys])
    groups, height, stray = group_boxes(np.concatenate([lo, hi], axis=1), length)
    # A stray mark away from every digit (a dot, a dash, the first touch of a digit being begun)
    # is no digit: it is left out.
    groups = keep_largest([g for g, s in zip(groups, stray, strict=True) if not s], length)
    boxes = [np.array([*lo[g].min(axis=0), *hi[g].max(axis=0)]) for g in groups]
    cell = max(height, pen) / _CELLS
    sampled: dict[int, np.ndarray] = {}

    def samples(g: list[int]) -> np.ndarray:
        for i in g:
            if i not in sampled:
                sampled[i] = _resample(polys[i], cell / 2)
        return np.concatenate([sampled[i] for i in g])

    # Neighbours whose ink touches may be one digit (a 6 whose loop is a stroke of its own) or
    # two touching digits: one piece, offered as the two when both are tall enough to be digits.
    clusters = [[0]]
    for g in range(1, len(groups)):
        a, b = boxes[g - 1], boxes[g]
        near = a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]
        if near and _touch(samples(groups[g - 1]), samples(groups[g]), pen):
            clusters[-1].append(g)
        else:
            clusters.append([g])
    spare = MAX_PIECES - len(clusters)
    pieces = []
    for cluster in clusters:
        members = [i for g in cluster for i in groups[g]]
        box = np.concatenate([lo[members].min(axis=0), hi[members].max(axis=0)])
        touching = len(cluster) > 1 and all(tall_enough(boxes[g], height) for g in cluster)
        several = touching or digits_in(box, height) > 1
        cap = 1 + spare
        key = (
            pen,
            height if several else None,
            cap if several else None,
            touching,
            tuple(tuple(polys[i].tobytes() for i in groups[g]) for g in cluster),
        )
        piece = _remembered(
            key,
            lambda c=cluster, t=touching, k=cap: _cluster(polys, [groups[g] for g in c], t, height, pen, k),
        )
        spare -= max(0, len(piece.parts) - 1)
        pieces.append(_with_ids(piece, [ids[i] for i in members]))
    return pieces
