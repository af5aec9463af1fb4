"""Measuring a model on MNIST test reads each digit the way the window reads a drawing (the card's
views averaged), so the Evaluation tab, `kpgui evaluate` and the candidate's comparison agree with
what the canvas shows; the network alone is reported beside it."""

from __future__ import annotations

import numpy as np

from kpgui.core.model.evaluation import accuracy, evaluate
from kpgui.core.model.inference import Predictor
from kpgui.core.reading.confidence import Calibration, read_images


class _Counting(Predictor):
    rows = 0

    def predict(self, batch):
        type(self).rows += len(batch)
        return super().predict(batch)


def test_evaluation_reads_the_test_digits_as_the_window_does(mnist):
    shipped = Predictor.load()
    assert Calibration.from_card(shipped.card).uses_views
    x, y = mnist[2][:600], mnist[3][:600]
    ev = evaluate(shipped, x, y, batch_size=250)
    window = [
        r.digit
        for r in read_images(shipped, x.astype(np.float32) / 255.0, Calibration.from_card(shipped.card))
    ]
    assert ev.predictions.tolist() == window
    assert ev.accuracy == np.mean(np.asarray(window) == y)
    alone = np.argmax(shipped.predict(x.reshape(-1, 784).astype(np.float32) / 255.0), axis=1)
    assert ev.network_accuracy == np.mean(alone == y)
    assert np.array_equal(ev.confusion.sum(axis=1), np.bincount(y, minlength=10))


def test_an_accuracy_is_measured_once_per_model_and_test_set(mnist):
    shipped = Predictor.load()
    model = _Counting(layers=shipped.layers, card=shipped.card, name="counting")
    x, y = mnist[2][:300], mnist[3][:300]
    _Counting.rows = 0
    first = accuracy(model, x, y)
    measured = _Counting.rows
    assert measured >= 300 and accuracy(model, x.copy(), y.copy()) == first and _Counting.rows == measured
    assert accuracy(model, x[:100], y[:100]) is not None and _Counting.rows > measured  # other digits
    other = _Counting(layers=shipped.layers, card=shipped.card, name="another")
    before = _Counting.rows
    assert accuracy(other, x, y) == first and _Counting.rows > before  # another model: measured
    assert accuracy(model, x[:0], y[:0]) is None
