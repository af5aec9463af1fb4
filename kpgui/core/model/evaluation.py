"""Evaluating a model on the MNIST test set: accuracy, per-class accuracy, confusion matrix."""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from kpgui.core.data.arrays import as_model_input


@dataclass
class Evaluation:
    accuracy: float  # read the window's way (kpgui.core.reading.confidence)
    confusion: np.ndarray  # (10, 10) int: rows true digit, columns predicted digit
    predictions: np.ndarray  # (N,) predicted digits
    probabilities: np.ndarray  # (N, 10): the probabilities read (calibrated; views averaged)
    network_accuracy: float | None = None  # the network alone on each picture (Keras' evaluate)

    @property
    def per_class_accuracy(self) -> np.ndarray:
        totals = self.confusion.sum(axis=1)
        return np.divide(np.diag(self.confusion), totals, out=np.zeros(10), where=totals > 0)

    def format_confusion(self) -> str:
        head = "true\\pred " + " ".join(f"{d:>5}" for d in range(10)) + "   acc"
        rows = [head]
        for t in range(10):
            counts = " ".join(f"{c:>5}" for c in self.confusion[t])
            rows.append(f"{t:>9} {counts}  {100 * self.per_class_accuracy[t]:5.1f}%")
        return "\n".join(rows)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    m = np.zeros((10, 10), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return m


def evaluate(
    predictor, images: np.ndarray, labels: np.ndarray, batch_size: int = 500, progress=None
) -> Evaluation:
    """Read (N, 28, 28) images (uint8 or float in [0, 1]) with `predictor` the way the window
    reads a drawing (its card's calibration; the picture and its moved views averaged when the
    card uses them, kpgui.core.reading.confidence), so a test digit opened from the confusion
    matrix reads on the canvas as its cell says. `network_accuracy`: the network alone on each
    picture, what Keras' evaluate and the model card report. `progress(done, total)` is called
    after each batch, so a window can show how far it is.

    500 digits a batch (3 500 pictures with their views): measured on MNIST test with the
    window's one BLAS thread, 1.35 s and a peak of 108 MB, against 1.3-2.3 s and 271 MB in
    batches of 2 000, whose high-water mark the window process then kept (memory benchmark)."""
    from kpgui.core.reading.confidence import Calibration, predict_with_views, read_batch

    calibration = Calibration.from_card(predictor.card)
    n = len(images)
    labels = np.asarray(labels).reshape(-1)
    probs = np.zeros((n, 10), np.float32)
    alone = np.zeros(n, np.int64)
    for start in range(0, n, batch_size):
        raw, views = predict_with_views(
            predictor, as_model_input(images[start : start + batch_size]), calibration
        )
        probs[start : start + batch_size] = read_batch(raw, calibration, views)[0]
        alone[start : start + batch_size] = raw.argmax(axis=1)
        if progress is not None:
            progress(min(start + batch_size, n), n)
    pred = probs.argmax(axis=1)
    return Evaluation(
        float((pred == labels).mean()) if n else 0.0,
        confusion_matrix(labels, pred),
        pred,
        probs,
        float((alone == labels).mean()) if n else None,
    )


# Accuracies measured, remembered per predictor (weakly) and test set: after a run the current
# model is compared with the candidate, and is usually the one measured after the run before.
_MEASURED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def accuracy(predictor, images: np.ndarray, labels: np.ndarray) -> float | None:
    """Fraction of `images` read as `labels` (None for an empty set: nothing to measure), read
    the window's way (`evaluate`); remembered for this predictor and these images."""
    if len(labels) == 0:
        return None
    key = (
        hashlib.blake2b(np.ascontiguousarray(images).data).digest(),
        hashlib.blake2b(np.ascontiguousarray(labels).data).digest(),
    )
    from kpgui.core.reading.confidence import remembered_for

    memo = remembered_for(_MEASURED, predictor)
    if key not in memo:
        memo[key] = evaluate(predictor, images, labels).accuracy
    return memo[key]


NON_DIGIT_SEED = 900_003  # the benchmarks' seed namespace (benchmarks/handwriting.py), not a training seed
NON_DIGIT_COUNT = 200  # ~0.7 s to draw; enough for a rate to the nearest few percent


@lru_cache(maxsize=2)
def reference_non_digits(n: int = NON_DIGIT_COUNT, seed: int = NON_DIGIT_SEED) -> np.ndarray:
    """A fixed set of drawings that are not digits (letters, symbols, scribbles...), made by
    kpgui.core.data.synth.nondigits with a fixed seed: every model is measured on the same set.
    Drawn once per process (read-only)."""
    from kpgui.core.data.synth.nondigits import non_digits

    images = non_digits(n, seed)
    images.flags.writeable = False
    return images


def not_sure_rate(predictor, images: np.ndarray) -> float | None:
    """Fraction of `images` the model, with its own calibration, answers "not sure" for (on
    non-digits: the higher the better). None for an empty set."""
    from kpgui.core.reading.confidence import Calibration, predict_with_views, read_batch

    if len(images) == 0:
        return None
    calibration = Calibration.from_card(predictor.card)
    probs, views = predict_with_views(predictor, as_model_input(images), calibration)
    _q, sure = read_batch(probs, calibration, views)
    return float(1.0 - np.mean(sure))
