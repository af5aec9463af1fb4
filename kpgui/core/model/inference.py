"""Predicting digits from a saved model, fast, without importing TensorFlow when possible.

A `.keras` file is a zip of config.json and model.weights.h5. For networks made only of Dense,
Dropout, Activation, Flatten and Input layers we read those two files ourselves and run the
forward pass in NumPy: about 0.1 ms per drawing instead of ~50 ms for `model.predict`, and no
3-4 s TensorFlow import at start-up. Anything else falls back to Keras with safe_mode=True.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kpgui.core.model.cards import read_model_card
from kpgui.core.model.modelfile import (
    NotKerasZip,
    WeightProblem,
    check_config_size,
    check_weight_shapes,
    find_weight_problem,
    read_keras_zip,
    weight_datasets,
)
from kpgui.core.storage.bounded import (
    MAX_PARAMS,
    READ_ERRORS,
    BadInput,
    TooBig,
    millions,
)
from kpgui.core.storage.resources import default_model_path


class ModelLoadError(RuntimeError):
    """A model file cannot be used; the message says why in words a person can act on."""


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _erf(x: np.ndarray) -> np.ndarray:
    """Vectorised erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7): NumPy has none built in."""
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (
        ((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592
    ) * t * np.exp(-a * a)
    return np.sign(x) * y


def _gelu(z: np.ndarray) -> np.ndarray:
    # Keras' default gelu is the exact (erf) form, not the tanh approximation.
    return 0.5 * z * (1.0 + _erf(z / np.sqrt(2.0)))


def _gelu_grad(z: np.ndarray) -> np.ndarray:
    # d/dz [z * Phi(z)] = Phi(z) + z * phi(z)
    cdf = 0.5 * (1.0 + _erf(z / np.sqrt(2.0)))
    pdf = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    return (cdf + z * pdf).astype(z.dtype, copy=False)


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "softmax": _softmax,
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "selu": lambda z: (
        1.0507009873554805 * np.where(z > 0, z, 1.6732632423543772 * np.expm1(np.minimum(z, 0.0)))
    ),
    "swish": lambda z: z / (1.0 + np.exp(-z)),
    "silu": lambda z: z / (1.0 + np.exp(-z)),
    "gelu": _gelu,
}

# Derivatives of the activations w.r.t. their input, given the pre-activation z (for saliency).
ACTIVATION_GRADS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda z: np.ones_like(z),
    "relu": lambda z: (z > 0).astype(z.dtype),
    "sigmoid": lambda z: (s := 1.0 / (1.0 + np.exp(-z))) * (1.0 - s),
    "tanh": lambda z: 1.0 - np.tanh(z) ** 2,
    "elu": lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0))).astype(z.dtype),
    "selu": lambda z: (
        1.0507009873554805
        * np.where(z > 0, 1.0, 1.6732632423543772 * np.exp(np.minimum(z, 0.0))).astype(z.dtype)
    ),
    "swish": lambda z: (s := 1.0 / (1.0 + np.exp(-z))) * (1.0 + z * (1.0 - s)),
    "silu": lambda z: (s := 1.0 / (1.0 + np.exp(-z))) * (1.0 + z * (1.0 - s)),
    "gelu": _gelu_grad,
}


@dataclass
class DenseLayer:
    """One Dense layer as NumPy arrays: y = activation(x @ kernel + bias)."""

    kernel: np.ndarray  # (inputs, units) float32
    bias: np.ndarray  # (units,) float32
    activation: str


class _NotPlain(Exception):
    """The model has something the NumPy path does not run; use Keras instead."""


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _activation_name(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # a serialized activation object
        name = value.get("config", {}).get("name") or value.get("class_name", "")
        return str(name).lower()
    raise _NotPlain(f"activation {value!r}")


def _plain_layers(config: dict, weights: Any) -> list[DenseLayer]:
    """Dense layers of a plain Sequential model, read from its config and weights file."""
    if config.get("class_name") != "Sequential":
        raise _NotPlain(f"a {config.get('class_name')} model")
    layers: list[DenseLayer] = []
    input_size = None
    seen: dict[str, int] = {}
    for layer in config.get("config", {}).get("layers", []):
        kind = layer.get("class_name")
        cfg = layer.get("config", {})
        # The weights file names layers by class and position (dense, dense_1, ...), not by name.
        if kind != "InputLayer":
            count = seen.get(kind, 0)
            seen[kind] = count + 1
            key = _snake(kind) + (f"_{count}" if count else "")
        if kind == "InputLayer":
            shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
            input_size = int(np.prod([d for d in shape[1:]])) if shape else None
        elif kind == "Flatten" or kind == "Dropout":
            continue
        elif kind == "Activation":
            name = _activation_name(cfg.get("activation"))
            if name not in ACTIVATIONS or not layers or layers[-1].activation != "linear":
                raise _NotPlain(f"activation layer {name}")
            layers[-1].activation = name
        elif kind == "Dense":
            name = _activation_name(cfg.get("activation", "linear"))
            if name not in ACTIVATIONS:
                raise _NotPlain(f"activation {name}")
            group = weights.get(f"layers/{key}/vars")
            if group is None:
                raise ModelLoadError(f"the weights of layer {cfg['name']!r} are missing")
            kernel = np.asarray(group["0"], dtype=np.float32)
            if cfg.get("use_bias", True):
                bias = np.asarray(group["1"], dtype=np.float32)
            else:
                bias = np.zeros(kernel.shape[1], np.float32)
            if kernel.ndim != 2 or bias.shape != (kernel.shape[1],):
                raise ModelLoadError(f"layer {cfg['name']!r} has weights of the wrong shape")
            if layers and layers[-1].kernel.shape[1] != kernel.shape[0]:
                raise ModelLoadError(f"layer {cfg['name']!r} does not fit the layer before it")
            layers.append(DenseLayer(kernel, bias, name))
        else:
            raise _NotPlain(f"a {kind} layer")
        if cfg.get("dtype") not in (None, "float32") and not isinstance(cfg.get("dtype"), dict):
            raise _NotPlain(f"dtype {cfg.get('dtype')}")
    if not layers:
        raise _NotPlain("no Dense layers")
    if input_size is not None and input_size != layers[0].kernel.shape[0]:
        raise ModelLoadError("the input layer does not match the first Dense layer")
    return layers


def _check_io(inputs: int, outputs: int, where: str) -> None:
    if inputs != 784:
        raise ModelLoadError(
            f"{where} takes {inputs} inputs, but kpgui gives 28x28 = 784 pixels; "
            "open a model trained on MNIST-sized images."
        )
    if outputs != 10:
        raise ModelLoadError(
            f"{where} has {outputs} outputs, but a digit model needs 10 (one per digit 0-9)."
        )


_DIVERGED = "the run that made it diverged; retrain with a lower learning rate"
_TOO_BIG = (
    "kpgui opens digit models up to {limit} weights (its default model has 670 k); open a smaller model"
)
_DAMAGED = "it may be damaged; save models with model.save('name.keras')"


def _read_archive(p: Path) -> tuple[dict, Any]:
    """config.json parsed and model.weights.h5 unpacked, within limits; ModelLoadError else."""
    try:
        return read_keras_zip(p)
    except NotKerasZip as exc:
        raise ModelLoadError(
            f"{p.name} is a zip file but not a Keras 3 model (no config.json / "
            "model.weights.h5 inside); save models with model.save('name.keras')."
        ) from exc
    except TooBig as exc:
        raise ModelLoadError(
            f"{p.name}: {exc}. " + _TOO_BIG.format(limit=millions(MAX_PARAMS)) + "."
        ) from exc
    except BadInput as exc:
        raise ModelLoadError(f"{p.name}: {exc}; {_DAMAGED}.") from exc
    except zipfile.BadZipFile as exc:
        raise ModelLoadError(
            f"{p.name} is not a Keras model file (.keras files are zip archives; this one "
            f"is not, or it is truncated): {exc}"
        ) from exc
    except (*READ_ERRORS, zipfile.LargeZipFile) as exc:
        raise ModelLoadError(f"{p.name} could not be read ({exc}); it may be corrupt") from exc


def _read_weights(p: Path, config: dict, weights: Any, allow_keras: bool = True) -> list[DenseLayer] | None:
    """The Dense layers of a plain model, or None for one Keras must build (without
    `allow_keras`: ModelLoadError saying why and what works instead). Either way the config's
    size and the weights' claimed shapes and values are checked first."""
    try:
        import h5py

        check_config_size(config)
        with h5py.File(weights, "r") as h5:
            datasets = weight_datasets(h5)
            check_weight_shapes(datasets)
            problem = find_weight_problem(datasets)
            if problem is not None:
                raise ModelLoadError(_weight_message(p.name, problem))
            try:
                return _plain_layers(config, h5)
            except _NotPlain as why:
                if allow_keras:
                    return None
                raise ModelLoadError(needs_keras_message(p, str(why))) from None
    except ModelLoadError as exc:
        if str(exc).startswith(p.name):
            raise
        raise ModelLoadError(f"{p.name}: {exc}") from exc
    except TooBig as exc:
        raise ModelLoadError(
            f"{p.name}: {exc}. " + _TOO_BIG.format(limit=millions(MAX_PARAMS)) + "."
        ) from exc
    except BadInput as exc:
        raise ModelLoadError(f"{p.name}: {exc}; {_DAMAGED}.") from exc
    except (
        OSError,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        RuntimeError,
        OverflowError,
        MemoryError,
    ) as exc:  # what h5py/NumPy raise for a damaged file
        raise ModelLoadError(f"{p.name} has unreadable weights or config ({exc}); {_DAMAGED}.") from exc


