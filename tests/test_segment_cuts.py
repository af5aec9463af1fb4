"""The cut search of the number splitter gives the same cuts as a plain loop over slants, and the
chosen cut is the one a search of every cut count gives."""

from __future__ import annotations

import numpy as np
import pytest

from kpgui.core.reading.segment._layout import (
    CLEAN,
    REACH,
    SHEARS,
    SLANT_COST,
    TALL,
    Cut,
    choose_cut,
    find_cuts,
)


def plain_find_cuts(
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    parts: int,
    cell: float,
    stroke: float,
    centre_lines: bool,
) -> Cut:
    """The cut search one slant at a time, as it was first written."""
    y_mid = float(np.median(y))
    smooth = max(1, int(round(stroke))) if centre_lines else 1
    best: tuple[float, Cut] | None = None
    for shear in SHEARS:
        xs = (x - shear * (y - y_mid)) / cell
        lo = float(np.floor(xs.min()))
        bins = (xs - lo).astype(np.int64)
        ink: np.ndarray = np.bincount(bins, weights=weight, minlength=int(bins.max()) + 1)
        if smooth > 1:
            ink = np.convolve(ink, np.ones(smooth), mode="same")
        n = len(ink)
        step = n / parts
        half = max(1.0, REACH * step)
        at, cross, total = [], [], 0.0
        for i in range(1, parts):
            target = i * step
            js = np.arange(max(1, int(np.ceil(target - half))), min(n - 1, int(target + half)) + 1)
            if not len(js):
                js = np.array([min(max(1, int(target)), n - 1)])
            cost = ink[js] + 0.5 * max(stroke, 1.0) * np.abs(js - target) / half
            j = int(js[np.argmin(cost)])
            at.append((lo + j) * cell)
            cross.append(ink[j] / max(stroke, 1e-9))
            total += float(cost.min()) + SLANT_COST * max(stroke, 1.0) * abs(shear)
        if best is None or total < best[0] - 1e-9:
            best = (total, Cut(shear, y_mid, np.array(at), np.array(cross)))
    assert best is not None
    return best[1]


@pytest.mark.parametrize("seed", range(4))
def test_cuts_match_a_plain_loop_over_slants(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for case in range(150):
        n = int(rng.integers(1, 300))
        spread = rng.uniform(0.5, 30)
        x = rng.normal(0, spread, n).cumsum() if case % 2 else rng.uniform(0, rng.uniform(1, 200), n)
        y = rng.uniform(0, rng.uniform(1, 100), n)
        weight = rng.uniform(0, 1, n) if case % 3 else np.full(n, 0.5)
        args = (x, y, weight, int(rng.integers(2, 7)), float(rng.uniform(0.3, 5)), float(rng.uniform(0, 6)))
        centre_lines = bool(case % 4)
        want = plain_find_cuts(*args, centre_lines)
        got = find_cuts(*args, centre_lines)
        assert got.shear == want.shear, (seed, case)
        assert got.y_mid == want.y_mid, (seed, case)
        assert np.array_equal(got.at, want.at), (seed, case)
        assert np.array_equal(got.crossings, want.crossings), (seed, case)


def plain_choose_cut(x, y, weight, parts, cell, stroke, height, centre_lines):
    """Every cut count searched, each cut's parts checked for height: no shortcut."""
    fallback = None
    for k in sorted({parts, max(2, parts - 1), 2}, reverse=True):
        cut = plain_find_cuts(x, y, weight, k, cell, stroke, centre_lines)
        side = cut.part(x, y)
        if not all((side == i).any() and np.ptp(y[side == i]) >= TALL * height for i in range(k)):
            continue
        if cut.crossings.max() <= CLEAN:
            return cut, True
        fallback = fallback or cut
    return fallback, False


@pytest.mark.parametrize("seed", range(3))
def test_the_chosen_cut_is_the_full_searchs_even_for_flat_ink(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    refused = 0
    for case in range(120):
        n = int(rng.integers(2, 300))
        x = rng.uniform(0, rng.uniform(20, 200), n)
        y = rng.uniform(0, rng.uniform(1, 60), n)  # from a flat bar to digit-tall ink
        height = float(rng.uniform(10, 60))
        args = (x, y, np.full(n, 0.5), int(rng.integers(2, 8)), float(rng.uniform(0.5, 4)), 2.0, height, True)
        want, want_clean = plain_choose_cut(*args)
        got, got_clean = choose_cut(*args)
        assert got_clean == want_clean, (seed, case)
        if want is None:
            assert got is None, (seed, case)
            refused += 1
            continue
        assert got is not None and got.shear == want.shear and np.array_equal(got.at, want.at), (seed, case)
    assert 10 < refused < 110, refused  # both kinds of group were tried
