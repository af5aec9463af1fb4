"""Building the Keras network a ModelSpec describes. Keras is imported here, never at start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kpgui.core.spec import ModelSpec

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


def build_model(spec: ModelSpec | None = None, steps_total: int | None = None) -> keras.Model:
    """Compiled Sequential network: 784 inputs, the spec's hidden Dense layers, 10-way softmax.

    The default spec gives the classic Sequential([Dense(512, relu), Dense(512, relu),
    Dense(10, softmax)]) with categorical cross-entropy and accuracy.
    """
    import keras

    spec = (spec or ModelSpec()).validate()
    if spec.seed is not None:
        keras.utils.set_random_seed(spec.seed)
    layers: list = [keras.Input(shape=(784,), name="pixels")]
    for units in spec.hidden:
        layers.append(keras.layers.Dense(units, activation=spec.activation))
        if spec.dropout > 0:
            layers.append(keras.layers.Dropout(spec.dropout))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers, name="kpgui_dense")
    model.compile(
        optimizer=make_optimizer(spec, steps_total),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=spec.label_smoothing),
        metrics=["accuracy"],
    )
    return model
