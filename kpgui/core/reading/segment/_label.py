"""Connected components of a binary picture (8-connectivity), in NumPy.

The ink is stored as horizontal runs; runs on neighbouring rows that touch (diagonals included)
are linked, and the links are resolved by hooking and pointer jumping (a few NumPy passes, not
one per pixel). Cost grows with the number of runs, i.e. with the length of the ink's outline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Runs:
    """The ink of a picture as runs: row, first column, end column (exclusive), component."""

    row: np.ndarray
    start: np.ndarray
    end: np.ndarray
    comp: np.ndarray  # 0..count-1
    count: int
    shape: tuple[int, int]

    def boxes(self) -> np.ndarray:
        """(count, 4) x0, y0, x1, y1 of each component (x1, y1 exclusive)."""
        out = np.empty((self.count, 4), np.int64)
        out[:, :2] = np.iinfo(np.int64).max
        out[:, 2:] = np.iinfo(np.int64).min
        np.minimum.at(out[:, 0], self.comp, self.start)
        np.minimum.at(out[:, 1], self.comp, self.row)
        np.maximum.at(out[:, 2], self.comp, self.end)
        np.maximum.at(out[:, 3], self.comp, self.row + 1)
        return out

    def areas(self) -> np.ndarray:
        return np.bincount(self.comp, weights=self.end - self.start, minlength=self.count)

    def label_image(self) -> np.ndarray:
        """(H, W) int32: 0 for paper, component + 1 for ink."""
        h, w = self.shape
        out = np.zeros(h * w, np.int32)
        length = self.end - self.start
        first = np.repeat(self.row * w + self.start - np.cumsum(length) + length, length)
        out[first + np.arange(int(length.sum()))] = np.repeat(self.comp + 1, length)
        return out.reshape(h, w)


def label(mask: np.ndarray) -> Runs:
    """The 8-connected components of a 2-D boolean mask."""
    mask = np.asarray(mask, bool)
    h, w = mask.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = mask
    step = np.diff(padded, axis=1)
    row, start = np.nonzero(step == 1)
    _, end = np.nonzero(step == -1)
    n = len(row)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return Runs(empty, empty, empty, empty, 0, (h, w))
    # Runs a (row r) and b (row r + 1) touch when b.start <= a.end and b.end >= a.start; runs of
    # a row are sorted and disjoint, so the b's of each a are one contiguous range of indices.
    stride = w + 3
    key_start = row * stride + start
    key_end = row * stride + end
    hi = np.searchsorted(key_start, (row + 1) * stride + end, side="right")
    lo = np.searchsorted(key_end, (row + 1) * stride + start, side="left")
    count = np.maximum(hi - lo, 0)
    a = np.repeat(np.arange(n), count)
    b = np.repeat(lo, count) + np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    parent = np.arange(n)
    while True:
        ra, rb = parent[a], parent[b]
        differ = ra != rb
        if not differ.any():
            break
        # Hook the larger root under the smaller one, then jump pointers until flat.
        np.minimum.at(parent, np.maximum(ra, rb)[differ], np.minimum(ra, rb)[differ])
        while True:
            nxt = parent[parent]
            if np.array_equal(nxt, parent):
                break
            parent = nxt
    roots, comp = np.unique(parent, return_inverse=True)
    return Runs(row, start, end, comp.reshape(-1), len(roots), (h, w))
