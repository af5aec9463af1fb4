"""Teach the network the person's own handwriting: fine-tune on their samples, honestly measured.

The person's samples are split per digit into a training part and a held-out part; accuracy on
the held-out part (digits the fine-tuning never saw) before and after is the honest answer to
"did it learn my handwriting?". MNIST test accuracy before and after shows it did not forget
everyone else's. Training continues from the current weights on MNIST mixed with the person's
samples (repeated so they are a noticeable share, ~8 % of an epoch), with a low learning rate and
augmentation, so a few hundred drawings shift the network without wrecking it.

No Qt; Keras/TensorFlow are imported only inside the functions that train.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kpgui.core.data.arrays import as_uint8_images
from kpgui.core.display.numbers import percent
from kpgui.core.model.evaluation import accuracy
from kpgui.core.model.inference import Predictor
from kpgui.core.model.run import RunRecord
from kpgui.core.model.spec import ACTIVATIONS as SPEC_ACTIVATIONS
from kpgui.core.model.spec import ModelSpec
from kpgui.core.training.progress import Listener

PERSONAL_SHARE = 0.08  # the person's samples' share of a fine-tuning epoch (after repetition)
MAX_REPEAT = 100  # a handful of samples repeated more than this would just be memorised
FINETUNE_LR = 1e-4
FINETUNE_EPOCHS = 2
MIN_SAMPLES = 10  # fine-tuning on fewer of the person's digits teaches nothing
MIN_HELD_OUT = 20  # fewer held-out drawings than this: a before/after would be noise


def held_out_split(
    labels: np.ndarray, fraction: float = 0.25, seed: int = 0, min_per_label: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, held_idx): per digit, `fraction` of its samples (rounded, at least
    `min_per_label`) are held out, but never all of them: a digit with a single sample goes to
    training (it cannot be both learned and measured). Deterministic for a given seed, so
    "before" and "after" are measured on the same drawings. Both index arrays are sorted."""
    y = np.asarray(labels).reshape(-1)
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"held-out fraction must be at least 0 and below 1, got {fraction}")
    rng = np.random.default_rng(seed)
    held: list[np.ndarray] = []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        if len(idx) < 2 or fraction == 0.0:
            continue
        k = max(int(round(fraction * len(idx))), min_per_label)
        k = min(k, len(idx) - 1)  # keep at least one to learn from
        held.append(rng.permutation(idx)[:k])
    held_idx = np.sort(np.concatenate(held)) if held else np.zeros(0, np.int64)
    mask = np.ones(len(y), bool)
    mask[held_idx] = False
    return np.flatnonzero(mask).astype(np.int64), held_idx.astype(np.int64)


def _spec_from_card(predictor: Predictor) -> ModelSpec | None:
    spec = predictor.card.get("spec") if isinstance(predictor.card, dict) else None
    if not isinstance(spec, dict):
        return None
    try:
        return ModelSpec.from_dict(spec)
    except (TypeError, ValueError):
        return None


def keras_model_from_predictor(predictor: Predictor, spec: ModelSpec | None = None) -> Any:
    """A keras.Model with the predictor's weights, ready for Trainer(initial_model=...).

    NumPy predictors are rebuilt by the one model builder (network.model_from_layers), with the
    Dropout of `spec` (default: the model card's spec); Keras-backed ones are cloned with their
    weights. Either way the predictor is untouched.
    """
    if predictor.layers is None:
        import keras

        clone = keras.models.clone_model(predictor.keras_model)
        clone.set_weights(predictor.keras_model.get_weights())
        return clone
    from kpgui.core.model.network import model_from_layers

    spec = spec or _spec_from_card(predictor) or ModelSpec(dropout=0.0)
    return model_from_layers(predictor.layers, spec)


def spec_of(predictor: Predictor) -> ModelSpec:
    """The spec a model was trained with (its card's), else read off its layers."""
    spec = _spec_from_card(predictor)
    if spec is not None:
        return spec
    hidden: tuple[int, ...] = ()
    act = "relu"
    if predictor.layers is not None:
        hidden = tuple(int(layer.kernel.shape[1]) for layer in predictor.layers[:-1])
        act = predictor.layers[0].activation if len(predictor.layers) > 1 else "relu"
        act = {"silu": "swish"}.get(act, act)
    return ModelSpec(hidden=hidden or (512, 512), activation=act if act in SPEC_ACTIVATIONS else "relu")


def finetune_spec(predictor: Predictor) -> ModelSpec:
    """The default fine-tuning recipe: the model's own spec (from its card, else read off its
    layers) with Adam at lr 1e-4, augmentation on, 2 epochs, 5 % validation, no early stop,
    and without the strangers' pen digits (`real_pen` 0).

    A low learning rate and few epochs move the weights towards the new samples without
    erasing what MNIST taught; augmentation keeps it from memorising the exact drawings. The
    generated drawings the model's recipe asked for (styles, re-drawn MNIST, non-digits) stay,
    in proportion to the MNIST images used; the real pen digits do not: they are a fixed 60,000
    re-drawings whatever the MNIST share (with 3,000 MNIST images they were 90 % of the set, and
    drawing them kept the person waiting ~45 s before the first batch), and here the person's own
    digits are the real handwriting to learn."""
    return spec_of(predictor).replace(
        optimizer="adam",
        learning_rate=FINETUNE_LR,
        lr_schedule="constant",
        augment=True,
        epochs=FINETUNE_EPOCHS,
        validation_split=0.05,
        patience=0,
        train_samples=0,
        real_pen=0,
    )


