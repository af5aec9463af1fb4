"""Saliency: the manual backward pass is the true gradient, and the map shows the drawn ink."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kpgui.core.model.inference import ACTIVATIONS, DenseLayer, Predictor
from kpgui.core.reading.preprocess import strokes_to_mnist
from kpgui.core.reading.saliency import (
    logits_and_gradient,
    predict_with_saliency,
    saliency,
    saliency_for,
    supports,
)

HIDDEN_ACTIVATIONS = ["relu", "tanh", "sigmoid", "elu", "selu", "swish", "gelu"]


def _layers(act: str, dtype=np.float64, sizes=(784, 40, 30, 10), last="softmax", seed=0):
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        kernel = rng.normal(0, 1.5 / np.sqrt(a), (a, b)).astype(dtype)
        bias = rng.normal(0, 0.1, b).astype(dtype)
        layers.append(DenseLayer(kernel, bias, last if i == len(sizes) - 2 else act))
    return layers


def _gelu64(z):
    # inference's gelu computes in float32; finite differences need float64 throughout
    return 0.5 * z * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))


def _score(layers, x, t):
    """The target's pre-softmax score, straight from the forward definition."""
    h = x.reshape(784)
    for layer in layers[:-1]:
        act = _gelu64 if layer.activation == "gelu" else ACTIVATIONS[layer.activation]
        h = act(h @ layer.kernel + layer.bias)
    z = h @ layers[-1].kernel + layers[-1].bias
    return (z if layers[-1].activation == "softmax" else ACTIVATIONS[layers[-1].activation](z))[t]


def _digit_image() -> np.ndarray:
    """A drawn loop with a tail (a 9-ish digit), made the way the canvas makes images."""
    angle = np.linspace(0, 2 * np.pi, 60)
    loop = np.stack([150 + 60 * np.cos(angle), 120 + 60 * np.sin(angle)], axis=1)
    tail = np.stack([np.full(40, 210.0), np.linspace(120, 330, 40)], axis=1)
    return strokes_to_mnist([loop, tail], pen_width=12.0)


@pytest.mark.parametrize("act", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("last", ["softmax", "linear"])
def test_gradient_matches_finite_differences(act, last):
    layers = _layers(act, last=last)
    x = np.random.default_rng(1).random(784)
    t = 3
    grad = logits_and_gradient(layers, x, target=t)[1].reshape(784)
    assert grad.dtype == np.float64
    eps = 1e-5
    pixels = np.random.default_rng(2).choice(784, 40, replace=False)
    for p in pixels:
        up, down = x.copy(), x.copy()
        up[p] += eps
        down[p] -= eps
        fd = (_score(layers, up, t) - _score(layers, down, t)) / (2 * eps)
        # gelu's derivative uses a 1.5e-7-accurate erf; the rest are exact up to rounding.
        assert grad[p] == pytest.approx(fd, rel=1e-5, abs=1e-6), (act, p)


def test_target_none_is_top_class_and_scores_match_predictor():
    layers = _layers("relu", np.float32)
    x = np.random.default_rng(3).random((28, 28)).astype(np.float32)
    scores, grad, t = logits_and_gradient(layers, x)
    probs = Predictor(layers=layers).predict_one(x)
    assert t == int(np.argmax(probs))
    e = np.exp(scores - scores.max())
    np.testing.assert_allclose(e / e.sum(), probs, rtol=1e-5, atol=1e-7)
    p2, sal = predict_with_saliency(layers, x)
    np.testing.assert_allclose(p2, probs, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(sal, saliency(layers, x))
    assert not np.array_equal(logits_and_gradient(layers, x, target=(t + 1) % 10)[1], grad)


@pytest.mark.slow  # needs TensorFlow: its import alone takes seconds
def test_gradient_matches_tensorflow_on_a_real_model(small_model_path):
    import keras
    import tensorflow as tf

    predictor = Predictor.load(small_model_path)
    assert predictor.backend == "numpy"
    model = keras.saving.load_model(small_model_path, compile=False)
    dense = [layer for layer in model.layers if layer.__class__.__name__ == "Dense"]
    images = np.stack([_digit_image(), np.random.default_rng(4).random((28, 28))])
    for image in images.astype(np.float32):
        x = tf.constant(image.reshape(1, 784))
        for target in (None, 0, 7):
            with tf.GradientTape() as tape:
                tape.watch(x)
                h = x
                for layer in dense[:-1]:
                    h = layer(h)
                logits = tf.matmul(h, dense[-1].kernel) + dense[-1].bias  # before the softmax
                t = int(tf.argmax(logits[0])) if target is None else target
                score = logits[0, t]
            expected = tape.gradient(score, x).numpy().reshape(28, 28)
            got = logits_and_gradient(predictor.layers, image, target)[1]
            np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)
            np.testing.assert_allclose(
                saliency(predictor.layers, image, target, "gradient"), np.abs(expected), atol=1e-4, rtol=1e-4
            )


def test_saliency_is_on_the_drawn_ink(small_predictor):
    predictor = small_predictor
    image = _digit_image()
    ink = image > 0.5
    empty = image == 0
    assert ink.sum() > 30 and empty.sum() > 300
    for method in ("gradient_x_input", "gradient"):
        sal = saliency_for(predictor, image, method=method)
        assert sal.shape == (28, 28) and sal.dtype == np.float32
        assert np.isfinite(sal).all() and (sal >= 0).all() and sal.max() > 0
        if method == "gradient_x_input":
            assert sal[ink].mean() > 5 * sal[empty].mean()  # background gets ~nothing
            assert sal[empty].max() == 0
    # The plain gradient also lives on and near the ink, not uniformly everywhere:
    grad = saliency(predictor.layers, image, method="gradient")
    near = image > 0
    assert grad[near].mean() > grad[~near].mean()


def test_bad_arguments_and_keras_predictors():
    layers = _layers("relu", np.float32)
    x = np.zeros((28, 28), np.float32)
    with pytest.raises(ValueError, match="method"):
        saliency(layers, x, method="magic")
    with pytest.raises(ValueError, match="28x28"):
        saliency(layers, np.zeros(100))
    with pytest.raises(ValueError, match="target"):
        saliency(layers, x, target=10)
    sal = saliency(layers, x)  # an empty canvas: all zeros, no NaN
    assert np.isfinite(sal).all() and sal.max() == 0

    class KerasBacked:
        layers = None

    assert saliency_for(KerasBacked(), x) is None
    odd = _layers("relu", np.float32)
    odd[0].activation = "softmax"  # softmax as a hidden layer cannot be differentiated here
    assert not supports(odd) and saliency_for(Predictor(layers=odd), x) is None
    assert supports(layers)
