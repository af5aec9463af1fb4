"""The one place Keras networks are built and compiled. Keras is imported here, never at start-up.

`build_model(spec)` makes a new network; `model_from_layers(layers, spec)` rebuilds one from the
NumPy weights of a loaded model (to fine-tune or continue it); `compile_model(model, spec)`
gives either its optimizer and loss. All three follow the spec, so a fine-tuned network is the
same kind of network as a trained one. `training_model(model, spec)` is what `fit` trains: the
network itself, or with the spec's augmentation in front of the same layers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from kpgui.core.model.spec import ModelSpec

if TYPE_CHECKING:  # pragma: no cover
    import keras


def make_optimizer(spec: ModelSpec, steps_total: int | None = None):
    """The optimizer named by the spec, with its learning rate (and cosine decay when asked)."""
    import keras

    lr = spec.learning_rate
    if spec.lr_schedule == "cosine" and steps_total:
        lr = keras.optimizers.schedules.CosineDecay(spec.learning_rate, steps_total, alpha=0.01)
    if spec.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=0.9, nesterov=True)
    if spec.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=lr)
    return keras.optimizers.RMSprop(learning_rate=lr)


def compile_model(model: keras.Model, spec: ModelSpec, steps_total: int | None = None) -> keras.Model:
    """Give `model` the spec's optimizer, categorical cross-entropy (soft targets allowed, so
    non-digits can be taught as 'equally unlike every digit') and accuracy."""
    import keras

    model.compile(
        optimizer=make_optimizer(spec, steps_total),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=spec.label_smoothing),
        metrics=["accuracy"],
    )
    return model


def _sequential(spec: ModelSpec, units: list[int], activations: list[str]) -> keras.Model:
    import keras

    layers: list = [keras.Input(shape=(784,), name="pixels")]
    for n, act in zip(units[:-1], activations[:-1], strict=True):
        layers.append(keras.layers.Dense(n, activation=act))
        if spec.dropout > 0:
            layers.append(keras.layers.Dropout(spec.dropout))
    layers.append(keras.layers.Dense(units[-1], activation=activations[-1]))
    return keras.Sequential(layers, name="kpgui_dense")


def build_model(spec: ModelSpec | None = None, steps_total: int | None = None) -> keras.Model:
    """Compiled Sequential network: 784 inputs, the spec's hidden Dense layers, 10-way softmax.

    The default spec gives the classic Sequential([Dense(512, relu), Dense(512, relu),
    Dense(10, softmax)]) with categorical cross-entropy and accuracy.
    """
    import keras

    spec = (spec or ModelSpec()).validate()
    if spec.seed is not None:
        keras.utils.set_random_seed(spec.seed)
    model = _sequential(spec, [*spec.hidden, 10], [spec.activation] * len(spec.hidden) + ["softmax"])
    return compile_model(model, spec, steps_total)


def model_from_layers(layers: list[Any], spec: ModelSpec) -> keras.Model:
    """A Keras network (not yet compiled: the Trainer compiles it for its run) with these Dense
    layers' weights (Predictor.layers: kernel, bias, activation) and Dropout as the spec says:
    the starting point of a fine-tune or of "continue training"."""
    import keras

    if spec.seed is not None:
        keras.utils.set_random_seed(spec.seed)
    model = _sequential(spec, [int(d.kernel.shape[1]) for d in layers], [d.activation for d in layers])
    weights: list[np.ndarray] = []
    for d in layers:
        weights += [np.asarray(d.kernel, np.float32), np.asarray(d.bias, np.float32)]
    model.set_weights(weights)
    return model


def training_model(model: keras.Model, spec: ModelSpec) -> keras.Model:
    """What `fit` trains for `model` (compiled): the model itself, or, when the spec augments
    (--augment, --elastic), a Sequential of the augmentation layer (kpgui.core.data.augment) and the
    very same layers, compiled with the model's own optimizer and loss. Training it trains
    `model`; the augmentation runs inside the compiled train step, is the identity when
    validating, and never enters `model`, so the saved network and its card stay the plain one.
    Callbacks see the wrapper as their `model`: its weights are the network's (the augmentation has
    none; its seed state is not a weight), so EarlyStopping's best weights and the layer stats
    (the Dense layers of `model.layers`) are the network's."""
    if not (spec.augment or spec.elastic):
        return model
    import keras

    from kpgui.core.data.augment import ELASTIC_ALPHA, make_augment

    # spec.elastic is a 0-1 strength; 1 = Simard et al.'s alpha for 28x28 digits.
    augment = make_augment(elastic=spec.elastic * ELASTIC_ALPHA, seed=spec.seed)
    # A Sequential's layers are shared one by one (callbacks then find its Dense layers); any
    # other model (a Keras-backed one being fine-tuned) is called whole.
    layers = model.layers if isinstance(model, keras.Sequential) else [model]
    wrapper = keras.Sequential(
        [keras.Input(shape=(784,), name="pixels"), augment, *layers], name=f"{model.name}_augmented"
    )
    wrapper.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"])
    return wrapper