def default_repeat(n_personal: int, n_mnist_fit: int, share: float = PERSONAL_SHARE) -> int:
    """How often to repeat the person's training samples so they are about `share` of an
    epoch: 300 samples against 57 000 MNIST images -> 17x. At least 1, at most MAX_REPEAT."""
    if n_personal <= 0:
        return 1
    want = share / (1.0 - share) * n_mnist_fit / n_personal
    return int(min(MAX_REPEAT, max(1, round(want))))


@dataclass
class FineTuneResult:
    """Accuracies before/after (fractions 0..1; personal ones None if nothing was held out)."""

    personal_before: float | None
    personal_after: float | None
    mnist_before: float | None
    mnist_after: float | None
    held_out_count: int
    train_count: int
    result: RunRecord  # what training did (its .status says whether it was stopped or diverged)
    predictor: Predictor | None  # the fine-tuned model (None when the run diverged)
    repeat: int = 1
    model: Any = None  # the fine-tuned keras.Model

    @property
    def judgeable(self) -> bool:
        """Enough held-out drawings for "your digits: a % → b %" to mean something."""
        return self.held_out_count >= MIN_HELD_OUT

    def notes(self) -> dict:
        """The numbers to keep with the run (kpgui.core.training.jobs records them in its notes)."""
        return {
            "personal_before": self.personal_before,
            "personal_after": self.personal_after,
            "mnist_before": self.mnist_before,
            "mnist_after": self.mnist_after,
            "held_out_count": self.held_out_count,
            "train_count": self.train_count,
            "repeat": self.repeat,
            "summary": self.summary(),
        }

    def summary(self) -> str:
        """One line for people: 'your digits: 82.0 % → 97.0 % (40 held out); MNIST test:
        98.9 % → 98.8 %' — or why the personal numbers would mean nothing yet."""
        if self.judgeable:
            yours = (
                f"your digits: {percent(self.personal_before, 1)} → {percent(self.personal_after, 1)} "
                f"({self.held_out_count} held out)"
            )
        else:
            yours = (
                f"your digits: too few held out to judge ({self.held_out_count}; "
                f"{MIN_HELD_OUT} needed — save more samples)"
            )
        return f"{yours}; MNIST test: {percent(self.mnist_before, 1)} → {percent(self.mnist_after, 1)}"


def finetune(
    predictor: Predictor,
    personal_images: np.ndarray,
    personal_labels: np.ndarray,
    spec: ModelSpec | None = None,
    mnist: tuple | None = None,
    held_fraction: float = 0.25,
    repeat: int | None = None,
    listener: Listener | None = None,
    trainer_hook: Any = None,
    seed: int = 0,
    stop_event: Any = None,
    log_dir: Any = None,
) -> FineTuneResult:
    """Fine-tune `predictor` on the person's samples (mixed into MNIST) and measure it.

    `personal_images`: (N, 28, 28) float32 in [0, 1] or uint8; `personal_labels`: (N,) 0-9
    (Store.sample_arrays() gives both). `mnist` = (x_train, y_train, x_test, y_test), default
    the full MNIST. `spec` default: finetune_spec(predictor). `repeat` default: default_repeat.
    `listener` gets the usual Trainer callbacks; `trainer_hook(trainer)` is called before
    training starts, so a GUI can keep the Trainer to stop() it. Blocking: run it in a worker
    thread. The predictor passed in is not modified.
    """
    from kpgui.core.training.trainer import Trainer

    x = np.asarray(personal_images)
    y = np.asarray(personal_labels).reshape(-1).astype(np.int64)
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels")
    if len(y) == 0:
        raise ValueError("no samples of your handwriting yet: draw some digits and save them")
    if y.min() < 0 or y.max() > 9:
        raise ValueError("labels must be digits 0-9")
    x = as_uint8_images(x)
    if mnist is None:
        from kpgui.core.data.mnist import load_mnist

        mnist = load_mnist()
    x_train, y_train, x_test, y_test = mnist

    train_idx, held_idx = held_out_split(y, held_fraction, seed=seed)
    spec = (spec or finetune_spec(predictor)).validate()
    n_mnist = len(x_train) if not spec.train_samples else min(spec.train_samples, len(x_train))
    n_fit = n_mnist - int(n_mnist * spec.validation_split)
    if repeat is None:
        repeat = default_repeat(len(train_idx), n_fit)

    personal_before = accuracy(predictor, x[held_idx], y[held_idx])
    mnist_before = accuracy(predictor, x_test, y_test)

    trainer = Trainer(
        spec,
        listener,
        data=(x_train, y_train, x_test, y_test),
        initial_model=keras_model_from_predictor(predictor, spec),
        extra_train=(x[train_idx], y[train_idx].astype(np.uint8)),
        extra_repeat=repeat,
        stop_event=stop_event,
        log_dir=log_dir,
    )
    if trainer_hook is not None:
        trainer_hook(trainer)
    result = trainer.run()

    tuned = None
    if result.usable:
        card = dict(predictor.card) if isinstance(predictor.card, dict) else {}
        card.update(
            spec=spec.to_dict(),
            test_accuracy=result.test_accuracy,
            finetuned_from=str(predictor.path) if predictor.path else predictor.name,
        )
        tuned = Predictor.from_keras(trainer.model, card=card, name=f"{predictor.name} (yours)")
    mnist_after = result.test_accuracy
    if mnist_after is None and tuned is not None:
        mnist_after = accuracy(tuned, x_test, y_test)
    return FineTuneResult(
        personal_before=personal_before,
        personal_after=None if tuned is None else accuracy(tuned, x[held_idx], y[held_idx]),
        mnist_before=mnist_before,
        mnist_after=mnist_after,
        held_out_count=len(held_idx),
        train_count=len(train_idx),
        result=result,
        predictor=tuned,
        repeat=int(repeat),
        model=trainer.model,
    )
