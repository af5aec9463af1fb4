"""A run as a plain Keras script, in the primer's four steps: data, model, compile, fit.

The script uses only Keras, NumPy and the MNIST file, and builds the same network kpgui builds
(kpgui.core.model.network: Dense layers with Keras' default initialisers, Dropout after each hidden
layer, the same optimizer settings) and trains it the way kpgui.core.training.trainer.Trainer does
(pixels / 255 as float32, the first --train-samples images, the last validation-split part held
out, one-hot targets, shuffled batches, EarlyStopping restoring the best weights). With the
run's seed it starts from the same weights. What a plain script cannot do (augmentation,
elastic distortion, drawn styles, re-stroked MNIST, non-digits, starting from another model)
is named in a comment, so a learner knows why the numbers may differ.

No Keras is imported here: this is text, made in the window's process too.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kpgui.core.model.options import BY_NAME
from kpgui.core.model.spec import ModelSpec

MNIST_TRAIN_IMAGES = 60_000

_OPTIMIZER = {  # exactly what kpgui.core.model.network.make_optimizer builds
    "sgd": "keras.optimizers.SGD(learning_rate={lr}, momentum=0.9, nesterov=True)",
    "rmsprop": "keras.optimizers.RMSprop(learning_rate={lr})",
    "adam": "keras.optimizers.Adam(learning_rate={lr})",
}


def mnist_path(data_path: str | None = None) -> str:
    """The MNIST file the script should load: the one kpgui uses, else the Keras cache."""
    from kpgui.core.data.mnist import DatasetError, find_mnist, keras_cache_path

    try:
        found = find_mnist(data_path)
    except DatasetError:
        found = None
    return str(found or keras_cache_path())


def _extras(spec: ModelSpec, kind: str) -> list[str]:
    """What kpgui did in this run that the plain script leaves out, one line each."""
    out = []
    if kind == "finetune":
        out.append(
            "it fine-tuned an earlier model on your own handwriting (this script starts "
            "from fresh weights on MNIST only)"
        )
    elif kind == "continue":
        out.append("it continued training an earlier model (this script starts from fresh weights)")
    if spec.augment:
        out.append(
            "augmentation: random shifts, rotations, scale, shear and stroke thickness "
            "of every batch (kpgui.core.data.augment)"
        )
    if spec.elastic:
        out.append(f"elastic distortion of strength {spec.elastic:g} (kpgui.core.data.augment)")
    for name in ("styles", "restroke", "non_digits"):
        value = spec.value(name)
        if value:
            out.append(
                f"{BY_NAME[name].label.lower()} {value:g}: {BY_NAME[name].help} (kpgui.core.data.synth)"
            )
    return out


def _value(spec: ModelSpec, name: str, var: str | None) -> str:
    """The literal of option `name` in the script, or the loop variable when it is swept."""
    if var == name:
        return _loop_name(name)
    return _literal(spec.value(name))


def _loop_name(option: str) -> str:
    """The sweep's loop variable ("optimizer" is the optimizer object the script builds)."""
    return "optimizer_name" if option == "optimizer" else option


