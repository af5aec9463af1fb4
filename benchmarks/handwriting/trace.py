"""MNIST digits turned into pen strokes: thin each digit to its skeleton, trace the skeleton.

The Zhang-Suen thinning is here (the robustness benchmark, bench_robustness.py, uses it too). The
skeleton is traced into *pen strokes*: 8-connected paths from end or junction to end or junction (closed
loops as one stroke), short spurs of the thinning removed, paths that meet at a junction which
the spur left behind joined again, then smoothed like a hand would draw them. The hand of
pen.py then draws them at any size, speed and pen width.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

UP = 4  # skeletons at 4x MNIST's resolution (112 x 112)
MIN_SPUR = 2.5 * UP  # end branches shorter than this (2.5 MNIST pixels) are thinning artefacts


def _neighbours(p: np.ndarray) -> list[np.ndarray]:
    """P2..P9 (clockwise from north) of every interior pixel of padded batch p (N, H+2, W+2)."""
    c = slice(1, -1)
    return [
        p[:, :-2, c],
        p[:, :-2, 2:],
        p[:, c, 2:],
        p[:, 2:, 2:],
        p[:, 2:, c],
        p[:, 2:, :-2],
        p[:, c, :-2],
        p[:, :-2, :-2],
    ]


def zhang_suen(batch: np.ndarray, max_iter: int = 100) -> np.ndarray:
    """One-pixel-wide skeletons of a batch of binary images (N, H, W) bool."""
    img = np.pad(batch.astype(np.uint8), ((0, 0), (1, 1), (1, 1)))
    for _ in range(max_iter):
        changed = False
        for step in (0, 1):
            n = _neighbours(img)
            b = sum(x.astype(np.int16) for x in n)
            a = sum(((n[i] == 0) & (n[(i + 1) % 8] == 1)).astype(np.int16) for i in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                c1, c2 = p2 * p4 * p6, p4 * p6 * p8
            else:
                c1, c2 = p2 * p4 * p8, p2 * p6 * p8
            core = img[:, 1:-1, 1:-1]
            remove = (core == 1) & (b >= 2) & (b <= 6) & (a == 1) & (c1 == 0) & (c2 == 0)
            if remove.any():
                core[remove] = 0
                changed = True
        if not changed:
            break
    return img[:, 1:-1, 1:-1].astype(bool)


def skeletons(digits: np.ndarray, up: int = 4) -> np.ndarray:
    """Skeletons of uint8 MNIST digits, computed at `up` times their resolution."""
    big = np.stack(
        [np.asarray(Image.fromarray(d).resize((28 * up, 28 * up), Image.BILINEAR)) for d in digits]
    )
    return zhang_suen(big > 100)


def _graph(skel: np.ndarray) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """Pixel -> neighbours; a diagonal link is dropped when a 4-neighbour path joins the two."""
    on = {(int(y), int(x)) for y, x in zip(*np.nonzero(skel), strict=True)}
    adj: dict[tuple[int, int], list[tuple[int, int]]] = {p: [] for p in on}
    for y, x in on:
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                q = (y + dy, x + dx)
                if (dy or dx) and q in on:
                    if dy and dx and ((y + dy, x) in on or (y, x + dx) in on):
                        continue
                    adj[(y, x)].append(q)
    return adj


def _paths(adj) -> list[list[tuple[int, int]]]:
    """Walk every link once: paths between nodes (degree != 2), then the closed loops left."""
    nodes = [p for p, n in adj.items() if len(n) != 2]
    used: set[frozenset] = set()
    out = []

    def walk(start, nxt):
        path, prev, cur = [start, nxt], start, nxt
        used.add(frozenset((start, nxt)))
        while len(adj[cur]) == 2 and cur != start:
            step = next((q for q in adj[cur] if q != prev and frozenset((cur, q)) not in used), None)
            if step is None:
                break
            used.add(frozenset((cur, step)))
            path.append(step)
            prev, cur = cur, step
        return path

    for node in sorted(nodes):
        for q in adj[node]:
            if frozenset((node, q)) not in used:
                out.append(walk(node, q))
    for p in sorted(adj):  # what is left are loops without ends (a 0, an 8's rings)
        for q in adj[p]:
            if frozenset((p, q)) not in used:
                out.append(walk(p, q))
    return out


def _prune_and_join(paths, adj) -> list[list[tuple[int, int]]]:
    """Drop short spurs (an end pixel on one side, a junction on the other), then join paths
    whose shared junction now has only the two of them."""

    def is_end(p):
        return len(adj[p]) == 1

    def is_junction(p):
        return len(adj[p]) >= 3

    kept = [
        p
        for p in paths
        if not (
            len(p) < MIN_SPUR
            and ((is_end(p[0]) and is_junction(p[-1])) or (is_end(p[-1]) and is_junction(p[0])))
        )
    ]
    if not kept:
        kept = paths
    joined = True
    while joined:
        joined = False
        ends: dict[tuple[int, int], list[int]] = {}
        for i, p in enumerate(kept):
            if p[0] != p[-1]:
                ends.setdefault(p[0], []).append(i)
                ends.setdefault(p[-1], []).append(i)
        for point, ids in ends.items():
            if len(ids) == 2 and ids[0] != ids[1] and is_junction(point):
                a, b = kept[ids[0]], kept[ids[1]]
                a = a if a[-1] == point else a[::-1]
                b = b if b[0] == point else b[::-1]
                kept = [p for i, p in enumerate(kept) if i not in ids] + [a + b[1:]]
                joined = True
                break
    return kept


def _smoothed(path: list[tuple[int, int]]) -> np.ndarray:
    """(x, y) points of a pixel path, averaged over 5 pixels (ends kept), every 2nd point."""
    p = np.array([(x, y) for y, x in path], np.float64)
    if len(p) >= 5:
        closed = path[0] == path[-1]
        pad = np.vstack([p[-3:-1], p, p[1:3]]) if closed else np.pad(p, ((2, 2), (0, 0)), "edge")
        k = np.ones(5) / 5
        q = np.stack([np.convolve(pad[:, 0], k, "valid"), np.convolve(pad[:, 1], k, "valid")], axis=1)
        if not closed:
            q[0], q[-1] = p[0], p[-1]
        p = q
    keep = np.unique(np.concatenate([np.arange(0, len(p), 2), [len(p) - 1]]))
    return p[keep]


def trace(skel: np.ndarray) -> list[np.ndarray]:
    """Pen strokes ((N, 2) x, y in skeleton pixels) of one skeleton; [] when it is empty."""
    adj = _graph(skel)
    if not adj:
        return []
    paths = _prune_and_join(_paths(adj), adj)
    strokes = [_smoothed(p) for p in paths if len(p) >= 2]
    lone = [p for p, n in adj.items() if not n]
    strokes += [np.array([[x, y]], np.float64) for y, x in lone] if not strokes else []
    return strokes


def traced_strokes(images: np.ndarray, chunk: int = 500) -> list[list[np.ndarray]]:
    """Pen strokes of each uint8 MNIST image (N, 28, 28)."""
    out = []
    for i in range(0, len(images), chunk):
        out += [trace(s) for s in skeletons(np.asarray(images[i : i + chunk]), up=UP)]
    return out
