"""Where the digits of a number lie: ink boxes grouped into digits, and where to cut ink that is
too wide for one digit. Pure geometry, shared by drawn strokes and pictures.

People write a number left to right, each digit about as tall as the others and narrower than
it is tall. So:

* two pieces of ink whose x-extents mostly overlap belong to one digit (a 4's second stroke, a
  7's crossbar, a 5's hat, the loops of an 8, the parts of a broken digit), whatever order they
  were drawn in;
* a mark (ink much less tall than a digit) joins the digit it lies over or beside (the dot-like
  start of a 1's flag, a hat, a foot, a fragment of a broken stroke);
* anything else side by side is a digit of its own, even with a small gap;
* a group much wider than a digit is tall holds several touching digits: it is cut where the ink
  is thinnest (the minimum of its ink per column, trying a few slants of the cut line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

OVERLAP = 0.5  # x-extents overlapping by more than this share of the narrower group: one digit
MARK = 0.4  # a group less tall than this share of the digit height is a mark (a dot, a hat) ...
MARK_INK = 0.25  # ... and so is a group with less ink than this share of the median group's
NEAR = 0.2  # ... and joins the digit it lies over, or the nearest, within this share of the height
WIDE = 1.0  # a group wider than this times the digit height may hold several digits ...
VERY_WIDE = 1.8  # ... and one wider than this surely does
DIGIT_WIDTH = 0.9  # a typical digit's width over its height, to count digits in a wide group
MAX_PIECES = 20  # digits of a number, at most (and strokes or components grouped into them)
SHEARS = (0.0, -0.2, 0.2, -0.4, 0.4)  # slants of the cut line tried, dx per dy (0 is vertical)
REACH = 0.45  # a cut is looked for this share of a digit's width either side of an even split
SLANT_COST = 1.0  # a slanted cut must save this many stroke widths of ink per unit of slant
CLEAN = 2.5  # a cut through at most this many stroke widths of ink is clean
PART_TALL = 0.7  # neighbours whose ink touches are offered apart only if each is this tall
TALL = 0.45  # every part of a cut must be at least this share of the digit height tall
KEEP_WHOLE = 0.85  # a stroke or component with this share of its ink on one side is not cut


@dataclass(frozen=True)
class Piece:
    """One digit of a number (or a group of ink that may be several touching digits: then
    `parts` holds it cut into digits, and read_number keeps whichever reads better)."""

    image: np.ndarray  # (28, 28) float32 in [0, 1], normalised like MNIST
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 of its ink, canvas/picture coords
    stroke_ids: tuple[int, ...]  # which input strokes it holds (() for pictures)
    split: bool  # made by cutting (or parting) ink that touched a neighbour
    strokes: tuple = ()  # its (possibly cut) strokes, canvas pixels (strokes input only)
    doubtful: bool = False  # a cut through thick ink, or ink too wide for one digit left whole
    parts: tuple[Piece, ...] = ()  # the same ink as several digits, when it may be


def _union_find(n: int, pairs: np.ndarray) -> np.ndarray:
    """Component id (0..k-1, in order of first member) of each of n items linked by `pairs`."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs.tolist():
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    roots = [find(i) for i in range(n)]
    return np.unique(roots, return_inverse=True)[1].reshape(-1)


@dataclass
class _Groups:
    """Groups of ink pieces: which group each piece is in, and each group's box and ink."""

    of: np.ndarray  # (pieces,) group id
    box: np.ndarray  # (groups, 4)
    ink: np.ndarray  # (groups,)

    def merged(self, pairs: np.ndarray) -> _Groups:
        new = _union_find(len(self.box), pairs)
        k = int(new.max()) + 1
        box = np.empty((k, 4))
        box[:, :2], box[:, 2:] = np.inf, -np.inf
        np.minimum.at(box[:, 0], new, self.box[:, 0])
        np.minimum.at(box[:, 1], new, self.box[:, 1])
        np.maximum.at(box[:, 2], new, self.box[:, 2])
        np.maximum.at(box[:, 3], new, self.box[:, 3])
        return _Groups(new[self.of], box, np.bincount(new, weights=self.ink, minlength=k))