def _literal(value: Any) -> str:
    """Python source for a value, strings in double quotes like the rest of the script."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def _model_lines(spec: ModelSpec, var: str | None) -> list[str]:
    """Step 2: the Sequential model as kpgui.core.model.network builds it."""
    act = _value(spec, "activation", var)
    if var is None or var not in ("hidden", "dropout"):  # the layers are known: write them out
        lines = ["model = keras.Sequential(["]
        lines.append("    keras.Input(shape=(784,)),")
        for units in spec.hidden:
            lines.append(f"    keras.layers.Dense({units}, activation={act}),")
            if spec.dropout > 0:
                lines.append(f"    keras.layers.Dropout({spec.dropout!r}),")
        lines.append('    keras.layers.Dense(10, activation="softmax"),')
        lines.append("])")
        return lines
    lines = [
        "model = keras.Sequential([keras.Input(shape=(784,))])",
        f"for units in {_value(spec, 'hidden', var)}:",
        f"    model.add(keras.layers.Dense(units, activation={act}))",
    ]
    dropout = _value(spec, "dropout", var)
    if var == "dropout":
        lines += ["    if dropout > 0:", "        model.add(keras.layers.Dropout(dropout))"]
    elif spec.dropout > 0:
        lines.append(f"    model.add(keras.layers.Dropout({dropout}))")
    lines.append('model.add(keras.layers.Dense(10, activation="softmax"))')
    return lines


def _compile_lines(spec: ModelSpec, var: str | None, values: tuple = ()) -> list[str]:
    """Step 3: optimizer (and cosine schedule), loss, metrics, as kpgui.core.model.network compiles."""
    lines: list[str] = []
    lr = _value(spec, "learning_rate", var)
    if spec.lr_schedule == "cosine":
        # Trainer: CosineDecay over every step of the run, down to 1 % of the rate.
        lines += [
            f"steps = math.ceil(len(x_fit) / {_value(spec, 'batch_size', var)}) "
            f"* {_value(spec, 'epochs', var)}",
            f"learning_rate = keras.optimizers.schedules.CosineDecay({lr}, steps, alpha=0.01)",
        ]
        lr = "learning_rate"
    if var == "optimizer":
        for i, name in enumerate(dict.fromkeys(values)):
            lines += [
                f'{"if" if i == 0 else "elif"} optimizer_name == "{name}":',
                f"    optimizer = {_OPTIMIZER[name].format(lr=lr)}",
            ]
    else:
        if spec.optimizer == "sgd":
            lines.append("# kpgui's SGD uses Nesterov momentum 0.9")
        lines.append(f"optimizer = {_OPTIMIZER[spec.optimizer].format(lr=lr)}")
    smoothing = f"label_smoothing={spec.label_smoothing!r}" if spec.label_smoothing else ""
    lines += [
        "model.compile(",
        "    optimizer=optimizer,",
        f"    loss=keras.losses.CategoricalCrossentropy({smoothing}),",
        '    metrics=["accuracy"],',
        ")",
    ]
    return lines


def _fit_lines(spec: ModelSpec, var: str | None) -> list[str]:
    """Step 4: fit with the validation split and early stopping, then the test accuracy."""
    callbacks = ""
    if spec.patience > 0 and spec.validation_split > 0:
        callbacks = (
            '    callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", '
            f"patience={spec.patience}, restore_best_weights=True)],"
        )
    lines = [
        "model.fit(",
        "    x_train, y_train,",
        f"    epochs={_value(spec, 'epochs', var)},",
        f"    batch_size={_value(spec, 'batch_size', var)},",
    ]
    if _split_by_hand(spec):
        lines.append("    validation_data=(x_val, y_val),")
    elif spec.validation_split > 0:
        lines.append(f"    validation_split={spec.validation_split!r},  # the last part of x_train")
    if callbacks:
        lines.append(callbacks)
    lines += ["    verbose=2,", ")", "test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)"]
    return lines


def _data_lines(spec: ModelSpec, path: str) -> list[str]:
    """Step 1: MNIST as kpgui's Trainer reads it."""
    lines = [
        f"with np.load({_literal(path)}) as mnist:",
        '    x_train, y_train = mnist["x_train"], mnist["y_train"]',
        '    x_test, y_test = mnist["x_test"], mnist["y_test"]',
    ]
    if spec.train_samples:
        lines.append(
            f"x_train, y_train = x_train[:{spec.train_samples}], "
            f"y_train[:{spec.train_samples}]  # the first {spec.train_samples:,} images"
        )
    lines += [
        'x_train = x_train.reshape(-1, 784).astype("float32") / 255  # pixels 0-255 -> 0-1',
        'x_test = x_test.reshape(-1, 784).astype("float32") / 255',
        "y_train = keras.utils.to_categorical(y_train, 10)  # 3 -> [0, 0, 0, 1, 0, ...]",
        "y_test = keras.utils.to_categorical(y_test, 10)",
    ]
    if _split_by_hand(spec):
        split = spec.validation_split
        lines += [
            f"# kpgui holds out the last int(N * {split!r}) images; Keras' validation_split",
            "# would round this N the other way and hold out one more, so split here:",
            f"n_val = int(len(x_train) * {split!r})",
            "x_val, y_val = x_train[len(x_train) - n_val:], y_train[len(y_train) - n_val:]",
            "x_train, y_train = x_train[:len(x_train) - n_val], y_train[:len(y_train) - n_val]",
        ]
    if spec.lr_schedule == "cosine":
        lines.append(
            "x_fit = x_train"
            if _split_by_hand(spec) or not spec.validation_split
            else f"x_fit = x_train[: len(x_train) - int(len(x_train) * {spec.validation_split!r})]"
            "  # what fit trains on"
        )
    return lines


def _split_by_hand(spec: ModelSpec) -> bool:
    """Would Keras' validation_split hold out a different number of images than kpgui's
    Trainer (int(N * split), the last ones)? Then the script splits as kpgui does."""
    if not spec.validation_split:
        return False
    n = spec.train_samples or MNIST_TRAIN_IMAGES
    keras_fit = int(math.floor(n * (1.0 - spec.validation_split)))  # keras' train_validation_split
    return keras_fit != n - int(n * spec.validation_split)