def needs_keras_message(p: Path, why: str) -> str:
    """Why a model that only Keras can run is refused where TensorFlow is never loaded (the
    window), and what works instead."""
    return (
        f"{p.name} has {why}. kpgui reads dense models (Dense, Dropout, Flatten and "
        "Activation layers) in the window, in NumPy, so reading stays instant and TensorFlow "
        "is never loaded here. Read pictures with this model on the command line instead: "
        f"kpgui predict --model {p} picture.png (or kpgui evaluate --model {p}); or open a "
        "dense model, or train one in the Training tab."
    )


def _weight_message(name: str, problem: WeightProblem) -> str:
    if problem.kind == "nonfinite":
        return f"{name}: its weights contain NaN/infinite values (in {problem.where}) — {_DIVERGED}."
    return (
        f"{name}: its weights hold absurd values (up to {problem.peak:.3g} in {problem.where}) "
        f"that overflow to infinity when it predicts — {_DIVERGED}."
    )


def _probes() -> np.ndarray:
    """Inputs that bracket what the app feeds a model: blank, full ink, and random pictures."""
    rng = np.random.default_rng(0)
    return np.concatenate(
        [np.zeros((1, 784)), np.ones((1, 784)), rng.random((6, 784)), (rng.random((8, 784)) > 0.8)]
    ).astype(np.float32)


