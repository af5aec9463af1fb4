"""Test-time views: the same 28x28 digit moved by a pixel and turned a little, read together.

A network that reads a digit surely may still be wrong about handwriting unlike its training
digits (a 1 with a long flag read as 7). The top probability of one picture cannot tell those
apart from its right answers, but how the reading holds up when the picture is nudged can: a
digit read right stays read the same way when it moves by a pixel or leans a few degrees; a
misread one often does not. The views are the picture itself and VIEWS small moves of it
(±1 px right/left/down/up, turned ±8°); `kpgui.core.reading.confidence` averages their probabilities,
reads that average (test-time augmentation: a few more digits read right than from the picture
alone) and says "not sure" when the digit read is not well ahead of every other on it.

Measured on 7,494 real pen digits by 30 writers the previous shipped model never saw
(benchmarks/bench_pendigits.py): at the same rule ("flag 2 % of the MNIST validation digits"),
sure-and-wrong fell from 1.75 % to 1.32 % of all digits.

Cheap: the warps are fixed bilinear resamplings precomputed once (a gather and a weighted sum),
and all views of all digits go through the network in one forward pass. NumPy only.
"""

from __future__ import annotations

import math

import numpy as np

SIZE = 28
CENTRE = 13.5
SHIFT_PX = 1.0
TURN_DEG = 8.0
# The id a model card names its views by: a card fitted with other views is not used with these.
VIEWS_ID = "shift 1 px x4, turn 8 deg x2"


def _transform(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each output pixel reads the input when the picture is turned by `a` about its
    centre: four flat indices into the image padded by 1 px before and 2 after (31x31), and
    their bilinear weights, each (4, 784)."""
    inv = np.linalg.inv(a)
    gy, gx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    ox, oy = gx - CENTRE, gy - CENTRE
    sx = np.clip(inv[0, 0] * ox + inv[0, 1] * oy + CENTRE, -1.0, SIZE) + 1.0
    sy = np.clip(inv[1, 0] * ox + inv[1, 1] * oy + CENTRE, -1.0, SIZE) + 1.0
    x0, y0 = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
    fx, fy = sx - x0, sy - y0
    w = SIZE + 3
    idx = np.stack([y0 * w + x0, y0 * w + x0 + 1, (y0 + 1) * w + x0, (y0 + 1) * w + x0 + 1])
    weights = np.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy])
    return idx.reshape(4, -1), weights.reshape(4, -1).astype(np.float32)


def _turn(deg: float) -> np.ndarray:
    t = math.radians(deg)
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


_S = int(SHIFT_PX)
# (dx, dy) whole-pixel moves: right, left, down, up (the picture's content moves that way).
_SHIFTS = ((_S, 0), (-_S, 0), (0, _S), (0, -_S))
_TURNS = [_transform(_turn(TURN_DEG)), _transform(_turn(-TURN_DEG))]
_TURN_INDEX = np.stack([idx for idx, _ in _TURNS])  # (turns, 4, 784)
_TURN_WEIGHT = np.stack([w for _, w in _TURNS])
VIEWS = len(_SHIFTS) + len(_TURNS)  # moved views per digit (the digit itself comes first, not counted)


def with_views(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) or (N, 784) images in [0, 1] -> (N * (1 + VIEWS), 784) float32: each
    digit followed by its VIEWS moved copies (digit i's rows are i*(1+VIEWS) .. +VIEWS).

    The turns are one gather of all four bilinear neighbours and one weighted sum (30 us for a
    digit, against 124 us turning each view in its own loop: measured for the window's reading)."""
    x = np.asarray(images, np.float32).reshape(-1, SIZE, SIZE)
    n = len(x)
    out = np.zeros((n, 1 + VIEWS, SIZE, SIZE), np.float32)
    out[:, 0] = x
    for k, (dx, dy) in enumerate(_SHIFTS, start=1):  # whole pixels: copies, zeros shifted in
        out[:, k, max(dy, 0) : SIZE + min(dy, 0), max(dx, 0) : SIZE + min(dx, 0)] = x[
            :, max(-dy, 0) : SIZE + min(-dy, 0), max(-dx, 0) : SIZE + min(-dx, 0)
        ]
    padded = np.zeros((n, SIZE + 3, SIZE + 3), np.float32)
    padded[:, 1 : SIZE + 1, 1 : SIZE + 1] = x
    neighbours = padded.reshape(n, -1)[:, _TURN_INDEX]  # (n, turns, 4, 784)
    out[:, 1 + len(_SHIFTS) :] = (neighbours * _TURN_WEIGHT).sum(axis=2).reshape(n, -1, SIZE, SIZE)
    return out.reshape(-1, SIZE * SIZE)
