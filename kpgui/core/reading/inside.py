"""Inside the network: every layer's activations on one drawing, and the path to its answer.

For the plain Dense networks kpgui runs in NumPy (kpgui.core.model.inference.DenseLayer), all of it is
a few matrix-vector products on the weights the Predictor already holds: about a millisecond for
784-512-512-10, so the Inside tab can follow the pen. Qt-free and TensorFlow-free.

What the numbers mean (the definitions the tests check against a plain computation):

* **activation** a_j of hidden unit j: the layer's output for this image, activation(x @ W + b).
* **zero unit**: a_j == 0 exactly for this image (a ReLU that is off); **dead unit**: one that is
  zero for *every* MNIST test image (known once `excitement()` has run over the test set).
* **contribution to the winning digit** w (the path to the answer). The winner's logit is
  z_w = sum_j a_j * W[j, w] + b_w over the last hidden layer, so unit j of that layer adds
  c_j = a_j * W[j, w]. Its **share** is its part of the positive contributions:
  share_j = max(c_j, 0) / sum_k max(c_k, 0) (the units that pushed *for* the answer; the shares
  of a layer add up to 1). Earlier layers pass each unit's share down in proportion to what they
  gave it: unit i of the layer below receives
  share_i = sum_j share_j * max(a_i * W[i, j], 0) / sum_k max(a_k * W[k, j], 0)
  (a unit that adds nothing positive to anyone gets 0; the shares still add up to 1 when every
  receiving unit had some positive input). This is layer-wise relevance propagation's z+ rule,
  applied to shares of the winning logit.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from kpgui.core.model.inference import ACTIVATIONS, DenseLayer, Predictor

TOP_UNITS = 5  # how many contributing units per layer are named
TOP_IMAGES = 9  # how many exciting test images per unit are kept


class NotDense(ValueError):
    """The model is not a plain Dense network read into NumPy: nothing to show inside."""


def dense_layers(predictor: Predictor) -> list[DenseLayer]:
    """The predictor's Dense layers; NotDense (with the reason in words) when it runs in Keras."""
    layers = predictor.layers
    if not layers:
        raise NotDense(
            "this model runs in Keras (it has layers other than Dense, Dropout and "
            "Flatten), so kpgui cannot show its inside; open or train a Dense model"
        )
    return layers


def forward(layers: list[DenseLayer], image: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """(hidden activations, one (units,) array per hidden layer; output logits (10,)).

    The logits are the output layer's pre-softmax values (x @ W + b); their softmax is what
    Predictor.predict_one gives. An output layer with another activation gives its output."""
    x = np.asarray(image, np.float32).reshape(784)
    hidden = []
    for layer in layers[:-1]:
        x = ACTIVATIONS[layer.activation](x @ layer.kernel + layer.bias)
        hidden.append(x)
    last = layers[-1]
    z = x @ last.kernel + last.bias
    if last.activation not in ("softmax", "linear"):
        z = ACTIVATIONS[last.activation](z)
    return hidden, z


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - np.max(z))
    return e / e.sum()


def contributions(layers: list[DenseLayer], hidden: list[np.ndarray], winner: int) -> list[np.ndarray]:
    """Each hidden layer's share (units,) of the winning logit (see the module docstring).

    Shares are >= 0 and each layer's add up to 1 (or are all 0 when nothing pushed for the
    winner)."""
    if not hidden:
        return []
    out: list[np.ndarray] = [np.zeros(0)] * len(hidden)
    c = hidden[-1] * layers[-1].kernel[:, winner]
    share = _shares(np.maximum(c, 0.0))
    out[-1] = share
    for k in range(len(hidden) - 2, -1, -1):
        # max(a_i * W_ij, 0) = a+_i * W+_ij + a-_i * W-_ij (positive and negative parts), so
        # what each unit gave and received is four matrix-vector products, not a matrix.
        a = hidden[k].astype(np.float32, copy=False)
        w_pos, w_neg = _signed_parts(layers[k + 1].kernel)
        a_pos, a_neg = np.maximum(a, 0.0), np.minimum(a, 0.0)
        received = a_pos @ w_pos + a_neg @ w_neg
        ratio = np.where(received > 0, share / np.where(received > 0, received, 1.0), 0.0)
        ratio = ratio.astype(np.float32)
        share = a_pos * (w_pos @ ratio) + a_neg * (w_neg @ ratio)
        out[k] = share.astype(np.float32, copy=False)
    return out