def _probe_layers(layers: list[DenseLayer], name: str) -> None:
    """Refuse weights that are finite but overflow to inf/NaN in the forward pass."""
    x = _probes()
    with np.errstate(all="ignore"):
        for layer in layers:
            z = x @ layer.kernel + layer.bias
            x = ACTIVATIONS[layer.activation](z)
            if not (np.isfinite(z).all() and np.isfinite(x).all()):
                raise ModelLoadError(
                    f"{name}: its weights are so large that its predictions overflow to "
                    f"infinity — {_DIVERGED}."
                )


def _probe_keras(model: Any, name: str) -> None:
    x = _probes()
    try:
        shape = tuple(model.inputs[0].shape[1:])
        out = np.asarray(model(x.reshape((len(x), *shape)), training=False), np.float64)
    except Exception as exc:  # any failure to predict means the model is unusable
        raise ModelLoadError(
            f"{name} loads but cannot predict ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})."
        ) from exc
    if not np.isfinite(out).all():
        raise ModelLoadError(f"{name}: its predictions are NaN or infinite — {_DIVERGED}.")


def _first_layer(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """x @ kernel, skipping the pixels that are blank in every picture: a drawn digit and its
    moved views leave most of the 784 pixels empty, so a drawing is read 2-3x faster; a big batch
    (most pixels inked somewhere) is multiplied as it is."""
    if len(x) > 64:
        return x @ kernel
    used = np.flatnonzero(x.any(axis=0))
    if len(used) > 0.6 * x.shape[1]:
        return x @ kernel
    return x[:, used] @ kernel[used]


def keras_dense(layer: Any) -> DenseLayer | None:
    """A Keras Dense layer's weights and activation as NumPy (any backend: get_weights copies);
    None for any other layer. An activation Keras cannot name (custom code) is "custom"."""
    import keras

    if not isinstance(layer, keras.layers.Dense):
        return None
    kernel, *rest = (np.asarray(w, np.float32) for w in layer.get_weights())
    bias = rest[0] if rest else np.zeros(kernel.shape[1], np.float32)
    act = keras.activations.serialize(layer.activation)
    return DenseLayer(kernel, bias, act if isinstance(act, str) else "custom")


class Predictor:
    """Digit probabilities from a model: `Predictor.load(path).predict(images) -> (N, 10)`."""

    def __init__(
        self,
        layers: list[DenseLayer] | None = None,
        keras_model: Any = None,
        path: Path | None = None,
        card: dict | None = None,
        name: str | None = None,
    ) -> None:
        if (layers is None) == (keras_model is None):
            raise ValueError("give exactly one of layers or keras_model")
        self.layers = layers
        self.keras_model = keras_model
        self.path = path
        self.card = card or {}
        self.name = name or (path.stem if path else "model")

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None, allow_keras: bool = True) -> Predictor:
        """Read a `.keras` file (None: the shipped default model). Raises ModelLoadError.

        `allow_keras=False` (the window) refuses, with a message naming the layer and what
        works instead, a model the NumPy path cannot run, rather than importing TensorFlow.

        Everything a forged or damaged file could make expensive is checked before it is paid
        for (see kpgui.core.model.modelfile); weights must be finite and sane; TensorFlow is imported
        only for models the NumPy path cannot run, and only after those checks.
        """
        p = Path(path) if path is not None else default_model_path()
        if not p.is_file():
            raise ModelLoadError(f"no model file at {p}")
        config, weights = _read_archive(p)
        card = read_model_card(p)
        with weights:
            layers = _read_weights(p, config, weights, allow_keras)
        if layers is None:
            return cls._load_with_keras(p, card)
        _check_io(layers[0].kernel.shape[0], layers[-1].kernel.shape[1], p.name)
        _probe_layers(layers, p.name)
        return cls(layers=layers, path=p, card=card)

    @classmethod
    def _load_with_keras(cls, p: Path, card: dict) -> Predictor:
        try:
            import keras

            model = keras.saving.load_model(p, compile=False, safe_mode=True)
        except MemoryError as exc:  # pragma: no cover - the checks before should prevent it
            raise ModelLoadError(
                f"{p.name}: the model does not fit in memory. Open a smaller model."
            ) from exc
        except Exception as exc:  # Keras raises many types for bad or unsafe files
            raise ModelLoadError(
                f"{p.name} could not be loaded safely by Keras ({exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}). Models with custom code or "
                "Lambda layers are refused for safety."
            ) from exc
        cls._check_keras_io(model, p.name)
        _probe_keras(model, p.name)
        return cls(keras_model=model, path=p, card=card)

    @staticmethod
    def _check_counts(model: Any, where: str) -> None:
        """One input and one output: a second output would otherwise go unchecked."""
        try:
            n_in, n_out = len(model.inputs), len(model.outputs)
        except (AttributeError, TypeError, ValueError) as exc:
            raise ModelLoadError(f"{where} has no defined input/output shape") from exc
        if n_in != 1:
            raise ModelLoadError(
                f"{where} has {n_in} inputs; a digit model has one input of "
                "784 pixels (28x28). Open a model trained on MNIST."
            )
        if n_out != 1:
            raise ModelLoadError(
                f"{where} has {n_out} outputs; a digit model has one output of "
                "10 (one per digit 0-9). Open a model trained on MNIST."
            )

    @classmethod
    def _check_keras_io(cls, model: Any, where: str) -> None:
        cls._check_counts(model, where)
        try:
            in_shape = tuple(model.inputs[0].shape[1:])
            out_shape = tuple(model.outputs[0].shape[1:])
        except (AttributeError, IndexError, TypeError) as exc:
            raise ModelLoadError(f"{where} has no defined input/output shape") from exc
        inputs = int(np.prod(in_shape)) if all(d is not None for d in in_shape) else -1
        outputs = int(np.prod(out_shape)) if all(d is not None for d in out_shape) else -1
        _check_io(inputs, outputs, where)

    @classmethod
    def from_keras(cls, model: Any, card: dict | None = None, name: str | None = None) -> Predictor:
        """Wrap an in-memory keras model (e.g. just trained); plain Dense nets run in NumPy.

        ModelLoadError when it is not a digit model (784 inputs, one output of 10)."""
        import keras

        cls._check_counts(model, name or "the model")
        dense = []
        plain = True
        for layer in model.layers:
            d = keras_dense(layer)
            if d is not None and d.activation in ACTIVATIONS:
                dense.append(d)
            elif not isinstance(layer, (keras.layers.Dropout, keras.layers.Flatten, keras.layers.InputLayer)):
                plain = False
                break
        if plain and dense:
            _check_io(dense[0].kernel.shape[0], dense[-1].kernel.shape[1], name or "the model")
            return cls(layers=dense, card=card, name=name)
        cls._check_keras_io(model, name or "the model")
        return cls(keras_model=model, card=card, name=name)

    # -- use ---------------------------------------------------------------------------------

    @property
    def backend(self) -> str:
        return "numpy" if self.layers is not None else "keras"

    def first_layer_kernel(self) -> np.ndarray | None:
        """The first Dense layer's kernel (784, units) as float32, or None when the model does
        not start with a Dense layer over the 784 pixels (what the Weights tab shows)."""
        if self.layers is not None:
            kernel = np.asarray(self.layers[0].kernel, np.float32)
            return kernel if kernel.shape[0] == 784 else None
        for layer in self.keras_model.layers:
            if layer.__class__.__name__ == "Dense":
                weights = layer.get_weights()
                if weights and np.asarray(weights[0]).shape[0] == 784:
                    return np.asarray(weights[0], np.float32)
                return None
        return None

    @property
    def test_accuracy(self) -> float | None:
        acc = self.card.get("test_accuracy")
        return float(acc) if acc is not None else None

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """(N, 28, 28) or (N, 784) float32 in [0, 1] -> (N, 10) float32 probabilities."""
        x = np.asarray(batch, dtype=np.float32)
        if x.ndim == 2 and x.shape == (28, 28):
            x = x[None]
        x = x.reshape(len(x), -1)
        if x.shape[1] != 784:
            raise ValueError(f"expected 28x28 images or 784 pixels per row, got {x.shape[1]}")
        rows = self._rows_per_pass()
        if len(x) > rows:  # in slices, so a wide model on a big batch stays within memory
            return np.concatenate([self.predict(x[i : i + rows]) for i in range(0, len(x), rows)])
        if self.layers is None:
            shape = tuple(self.keras_model.inputs[0].shape[1:])  # e.g. (784,) or (28, 28, 1)
            out = np.asarray(self.keras_model(x.reshape((len(x), *shape)), training=False), dtype=np.float32)
            return out.reshape(len(x), 10)
        for i, layer in enumerate(self.layers):
            z = _first_layer(x, layer.kernel) if i == 0 else x @ layer.kernel
            x = ACTIVATIONS[layer.activation](z + layer.bias)
        if self.layers[-1].activation != "softmax":
            x = _softmax(x)
        return x.astype(np.float32, copy=False)

    def _rows_per_pass(self) -> int:
        """Pictures per forward pass: about 16 M numbers in the widest layer (default model:
        32 768 pictures, so evaluation on MNIST's 10 000 is one pass)."""
        if self.layers is None:
            return 1024
        widest = max(max(layer.kernel.shape) for layer in self.layers)
        return max(1, 16_000_000 // widest)

    def predict_one(self, image: np.ndarray) -> np.ndarray:
        """(28, 28) image -> (10,) probabilities."""
        return self.predict(np.asarray(image, np.float32).reshape(1, 784))[0]
