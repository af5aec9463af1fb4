"""Honest confidence: calibrated probabilities and a "not sure" verdict for every reading.

A softmax network is over-confident out of the box (a scribble read as "5, 99 %"). Two things make
its numbers honest:

* **Temperature scaling** (Guo et al. 2017): the logits are divided by one number T, fitted on
  held-out digits to minimise the negative log-likelihood. It changes how sure the model says it
  is, never which digit it picks. The probabilities we get are softmax outputs, so the logits
  are recovered as log p (up to a constant, which softmax ignores).
* **A threshold on the calibrated top probability**: below it the answer is "not sure", shown
  with the two best guesses. It is chosen on held-out digits so that only a small share of real
  digits is flagged; models trained with non-digits (outlier exposure) give near-uniform
  probabilities on scribbles and letters, which then fall below it.

Both numbers live in the model card under "calibration". Qt-free, TensorFlow-free, cheap enough
for every pen move (a few microseconds for one image).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DEFAULT_THRESHOLD = 0.5  # a model without a fitted threshold is "not sure" below 50 %
MAX_FLAGGED = 0.02  # when fitting: flag at most this share of held-out real digits
THRESHOLD_RANGE = (0.35, 0.9)  # a fitted threshold never leaves this range
_T_RANGE = (0.05, 20.0)
_EPS = 1e-12


@dataclass(frozen=True)
class Calibration:
    """How to turn a model's raw probabilities into honest ones, and when to say "not sure"."""

    temperature: float = 1.0
    threshold: float = DEFAULT_THRESHOLD

    @classmethod
    def from_card(cls, card: dict | None) -> Calibration:
        """The calibration stored in a model card, or the neutral default when there is none
        (or it is unreadable: a bad card must never stop a model from reading digits)."""
        data = card.get("calibration") if isinstance(card, dict) else None
        if not isinstance(data, dict):
            return cls()
        try:
            t = float(data.get("temperature", 1.0))
            th = float(data.get("threshold", DEFAULT_THRESHOLD))
        except (TypeError, ValueError):
            return cls()
        if not (math.isfinite(t) and _T_RANGE[0] <= t <= _T_RANGE[1]):
            t = 1.0
        if not (math.isfinite(th) and 0.0 < th < 1.0):
            th = DEFAULT_THRESHOLD
        return cls(t, th)

    def to_card(self, **measured: float | int | None) -> dict:
        """The card's "calibration" entry; `measured` adds e.g. ece_before/ece_after."""
        out: dict = {
            "method": "temperature scaling",
            "temperature": round(self.temperature, 4),
            "threshold": round(self.threshold, 4),
        }
        out.update({k: v for k, v in measured.items() if v is not None})
        return out

    def apply(self, probs: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, same shape as `probs` ((10,) or (N, 10))."""
        return calibrate(probs, self.temperature)

    def sure(self, calibrated: np.ndarray) -> np.ndarray | bool:
        """True where the calibrated top probability reaches the threshold."""
        top = np.max(calibrated, axis=-1)
        return top >= self.threshold


def calibrate(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log(p) / T): probabilities with their logits divided by the temperature."""
    p = np.asarray(probs, np.float64)
    if temperature == 1.0:
        return p.astype(np.float32)
    z = np.log(np.clip(p, _EPS, 1.0)) / float(temperature)
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def _nll(probs: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    q = calibrate(probs, temperature).astype(np.float64)
    return float(-np.mean(np.log(np.clip(q[np.arange(len(labels)), labels], _EPS, 1.0))))


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of `labels` (golden-section search
    on log T; the NLL is unimodal in T). 1.0 when there is nothing to fit on."""
    p = np.asarray(probs, np.float64).reshape(-1, 10)
    y = np.asarray(labels).reshape(-1).astype(np.int64)
    if len(y) == 0:
        return 1.0
    lo, hi = math.log(_T_RANGE[0]), math.log(_T_RANGE[1])
    g = (math.sqrt(5) - 1) / 2
    a, b = lo + (1 - g) * (hi - lo), lo + g * (hi - lo)
    fa, fb = _nll(p, y, math.exp(a)), _nll(p, y, math.exp(b))
    for _ in range(40):  # interval shrinks by 0.618 each step: 40 steps is ~1e-8 in log T
        if fa < fb:
            hi, b, fb = b, a, fa
            a = lo + (1 - g) * (hi - lo)
            fa = _nll(p, y, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = _nll(p, y, math.exp(b))
    return float(math.exp((lo + hi) / 2))


def fit_threshold(calibrated: np.ndarray, max_flagged: float = MAX_FLAGGED) -> float:
    """The threshold that flags at most `max_flagged` of these (real, held-out) digits as
    "not sure", kept inside THRESHOLD_RANGE."""
    top = np.max(np.asarray(calibrated, np.float64).reshape(-1, 10), axis=1)
    if len(top) == 0:
        return DEFAULT_THRESHOLD
    th = float(np.quantile(top, max_flagged))
    return float(min(max(th, THRESHOLD_RANGE[0]), THRESHOLD_RANGE[1]))


def temperature_helps(probs: np.ndarray, labels: np.ndarray) -> bool:
    """Does a fitted temperature lower the calibration error on digits it was not fitted on?
    Two folds: fit on one half, measure on the other, both ways. A model trained with
    non-digits and augmentation is often calibrated already; then T stays 1."""
    p = np.asarray(probs, np.float64).reshape(-1, 10)
    y = np.asarray(labels).reshape(-1)
    folds = (np.arange(len(y)) % 2 == 0, np.arange(len(y)) % 2 == 1)
    before = after = 0.0
    for fit_on, test_on in (folds, folds[::-1]):
        t = fit_temperature(p[fit_on], y[fit_on])
        before += expected_calibration_error(p[test_on], y[test_on])
        after += expected_calibration_error(calibrate(p[test_on], t), y[test_on])
    return after < before


def fit_calibration(
    probs: np.ndarray, labels: np.ndarray, max_flagged: float = MAX_FLAGGED
) -> tuple[Calibration, dict]:
    """Fit temperature then threshold on held-out (probabilities, labels); returns the
    Calibration and what was measured on that set (ECE before/after, share flagged). The
    temperature is kept only when it lowers the error on held-out folds (temperature_helps)."""
    fitted = fit_temperature(probs, labels)
    t = fitted if temperature_helps(probs, labels) else 1.0
    cal_probs = calibrate(probs, t)
    th = fit_threshold(cal_probs, max_flagged)
    cal = Calibration(t, th)
    measured = {
        "fitted_on": int(len(np.asarray(labels).reshape(-1))),
        "temperature_fitted": round(fitted, 4),
        "ece_before": round(expected_calibration_error(probs, labels), 5),
        "ece_after": round(expected_calibration_error(cal_probs, labels), 5),
        "flagged_share": round(float(np.mean(~np.asarray(cal.sure(cal_probs)))), 5)
        if len(cal_probs)
        else None,
    }
    return cal, measured


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins,
    weighted by how many predictions fall in each (Naeini et al. 2015; Guo et al. 2017)."""
    p = np.asarray(probs, np.float64).reshape(-1, 10)
    y = np.asarray(labels).reshape(-1)
    if len(y) == 0:
        return 0.0
    conf = p.max(axis=1)
    right = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            ece += m.mean() * abs(conf[m].mean() - right[m].mean())
    return float(ece)


@dataclass(frozen=True)
class Reading:
    """What the model makes of one image, calibrated: the answer a person sees."""

    probabilities: np.ndarray  # (10,) calibrated
    digit: int  # the best guess
    confidence: float  # its calibrated probability
    runner_up: int  # the second-best guess
    sure: bool

    @property
    def text(self) -> str:
        """'7 (98.3 % sure)' or 'Not sure — 1 or 7?'."""
        if self.sure:
            return f"{self.digit} ({100 * self.confidence:.1f} % sure)"
        return f"Not sure — {self.digit} or {self.runner_up}?"


def read(probs: np.ndarray, calibration: Calibration | None = None) -> Reading:
    """The calibrated reading of one image's raw probabilities (10,)."""
    cal = calibration or Calibration()
    q = cal.apply(np.asarray(probs, np.float32).reshape(10))
    order = np.argsort(q)[::-1]
    return Reading(q, int(order[0]), float(q[order[0]]), int(order[1]), bool(cal.sure(q)))


def read_batch(probs: np.ndarray, calibration: Calibration | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(calibrated probabilities (N, 10), sure (N,) bool) for many images at once."""
    cal = calibration or Calibration()
    q = cal.apply(np.asarray(probs, np.float32).reshape(-1, 10))
    return q, np.asarray(cal.sure(q), bool).reshape(-1)