def _median(a: np.ndarray) -> float:
    a = np.sort(a)
    n = len(a)
    return float(a[n // 2] if n % 2 else (a[n // 2 - 1] + a[n // 2]) / 2) if n else 0.0


def _merge_overlapping(g: _Groups) -> _Groups:
    while len(g.box) > 1:
        x0, x1 = g.box[:, 0], g.box[:, 2]
        width = np.maximum(x1 - x0, 1e-9)
        overlap = np.minimum(x1[:, None], x1[None]) - np.maximum(x0[:, None], x0[None])
        need = OVERLAP * np.minimum(width[:, None], width[None])
        pairs = np.argwhere(np.triu(overlap > need, 1))
        if not len(pairs):
            break
        g = g.merged(pairs)
    return g


def digit_height(gb: np.ndarray) -> float:
    """The height of a digit of this number: the median height of the tall groups."""
    h = gb[:, 3] - gb[:, 1]
    return _median(h[h >= 0.5 * h.max()]) if len(h) else 0.0


def _marks(g: _Groups, height: float) -> np.ndarray:
    """Groups that are marks rather than digits: much less tall than a digit, or with much less
    ink than the others."""
    low = g.box[:, 3] - g.box[:, 1] < MARK * height
    typical = _median(g.ink[~low]) if (~low).any() else _median(g.ink)
    return low | (g.ink < MARK_INK * typical)


def _attach_marks(g: _Groups) -> _Groups:
    gb = g.box
    height = digit_height(gb)
    mark = _marks(g, height)
    if not mark.any() or mark.all():
        return g
    pairs = []
    for i in np.flatnonzero(mark).tolist():
        dx = np.maximum(0.0, np.maximum(gb[:, 0] - gb[i, 2], gb[i, 0] - gb[:, 2]))
        dy = np.maximum(0.0, np.maximum(gb[:, 1] - gb[i, 3], gb[i, 1] - gb[:, 3]))
        d = np.where(mark, np.inf, np.hypot(dx, dy))
        near = np.flatnonzero(d < NEAR * height)
        if len(near):  # the digit it lies over most, else the nearest
            overlap = np.minimum(gb[near, 2], gb[i, 2]) - np.maximum(gb[near, 0], gb[i, 0])
            j = near[np.argmax(overlap)] if overlap.max() > 0 else near[np.argmin(d[near])]
            pairs.append((i, int(j)))
    return g.merged(np.array(pairs)) if pairs else g


def group_boxes(boxes: np.ndarray, ink: np.ndarray) -> tuple[list[list[int]], float, np.ndarray]:
    """Indices of the boxes (x0, y0, x1, y1 of each piece of ink, `ink` its amount) grouped into
    digits, left to right; the digit height of the number; and which groups are marks that
    joined no digit (a stray dot or dash, not a digit: the callers leave them out)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    ink = np.asarray(ink, np.float64).reshape(-1)
    if not len(boxes):
        return [], 0.0, np.zeros(0, bool)
    g = _merge_overlapping(_Groups(np.arange(len(boxes)), boxes.copy(), ink.copy()))
    while True:  # a mark that joined a digit may bring the next mark within reach
        joined = _merge_overlapping(_attach_marks(g))
        if len(joined.box) == len(g.box):
            break
        g = joined
    height = digit_height(g.box)
    order = np.argsort((g.box[:, 0] + g.box[:, 2]) / 2, kind="stable")
    stray = _marks(g, height) if len(g.box) > 1 else np.zeros(1, bool)
    members = [np.flatnonzero(g.of == k).tolist() for k in order.tolist()]
    return members, height, stray[order]


def box_of(values: Sequence[float] | np.ndarray) -> tuple[float, float, float, float]:
    """A Piece's box (x0, y0, x1, y1 as plain floats) from any four numbers, e.g. an array."""
    x0, y0, x1, y1 = (float(v) for v in values)
    return (x0, y0, x1, y1)


def tall_enough(box: Sequence[float] | np.ndarray, height: float) -> bool:
    """Is ink with this box tall enough to be a digit of its own beside a neighbour it touches?"""
    return float(box[3] - box[1]) >= PART_TALL * height


def keep_largest(groups: list[list[int]], ink: np.ndarray) -> list[list[int]]:
    """At most MAX_PIECES groups: the ones with the most ink, still left to right."""
    if len(groups) <= MAX_PIECES:
        return groups
    mass = [float(ink[g].sum()) for g in groups]
    keep = sorted(np.argsort(mass)[::-1][:MAX_PIECES].tolist())
    return [groups[i] for i in keep]


def _tall(box: np.ndarray, height: float) -> float:
    h = float(box[3] - box[1])
    return min(h, height) if height > 0 else h


def digits_in(box: np.ndarray, height: float) -> int:
    """How many digits a group of ink with this box may hold (1 unless it is too wide for one)."""
    w, tall = float(box[2] - box[0]), _tall(box, height)
    if tall <= 0 or w <= WIDE * tall:
        return 1
    return int(max(2, round(w / (DIGIT_WIDTH * tall))))


def surely_several(box: np.ndarray) -> bool:
    """Far too wide for any one digit: if read as one, it is not sure."""
    return float(box[2] - box[0]) > VERY_WIDE * float(box[3] - box[1])


@dataclass(frozen=True)
class Cut:
    """Cut lines x - shear * (y - y_mid) = at[i]; `crossings` is how many stroke widths of ink
    each one goes through (about 1 for a single ligature, 2+ through a loop or along a stem)."""

    shear: float
    y_mid: float
    at: np.ndarray
    crossings: np.ndarray

    def part(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Which part (0 = leftmost) each point falls in."""
        return np.searchsorted(self.at, x - self.shear * (y - self.y_mid), side="right")


def choose_cut(
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    parts: int,
    cell: float,
    stroke: float,
    height: float,
    centre_lines: bool,
) -> tuple[Cut | None, bool]:
    """The best way to cut a group of ink too wide for one digit into at most `parts` digits:
    every part as tall as a digit (a cut-off dash or tail is no digit), every cut through
    little ink (clean) if possible. Returns the cut (None when no cut leaves digit-tall parts)
    and whether it is clean."""
    if np.ptp(y) < TALL * height:
        # No part of any cut can be digit-tall when the whole group is not: every cut below
        # would be refused. Half the groups searched while a digit is drawn are such (a 7's bar
        # before its stem), and the search is most of a reading's cost there (bench_latency).
        return None, False
    fallback = None
    for k in sorted({parts, max(2, parts - 1), 2}, reverse=True):  # bounded work
        cut = find_cuts(x, y, weight, k, cell, stroke, centre_lines)
        side = cut.part(x, y)
        if not all((side == i).any() and np.ptp(y[side == i]) >= TALL * height for i in range(k)):
            continue
        if cut.crossings.max() <= CLEAN:
            return cut, True
        fallback = fallback or cut
    return fallback, False


def find_cuts(
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    parts: int,
    cell: float,
    stroke: float,
    centre_lines: bool,
) -> Cut:
    """The `parts - 1` cut lines through ink samples (x, y, ink weight per sample, already in
    units of `cell`) where the ink per column is least, each near where an even split would
    put it. `stroke` is the stroke width in cells (a column through one stroke holds that much
    ink); samples on `centre_lines` (drawn strokes) are spread over it, pixels are not.
    ink once smoothed over it)."""
    # Every slant at once (one bincount, one window search for all cuts of all slants): the
    # slants tried one after another in a loop cost 0.31 ms per call, a tenth of a reading while
    # drawing; the results are the same, number for number (tests/test_segment_cuts.py).
    y_mid = float(np.median(y))
    smooth = max(1, int(round(stroke))) if centre_lines else 1
    shears = np.asarray(SHEARS)
    xs = (x[None, :] - shears[:, None] * (y - y_mid)[None, :]) / cell
    lo = np.floor(xs.min(axis=1))
    bins = (xs - lo[:, None]).astype(np.int64)
    n = bins.max(axis=1) + 1  # columns of ink per slant
    width = int(n.max())
    rows = len(shears)
    ink = np.bincount(
        (bins + np.arange(rows)[:, None] * width).ravel(),
        weights=np.tile(np.asarray(weight, np.float64), rows),
        minlength=rows * width,
    ).reshape(rows, width)
    if smooth > 1:  # each slant's own columns smoothed alone ("same" keeps at least `smooth`)
        kernel = np.ones(smooth)
        smoothed = [np.convolve(ink[r, : n[r]], kernel, mode="same") for r in range(rows)]
        n = np.array([len(row) for row in smoothed])
        width = int(n.max())
        ink = np.stack([np.pad(row, (0, width - len(row))) for row in smoothed])
    step = n / parts
    half = np.maximum(1.0, REACH * step)
    i = np.arange(1, parts)
    target = i[None, :] * step[:, None]  # (slants, cuts)
    first = np.maximum(1, np.ceil(target - half[:, None])).astype(np.int64)
    last = np.minimum(n[:, None] - 1, (target + half[:, None]).astype(np.int64))
    empty = last < first  # no column in reach: the nearest one to the even split
    alone = np.minimum(np.maximum(1, target.astype(np.int64)), n[:, None] - 1)
    first = np.where(empty, alone, first)
    last = np.where(empty, alone, last)
    span = int((last - first).max()) + 1
    js = first[:, :, None] + np.arange(span)  # (slants, cuts, span)
    valid = js <= last[:, :, None]
    safe = np.where(valid, js, 0)
    wide = max(stroke, 1.0)
    cost = (
        np.take_along_axis(ink[:, None, :], safe, axis=2)
        + 0.5 * wide * np.abs(js - target[:, :, None]) / half[:, None, None]
    )
    cost = np.where(valid, cost, np.inf)
    pick = cost.argmin(axis=2)
    j = np.take_along_axis(js, pick[:, :, None], axis=2)[:, :, 0]
    least = np.take_along_axis(cost, pick[:, :, None], axis=2)[:, :, 0]
    best: tuple[float, int] | None = None
    for r in range(rows):
        total = 0.0
        for c in range(parts - 1):
            total += float(least[r, c]) + SLANT_COST * wide * abs(float(shears[r]))
        if best is None or total < best[0] - 1e-9:
            best = (total, r)
    assert best is not None
    r = best[1]
    return Cut(
        float(shears[r]),
        y_mid,
        (lo[r] + j[r]) * cell,
        ink[r, j[r]] / max(stroke, 1e-9),
    )
