"""Calibration and "not sure": temperature scaling lowers the calibration error on held-out
digits without changing any answer; non-digit-like flat outputs are flagged."""

from __future__ import annotations

import numpy as np
import pytest

from kpgui.core.display.words import not_sure
from kpgui.core.reading.confidence import (
    Calibration,
    calibrate,
    expected_calibration_error,
    fit_calibration,
    fit_temperature,
    read,
    read_batch,
)


def _overconfident(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of a model that is right 85 % of the time but says ~99 %."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    guess = np.where(rng.random(n) < 0.85, labels, rng.integers(0, 10, n))
    logits = rng.normal(0, 1, (n, 10))
    logits[np.arange(n), guess] += 8.0
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True), labels


def test_temperature_scaling_lowers_ece_on_held_out_data_and_keeps_answers():
    fit_p, fit_y = _overconfident(3000, seed=1)
    held_p, held_y = _overconfident(3000, seed=2)
    t = fit_temperature(fit_p, fit_y)
    assert t > 1.5  # an over-confident model is cooled down
    before = expected_calibration_error(held_p, held_y)
    after = expected_calibration_error(calibrate(held_p, t), held_y)
    assert before > 0.1 and after < before / 2
    assert (calibrate(held_p, t).argmax(axis=1) == held_p.argmax(axis=1)).all()


def test_fit_calibration_flags_few_real_digits_and_flat_outputs():
    p, y = _overconfident(2000, seed=3)
    cal, measured = fit_calibration(p, y, max_flagged=0.02)
    assert measured["ece_after"] < measured["ece_before"]
    _, sure = read_batch(p, cal)
    assert np.mean(~sure) <= 0.03
    flat = np.full((5, 10), 0.1) + np.random.default_rng(0).uniform(0, 0.02, (5, 10))
    flat /= flat.sum(axis=1, keepdims=True)
    _, sure_flat = read_batch(flat, cal)
    assert not sure_flat.any()


def test_reading_verdict_and_card_round_trip():
    p = np.array([0.02, 0.45, 0.02, 0.02, 0.02, 0.02, 0.02, 0.39, 0.02, 0.02])
    r = read(p, Calibration(1.0, 0.6))
    assert not r.sure and (r.digit, r.runner_up) == (1, 7)
    assert not_sure(r.digit, r.runner_up) == "Not sure — 1 or 7?"
    sure = read(p, Calibration(1.0, 0.4))
    assert sure.sure and sure.digit == 1 and sure.confidence == pytest.approx(0.45)
    cal = Calibration(1.7, 0.55)
    assert Calibration.from_card({"calibration": cal.to_card(ece_before=0.1)}) == cal
    for bad in (
        None,
        {},
        {"calibration": "x"},
        {"calibration": {"temperature": "nan"}},
        {"calibration": {"temperature": 1e9, "threshold": 5}},
    ):
        assert Calibration.from_card(bad) == Calibration()
