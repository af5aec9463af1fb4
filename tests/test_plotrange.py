"""The loss axis fits the curves that stay bounded; a diverging one is clipped, not obeyed."""

import math

import numpy as np

from kpgui.core.display.plotrange import LOSS_BOUND, loss_axis_top, loss_log_range, off_scale


def test_a_diverging_curve_does_not_flatten_the_others():
    good = [2.3, 0.9, 0.4, 0.3]
    slow = [2.31, 2.29, 2.28]
    wild = [2.3, 40.0, 3e9, 2e13, math.nan]
    top = loss_axis_top([good, slow, wild])
    assert max(slow) < top <= 1.2 * max(slow)  # within a bound of the finite, bounded curves
    assert loss_axis_top([good, slow]) == top  # as if the wild run were not there
    x, y = off_scale(range(5), wild, top)
    assert list(x) == [1.0, 2.0, 3.0] and np.all(y < top) and np.all(y > max(slow))


def test_nothing_or_only_divergent_curves():
    assert loss_axis_top([]) == 1.0 and loss_axis_top([[math.nan, math.inf]]) == 1.0
    assert LOSS_BOUND < loss_axis_top([[5.0, 1e9]]) < 1.2 * LOSS_BOUND
    lo, hi = loss_log_range([[0.1, 2.3], [2.3, 2e13]])
    assert lo < -1 and hi > 13  # the log scale shows everything