def keras_script(
    spec: ModelSpec,
    *,
    data_path: str | None = None,
    kind: str = "train",
    title: str | None = None,
    sweep: tuple[str, Sequence[Any]] | None = None,
) -> str:
    """A runnable Keras script that trains and tests what `spec` describes.

    `kind` is the run's kind (a fine-tune or continued run is named in a comment); `title`
    goes in the docstring ("kpgui run 12"); `sweep` = (option, values) writes the model,
    compile and fit steps once, in a loop over the values (a sweep's runs are ordinary runs
    that differ in that option only)."""
    spec = spec.validate()
    path = mnist_path(data_path) if data_path is None or Path(data_path).is_file() else data_path
    var, values = (None, ()) if sweep is None else (sweep[0], tuple(sweep[1]))
    if var is not None and (var not in BY_NAME or not BY_NAME[var].sweepable):
        raise ValueError(f"{var!r} cannot be swept")
    return _script(spec, path, kind, title, var, values)


def _script(spec: ModelSpec, path: str, kind: str, title: str | None, var: str | None, values: tuple) -> str:
    what = title or ("A kpgui sweep" if var else "A kpgui run")
    if var:
        opt = BY_NAME[var]
        what += f"{': a sweep' if title else ''} of {opt.label.lower()} "
        what += "(" + ", ".join(opt.format(v) for v in values) + ")"
    head = [
        '"""' + f"{what} as a plain Keras script.",
        "",
        *textwrap.wrap(
            f"Settings{f' (besides {BY_NAME[var].label.lower()})' if var else ''}: {spec.describe()}.", 88
        ),
        "",
        "Written by kpgui in the primer's four steps: data, model, compile, fit. It builds",
        "and compiles the same network kpgui builds and trains it on the same images.",
        '"""',
        "",
    ]
    imports = (["import math", ""] if spec.lr_schedule == "cosine" else []) + [
        "import keras",
        "import numpy as np",
        "",
    ]
    lines = head + imports
    extras = _extras(spec, kind)
    if extras:
        lines += [
            "# kpgui also did this, which a plain script cannot reproduce",
            "# (so this script's accuracy will differ):",
        ]
        for e in extras:
            lines += textwrap.wrap(e, 96, initial_indent="#   - ", subsequent_indent="#     ")
        lines.append("")
    if spec.seed is not None:
        lines += [
            f"keras.utils.set_random_seed({spec.seed})  # the run's seed: the same starting "
            "weights and batches",
            "",
        ]
    lines.append("# 1. Data: MNIST, pixels scaled to [0, 1], each image a row of 784 numbers")
    lines += _data_lines(spec, path)
    body = ["", "# 2. Model: Dense layers (and Dropout), a 10-way softmax at the end"]
    body += _model_lines(spec, var)
    body += ["", "# 3. Compile: the optimizer and its learning rate, the loss, the metrics"]
    body += _compile_lines(spec, var, values)
    body += ["", "# 4. Fit, then test on the 10 000 test images"]
    body += _fit_lines(spec, var)
    if var is None:
        lines += body
        lines.append('print(f"test accuracy: {100 * test_accuracy:.2f} %")')
    else:
        literal = [list(v) if isinstance(v, tuple) else v for v in values]
        lines += ["", f"for {_loop_name(var)} in {_literal(tuple(literal))}:"]
        if spec.seed is not None:
            lines.append(f"    keras.utils.set_random_seed({spec.seed})  # every run of a sweep starts alike")
        lines += [("    " + line) if line else "" for line in body]
        loop = _loop_name(var)
        lines.append(f'    print(f"{var} {{{loop}}}: test accuracy {{100 * test_accuracy:.2f}} %")')
    return "\n".join(lines) + "\n"


def run_script(record: Any, data_path: str | None = None) -> str:
    """The script of a recorded run (a kpgui.core.storage.store.RunRecord): its spec, kind and name."""
    title = f"kpgui run {record.id}" + (f" ({record.name})" if record.name else "")
    return keras_script(record.spec, data_path=data_path, kind=record.kind or "train", title=title)


def save_script(path: str, code: str) -> Path:
    """Write a script atomically (kpgui.core.storage.atomic): a failed save leaves the old file as it was."""
    from kpgui.core.storage.atomic import atomic_write

    return atomic_write(path, lambda tmp: Path(tmp).write_text(code, encoding="utf-8"))
