"""Which pixels made the network say what it says: live saliency maps, in NumPy.

For the plain Dense networks kpgui runs in NumPy, the gradient of a class score with respect to
the 784 input pixels is one forward pass plus a backward pass of matrix-vector products:
~0.1 ms for 784-512-512-10, so it can be redrawn on every pen move, like the prediction itself.

The score is the target class's pre-softmax logit, not its probability or log-probability:
* the probability saturates (a confident 0.999 has a near-zero gradient, so the map goes blank
  exactly when the network is most sure), and
* the log-probability's gradient is the logit's minus the probability-weighted mean of all
  logits' gradients, so it mixes in evidence *against the other digits*; the logit's gradient
  answers the plainer question a person asks: which ink made it think "this is a 7".

Methods: "gradient" = |d logit / d pixel| (where a change would matter most, ink or not);
"gradient_x_input" = positive part of gradient * pixel (the ink that pushed towards the class;
empty background contributes nothing, which reads best under a drawing).
Qt-free and TensorFlow-free.
"""

from __future__ import annotations

import numpy as np

from kpgui.core.model.inference import ACTIVATION_GRADS, ACTIVATIONS, DenseLayer, Predictor

METHODS = ("gradient", "gradient_x_input")


_GRADS = ACTIVATION_GRADS


def _check(layers: list[DenseLayer], image: np.ndarray) -> np.ndarray:
    if not layers:
        raise ValueError("saliency needs at least one Dense layer")
    x = np.asarray(image)
    if x.size != 784:
        raise ValueError(f"expected a 28x28 image (784 pixels), got shape {x.shape}")
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float32)
    return x.reshape(784)


def logits_and_gradient(
    layers: list[DenseLayer], image: np.ndarray, target: int | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """(scores (10,), d score[target] / d pixels (28, 28), target) in one forward+backward pass.

    `scores` are the pre-softmax values (softmax of them = the prediction). `target` None means
    the top class. Computed in the layers' dtype (float32 for loaded models; float64 layers
    give float64, which the finite-difference test uses).
    """
    x = _check(layers, image)
    last = layers[-1]
    # Hidden layers: remember pre-activations for the backward pass.
    zs = []
    h = x
    for layer in layers[:-1]:
        if layer.activation not in _GRADS:
            raise ValueError(f"saliency cannot differentiate a {layer.activation!r} hidden layer")
        z = h @ layer.kernel + layer.bias
        zs.append(z)
        h = ACTIVATIONS[layer.activation](z)
    # The output layer: its softmax (applied by the layer or by Predictor) is left out.
    z_out = h @ last.kernel + last.bias
    if last.activation == "softmax":
        scores = z_out
        g_out = None  # d score_t / d z_out = one-hot
    else:
        if last.activation not in _GRADS:
            raise ValueError(f"saliency cannot differentiate a {last.activation!r} output layer")
        scores = ACTIVATIONS[last.activation](z_out)
        g_out = _GRADS[last.activation](z_out)
    t = int(np.argmax(scores)) if target is None else int(target)
    if not 0 <= t < scores.shape[-1]:
        raise ValueError(f"target must be a class 0-{scores.shape[-1] - 1}, got {target}")
    g = last.kernel[:, t] if g_out is None else last.kernel[:, t] * g_out[t]
    for layer, z in zip(reversed(layers[:-1]), reversed(zs), strict=True):
        g = g * _GRADS[layer.activation](z)
        g = layer.kernel @ g
    return scores, g.reshape(28, 28), t


def saliency(
    layers: list[DenseLayer], image: np.ndarray, target: int | None = None, method: str = "gradient_x_input"
) -> np.ndarray:
    """(28, 28) float32 map >= 0, finite, of how much each pixel drives the target class.

    `target` None = the predicted (top) class. `method`: "gradient_x_input" (default; the ink
    that pushed towards the class) or "gradient" (|gradient|). Not normalised: divide by
    `.max()` for display if wanted (the raw scale lets maps of one drawing be compared).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    return predict_with_saliency(layers, image, target, method)[1]


def saliency_for(
    predictor: Predictor, image: np.ndarray, target: int | None = None, method: str = "gradient_x_input"
) -> np.ndarray | None:
    """saliency() for a Predictor; None when it runs in Keras (no cheap live gradient there:
    a TensorFlow gradient costs ~50 ms, too slow to follow the pen)."""
    layers = predictor.layers
    if not layers:
        return None
    if not supports(layers):
        return None  # an activation we cannot differentiate: no map rather than an error
    return saliency(layers, image, target, method)


def supports(layers: list[DenseLayer] | None) -> bool:
    """True when saliency() can differentiate every layer (the GUI can grey out its toggle)."""
    if not layers:
        return False
    hidden_ok = all(layer.activation in _GRADS for layer in layers[:-1])
    return hidden_ok and (layers[-1].activation in _GRADS or layers[-1].activation == "softmax")


def predict_with_saliency(
    layers: list[DenseLayer], image: np.ndarray, target: int | None = None, method: str = "gradient_x_input"
) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities (10,) float32, saliency (28, 28)) from ONE forward pass: the GUI's live
    path, so showing the map costs only the backward pass on top of the prediction.
    Probabilities equal Predictor.predict_one's."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    scores, grad, _ = logits_and_gradient(layers, image, target)
    e = np.exp(scores - scores.max())
    probs = (e / e.sum()).astype(np.float32)
    if method == "gradient":
        out = np.abs(grad)
    else:
        out = np.maximum(grad * _check(layers, image).reshape(28, 28), 0.0)
    out = out.astype(np.float32, copy=False)
    if not np.isfinite(out).all():  # overflow in a pathological model: show nothing, not NaN
        out = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
    return probs, out
