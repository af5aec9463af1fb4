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

* **Reading over views** (when the card has a `views_threshold`): the top probability of one
  picture is blind to a confident misread of unfamiliar handwriting. The picture and a few
  slightly moved and turned copies of it (kpgui.core.reading.views) are read in one forward pass and
  their calibrated probabilities averaged: that average is the reading (the digit, the bars, the
  confidence shown), and the answer is sure only when its digit is ahead of the runner-up by at
  least the threshold (the steadiness; fitted like the first: flag at most MAX_FLAGGED of
  held-out digits). This replaces the top-probability test. Averaging the views (test-time
  augmentation) also reads a few more digits right than the picture alone, at no extra cost:
  with the shipped model 99.34 % of MNIST test against 99.27 %, MNIST re-drawn as strokes
  98.40 % against 98.20 %; real pen digits by held-out writer fold 99.27 % against 99.17 % (27
  writers; 3 digits fewer on writers 28-30; benchmarks/bench_pendigits.py).

These numbers live in the model card under "calibration". Qt-free, TensorFlow-free, cheap enough
for every pen move (a few microseconds for one image; about 0.1 ms more with the views).
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_THRESHOLD = 0.5  # a model without a fitted threshold is "not sure" below 50 %
SHAKY_CONFIDENCE = 0.9  # a reading this sure of the picture as drawn, flagged by the views, is "shaky"
MAX_FLAGGED = 0.02  # when fitting: flag at most this share of held-out real digits
THRESHOLD_RANGE = (0.35, 0.9)  # a fitted threshold never leaves this range
_T_RANGE = (0.05, 20.0)
_EPS = 1e-12