_PARTS: dict[int, tuple[Any, np.ndarray, np.ndarray]] = {}


def _signed_parts(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(max(W, 0), min(W, 0)) of a kernel, kept while the kernel lives (one per model layer)."""
    known = _PARTS.get(id(kernel))
    if known is not None and known[0]() is kernel:
        return known[1], known[2]
    parts = (np.maximum(kernel, 0.0), np.minimum(kernel, 0.0))
    key = id(kernel)
    _PARTS[key] = (weakref.ref(kernel, lambda _r: _PARTS.pop(key, None)), *parts)
    return parts


def _shares(positive: np.ndarray) -> np.ndarray:
    total = float(positive.sum())
    return (positive / total if total > 0 else np.zeros_like(positive)).astype(np.float32)


@dataclass(frozen=True)
class LayerView:
    """One hidden layer on one image."""

    activations: np.ndarray  # (units,)
    zero: np.ndarray  # (units,) bool: exactly 0 for this image
    share: np.ndarray  # (units,) share of the winning logit (sums to 1)
    top: tuple[int, ...]  # the units with the largest share, largest first (share > 0 only)
    activation: str  # the layer's activation function's name


@dataclass(frozen=True)
class InsideView:
    """Everything the Inside tab shows for one image: layers, outputs, the winner."""

    image: np.ndarray  # (28, 28) the input
    layers: tuple[LayerView, ...]  # the hidden layers, first to last
    logits: np.ndarray  # (10,)
    probabilities: np.ndarray  # (10,) raw (uncalibrated) softmax, as Predictor gives
    winner: int


def look_inside(
    layers: list[DenseLayer], image: np.ndarray, top: int = TOP_UNITS, winner: int | None = None
) -> InsideView:
    """Every layer on `image` and the units that carried its answer (`winner`: default the
    network's top digit)."""
    img = np.asarray(image, np.float32).reshape(28, 28)
    hidden, logits = forward(layers, img)
    probs = softmax(logits.astype(np.float64)).astype(np.float32)
    w = int(np.argmax(logits)) if winner is None else int(winner)
    shares = contributions(layers, hidden, w)
    views = []
    for a, share, layer in zip(hidden, shares, layers[:-1], strict=True):
        order = np.argsort(-share, kind="stable")[:top]
        views.append(
            LayerView(a, a == 0, share, tuple(int(u) for u in order if share[u] > 0), layer.activation)
        )
    return InsideView(img, tuple(views), logits, probs, w)


@dataclass(frozen=True)
class Incoming:
    """What a unit listens to. Layer 0: its 784 weights as a 28x28 picture. Deeper layers: the
    units of the first hidden layer it weights most (through the layers between, by the
    product of weights), each with that weight and its own 28x28 picture."""

    layer: int
    unit: int
    picture: np.ndarray | None  # (28, 28) for the first layer
    via: tuple[tuple[int, float, np.ndarray], ...]  # (first-layer unit, weight, picture)


def incoming(layers: list[DenseLayer], layer: int, unit: int, count: int = 6) -> Incoming:
    """The incoming weights of hidden unit `unit` of hidden layer `layer` (0 = first)."""
    if not 0 <= layer < len(layers) - 1:
        raise ValueError(f"layer must be a hidden layer 0-{len(layers) - 2}, got {layer}")
    if not 0 <= unit < layers[layer].kernel.shape[1]:
        raise ValueError(f"layer {layer} has {layers[layer].kernel.shape[1]} units, not {unit + 1}")
    first = layers[0].kernel
    if layer == 0:
        return Incoming(0, unit, first[:, unit].reshape(28, 28).copy(), ())
    w = layers[layer].kernel[:, unit]
    for k in range(layer - 1, 0, -1):  # chain the weights back to the first hidden layer
        w = layers[k].kernel @ w
    order = np.argsort(-np.abs(w), kind="stable")[:count]
    via = tuple((int(i), float(w[i]), first[:, i].reshape(28, 28).copy()) for i in order)
    return Incoming(layer, unit, None, via)


@dataclass(frozen=True)
class Excitement:
    """Over a set of images (the MNIST test set): for each hidden layer, the images that excite
    each unit most and how often each unit is non-zero."""

    top: tuple[np.ndarray, ...]  # per layer (units, k) image indices, most exciting first
    peak: tuple[np.ndarray, ...]  # per layer (units,) largest activation seen
    active: tuple[np.ndarray, ...]  # per layer (units,) share of images where it is not 0

    def dead(self, layer: int) -> np.ndarray:
        """(units,) bool: exactly zero for every image: a unit that never fires."""
        return self.active[layer] == 0


def excitement(
    layers: list[DenseLayer],
    images: np.ndarray,
    k: int = TOP_IMAGES,
    batch: int = 1000,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Excitement | None:
    """Run `images` ((N, 28, 28) uint8 or float in [0, 1]) through the hidden layers in batches
    and keep, per unit, the `k` images with the largest activation. None when cancelled."""
    x_all = np.asarray(images)
    n = len(x_all)
    scale = 1.0 / 255.0 if x_all.dtype == np.uint8 else 1.0
    k = max(1, min(k, n))
    hidden = layers[:-1]
    best_val = [np.full((layer.kernel.shape[1], k), -np.inf, np.float32) for layer in hidden]
    best_idx = [np.zeros((layer.kernel.shape[1], k), np.int64) for layer in hidden]
    active = [np.zeros(layer.kernel.shape[1], np.int64) for layer in hidden]
    for start in range(0, n, batch):
        if cancelled():
            return None
        x = x_all[start : start + batch].reshape(-1, 784).astype(np.float32) * scale
        for li, layer in enumerate(hidden):
            x = ACTIVATIONS[layer.activation](x @ layer.kernel + layer.bias)
            active[li] += np.count_nonzero(x, axis=0)
            vals = np.concatenate([best_val[li], x.T], axis=1)  # (units, k + b)
            idx = np.concatenate(
                [best_idx[li], np.broadcast_to(np.arange(start, start + len(x)), (x.shape[1], len(x)))],
                axis=1,
            )
            keep = np.argpartition(-vals, k - 1, axis=1)[:, :k]
            best_val[li] = np.take_along_axis(vals, keep, axis=1)
            best_idx[li] = np.take_along_axis(idx, keep, axis=1)
        if progress is not None:
            progress(min(start + batch, n), n)
    tops, peaks = [], []
    for val, idx in zip(best_val, best_idx, strict=True):
        order = np.argsort(-val, axis=1, kind="stable")
        tops.append(np.take_along_axis(idx, order, axis=1))
        peaks.append(val.max(axis=1) if n else np.zeros(len(val), np.float32))
    return Excitement(tuple(tops), tuple(peaks), tuple(a / max(n, 1) for a in active))


def grid_shape(units: int) -> tuple[int, int]:
    """(rows, columns) of the grid a layer is drawn as: about twice as wide as tall
    (512 -> 16 x 32, 64 -> 5 x 13: every unit fits)."""
    if units <= 0:
        return 0, 0
    rows = max(1, int(np.floor(np.sqrt(units / 2))))
    cols = int(np.ceil(units / rows))
    return rows, cols
