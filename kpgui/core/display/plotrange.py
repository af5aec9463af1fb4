"""A loss axis that stays readable whatever a run does (issue 24).

One diverging run (a learning rate of 1 sends the loss to ~1e13 before it turns NaN) must not
flatten every other curve onto zero. The axis is fitted to the curves that stay bounded; a curve
that climbs past LOSS_BOUND is "divergent": its points above the axis are drawn at the top edge,
marked. LOSS_BOUND is four times the loss of guessing uniformly among 10 digits (ln 10 = 2.30):
no run that is learning goes there, every run that diverges passes it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

GUESS_LOSS = math.log(10)  # cross-entropy of a uniform guess over 10 classes
LOSS_BOUND = 4 * GUESS_LOSS
HEADROOM = 1.1  # the top of the axis sits 10 % above the highest point shown


def _finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    a = np.asarray(values, dtype=float).ravel()
    return a[np.isfinite(a)]


def loss_axis_top(curves: Iterable[Sequence[float] | np.ndarray], bound: float = LOSS_BOUND) -> float:
    """The top of a linear loss axis showing `curves` (each a sequence of loss values, NaN and
    inf allowed): 10 % above the highest curve that stays below `bound`; `bound` itself (plus
    headroom) when every curve passes it; 1.0 when there is nothing finite to show."""
    tops = [float(f.max()) for f in map(_finite, curves) if f.size]
    if not tops:
        return 1.0
    bounded = [t for t in tops if t <= bound]
    top = max(bounded) if bounded else bound
    return max(top, 1e-6) * HEADROOM


def loss_log_range(curves: Iterable[Sequence[float] | np.ndarray]) -> tuple[float, float]:
    """(low, high) in log10 units for a log-scale loss axis: every positive finite value shown,
    divergent ones included (that is what the log scale is for)."""
    values = [f[f > 0] for f in map(_finite, curves)]
    values = [v for v in values if v.size]
    if not values:
        return -2.0, 1.0
    lo = math.log10(min(float(v.min()) for v in values))
    hi = math.log10(max(float(v.max()) for v in values))
    pad = max(0.05 * (hi - lo), 0.05)
    return lo - pad, hi + pad


def off_scale(x: Sequence[float], y: Sequence[float], top: float) -> tuple[np.ndarray, np.ndarray]:
    """The points of a curve above `top` (or infinite), as (x, top) marks at the axis's edge."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = min(len(xs), len(ys))
    over = (ys[:n] > top) | np.isposinf(ys[:n])
    return xs[:n][over], np.full(int(over.sum()), top / HEADROOM * 1.05)