@dataclass(frozen=True)
class Calibration:
    """How to turn a model's raw probabilities into honest ones, and when to say "not sure"."""

    temperature: float = 1.0
    threshold: float = DEFAULT_THRESHOLD
    views_threshold: float | None = None  # when set: "sure" is decided by steadiness over views

    @property
    def uses_views(self) -> bool:
        """Read every picture together with its moved views (kpgui.core.reading.views)?"""
        return self.views_threshold is not None

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
        return cls(t, th, _views_threshold(data))

    def to_card(self, **measured: float | int | None) -> dict:
        """The card's "calibration" entry; `measured` adds e.g. ece_before/ece_after."""
        out: dict = {
            "method": "temperature scaling",
            "temperature": round(self.temperature, 4),
            "threshold": round(self.threshold, 4),
        }
        if self.views_threshold is not None:
            from kpgui.core.reading.views import VIEWS_ID

            out["views"] = VIEWS_ID
            out["views_threshold"] = round(self.views_threshold, 4)
        out.update({k: v for k, v in measured.items() if v is not None})
        return out

    def rule(self) -> str:
        """The "not sure" rule in words (Model info, `kpgui train`): one wording everywhere."""
        if self.views_threshold is not None:
            return (
                "read as the average over the picture and copies of it moved a pixel or turned a "
                f"little; 'not sure' unless the digit read stays {100 * self.views_threshold:.0f} "
                "points ahead of any other"
            )
        return f"'not sure' below {100 * self.threshold:.0f} %"

    def apply(self, probs: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, same shape as `probs` ((10,) or (N, 10))."""
        return calibrate(probs, self.temperature)

    def sure(self, calibrated: np.ndarray, views: np.ndarray | None = None) -> np.ndarray | bool:
        """True where the answer is sure: with `views` (the calibrated probabilities of the
        moved copies, (..., VIEWS, 10)) and a views threshold, where the steadiness reaches it;
        else where the calibrated top probability reaches the threshold."""
        return self.decide(calibrated, views)[1]

    def decide(self, calibrated: np.ndarray, views: np.ndarray | None = None) -> tuple[np.ndarray, Any]:
        """(the probabilities read, sure): the one rule, averaging the views once for both.
        With `views` and a views threshold, the average over the picture and its views and
        whether its lead over the runner-up (the steadiness) reaches the threshold; else the
        calibrated probabilities and whether their top reaches the threshold."""
        if views is not None and self.views_threshold is not None:
            mean = averaged(calibrated, views)
            return mean.astype(np.float32), _lead(mean) >= self.views_threshold
        return calibrated, np.max(calibrated, axis=-1) >= self.threshold


def _views_threshold(data: dict) -> float | None:
    """The card's views threshold, if it was fitted with the views kpgui makes now."""
    from kpgui.core.reading.views import VIEWS_ID

    if data.get("views") != VIEWS_ID:
        return None
    try:
        v = float(data.get("views_threshold"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and -1.0 < v < 1.0 else None


def averaged(calibrated: np.ndarray, views: np.ndarray) -> np.ndarray:
    """The reading's probabilities with views: the mean of the picture's calibrated
    probabilities `calibrated` (..., 10) and its views' `views` (..., VIEWS, 10)."""
    q = np.asarray(calibrated, np.float64)
    v = np.asarray(views, np.float64)
    return (q + v.sum(axis=-2)) / (1 + v.shape[-2])


def steadiness(calibrated: np.ndarray, views: np.ndarray) -> np.ndarray:
    """How far the digit read stays ahead of the runner-up on the probabilities averaged over the
    picture and its moved views (`averaged`): mean p(read) - max over others of mean p, between
    0 and 1. `calibrated` (..., 10), `views` (..., VIEWS, 10)."""
    return _lead(averaged(calibrated, views))


def _lead(probs: np.ndarray) -> np.ndarray:
    """The top probability minus the runner-up's, over the last axis."""
    top_two = np.sort(probs, axis=-1)[..., -2:]
    return top_two[..., 1] - top_two[..., 0]


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


def fit_views_threshold(
    calibrated: np.ndarray, views: np.ndarray, max_flagged: float = MAX_FLAGGED
) -> float | None:
    """The steadiness threshold that flags at most `max_flagged` of these held-out digits
    (`views`: their views' calibrated probabilities, (N, VIEWS, 10)); None with nothing to fit."""
    q = np.asarray(calibrated, np.float64).reshape(-1, 10)
    if len(q) == 0:
        return None
    score = steadiness(q, np.asarray(views, np.float64).reshape(len(q), -1, 10))
    return float(np.clip(np.quantile(score, max_flagged), 0.05, 0.99))


def fit_calibration(
    probs: np.ndarray,
    labels: np.ndarray,
    max_flagged: float = MAX_FLAGGED,
    view_probs: np.ndarray | None = None,
) -> tuple[Calibration, dict]:
    """Fit temperature then threshold on held-out (probabilities, labels); returns the
    Calibration and what was measured on that set (ECE before/after, share flagged). The
    temperature is kept only when it lowers the error on held-out folds (temperature_helps).
    With `view_probs` (the raw probabilities of every digit's moved views, (N, VIEWS, 10);
    kpgui.core.reading.views) the steadiness threshold is fitted too, at the same share flagged."""
    fitted = fit_temperature(probs, labels)
    t = fitted if temperature_helps(probs, labels) else 1.0
    cal_probs = calibrate(probs, t)
    th = fit_threshold(cal_probs, max_flagged)
    cal_views = None if view_probs is None else calibrate(view_probs, t)
    vth = None if cal_views is None else fit_views_threshold(cal_probs, cal_views, max_flagged)
    cal = Calibration(t, th, vth)
    measured = {
        "fitted_on": int(len(np.asarray(labels).reshape(-1))),
        "temperature_fitted": round(fitted, 4),
        "ece_before": round(expected_calibration_error(probs, labels), 5),
        "ece_after": round(expected_calibration_error(cal_probs, labels), 5),
        "flagged_share": round(float(np.mean(~np.asarray(cal.sure(cal_probs, cal_views)))), 5)
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
    sure: bool  # shown as the digit, or as kpgui.core.display.words.not_sure(digit, runner_up)
    steadiness: float | None = None  # with views: how far the digit stays ahead over them
    as_drawn: float | None = None  # with views: the picture's own calibrated probability of `digit`

    @property
    def shaky(self) -> bool:
        """Not sure although the picture as drawn is read surely: moved by a pixel or turned a
        little, the digit is not read the same way (the views' verdict, kpgui.core.reading.views)."""
        return not self.sure and self.as_drawn is not None and self.as_drawn >= SHAKY_CONFIDENCE


def _readings(q: np.ndarray, v: np.ndarray | None, cal: Calibration) -> list[Reading]:
    """The Readings of pictures from their calibrated probabilities `q` (N, 10) and, when the
    calibration uses views, their views' `v` (N, VIEWS, 10): their average is what is read."""
    views = v is not None and cal.uses_views
    shown, judged = cal.decide(q, v)  # the one rule
    sure = np.asarray(judged, bool).reshape(-1)
    order = np.argsort(shown, axis=1)[:, ::-1]
    rows = np.arange(len(q))
    top, second, own = shown[rows, order[:, 0]], shown[rows, order[:, 1]], q[rows, order[:, 0]]
    return [
        Reading(
            shown[j],
            int(order[j, 0]),
            float(top[j]),
            int(order[j, 1]),
            bool(sure[j]),
            float(top[j] - second[j]) if views else None,
            float(own[j]) if views else None,
        )
        for j in rows
    ]


def read(
    probs: np.ndarray, calibration: Calibration | None = None, views: np.ndarray | None = None
) -> Reading:
    """The calibrated reading of one image's raw probabilities (10,); `views`: the raw
    probabilities of its moved copies (VIEWS, 10), used when the calibration has a views
    threshold (read_images makes them)."""
    cal = calibration or Calibration()
    q = cal.apply(np.asarray(probs, np.float32).reshape(10))
    v = cal.apply(np.asarray(views, np.float32).reshape(-1, 10)) if views is not None else None
    return _readings(q[None], None if v is None else v[None], cal)[0]


def read_batch(
    probs: np.ndarray, calibration: Calibration | None = None, views: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(the probabilities read (N, 10), sure (N,) bool) for many images at once, as `read` gives
    them one by one; `views` (N, VIEWS, 10) as for `read`."""
    cal = calibration or Calibration()
    q = cal.apply(np.asarray(probs, np.float32).reshape(-1, 10))
    v = None if views is None else cal.apply(np.asarray(views, np.float32).reshape(len(q), -1, 10))
    shown, sure = cal.decide(q, v)
    return shown, np.asarray(sure, bool).reshape(-1)


def predict_with_views(
    predictor: Any, images: np.ndarray, calibration: Calibration | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Raw probabilities of `images` (N, 28, 28) and, when the calibration uses views, of their
    moved views (N, VIEWS, 10), from one forward pass; else (probabilities, None)."""
    from kpgui.core.data.arrays import as_model_input

    x = as_model_input(images)
    cal = calibration or Calibration()
    if not cal.uses_views:
        return np.asarray(predictor.predict(x), np.float32), None
    from kpgui.core.reading.views import VIEWS, with_views

    out = np.asarray(predictor.predict(with_views(x)), np.float32).reshape(len(x), 1 + VIEWS, 10)
    return out[:, 0], out[:, 1:]


# Readings with views, remembered per predictor by picture: while a number is written, the digits
# already there are not read again (the window re-reads the whole drawing on every pen move).
_REMEMBERED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_REMEMBER = 64


def remembered_for(table: weakref.WeakKeyDictionary, predictor: Any) -> dict:
    """`predictor`'s own memo in `table`, kept as long as the predictor lives (a fresh one for a
    predictor that cannot be weakly referenced: nothing is remembered for it)."""
    try:
        return table.setdefault(predictor, {})
    except TypeError:
        return {}


def forget_readings() -> None:
    """Forget every remembered reading (benchmarks timing a first reading)."""
    _REMEMBERED.clear()


def read_images(predictor: Any, images: np.ndarray, calibration: Calibration | None = None) -> list[Reading]:
    """The readings of pictures (N, 28, 28) by `predictor` (anything with predict(x) -> (N, 10)):
    the one path the window, the command line and the benchmarks read digits by, views
    included when the calibration asks for them (one forward pass for all)."""
    cal = calibration or Calibration()
    x = np.ascontiguousarray(np.asarray(images, np.float32).reshape(-1, 784))
    if not cal.uses_views:
        probs, _ = predict_with_views(predictor, x, cal)
        return _readings(cal.apply(probs), None, cal)
    memory = remembered_for(_REMEMBERED, predictor)
    keys = [(cal, row.tobytes()) for row in x]
    todo = sorted({i for i, key in enumerate(keys) if key not in memory})
    if todo:
        probs, views = predict_with_views(predictor, x[todo], cal)
        if views is None:  # pragma: no cover - a calibration with a views threshold makes views
            raise ValueError("no views were made")
        readings = _readings(cal.apply(probs), cal.apply(views), cal)
        for j, i in enumerate(todo):
            memory[keys[i]] = readings[j]
    readings = [memory[key] for key in keys]
    while len(memory) > max(_REMEMBER, len(keys)):  # the oldest first
        del memory[next(iter(memory))]
    return readings
