"""ModelSpec: every choice a person makes about a network and its training, in one value.

Defaults, limits and messages come from `kpgui.core.model.options` (the one declaration of each
option); this module only adds the rules between fields and the conversions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from kpgui.core.model.options import ACTIVATIONS, BY_NAME, LR_SCHEDULES, OPTIMIZERS, OPTIONS, parse_hidden
from kpgui.core.storage.bounded import MAX_PARAMS

__all__ = ["ACTIVATIONS", "LR_SCHEDULES", "OPTIMIZERS", "ModelSpec", "parse_hidden"]


def _d(name: str) -> Any:
    return BY_NAME[name].default


@dataclass(frozen=True)
class ModelSpec:
    """A dense MNIST classifier and how to train it. Defaults are the classic Keras recipe
    (784-512-512-10 relu, RMSprop lr 0.001, batch 128, 20 epochs, 10 % validation).

    `train_samples` = 0 trains on all 60 000 images (minus the validation split); a smaller
    number uses the first N, for quick experiments. `patience` = 0 turns early stopping off.
    `styles`, `restroke` and `non_digits` add generated drawings, `real_pen` real people's pen
    digits (see kpgui.core.data.synth).
    """

    hidden: tuple[int, ...] = _d("hidden")
    activation: str = _d("activation")
    dropout: float = _d("dropout")
    optimizer: str = _d("optimizer")
    learning_rate: float = _d("learning_rate")
    lr_schedule: str = _d("lr_schedule")
    batch_size: int = _d("batch_size")
    epochs: int = _d("epochs")
    validation_split: float = _d("validation_split")
    patience: int = _d("patience")
    augment: bool = _d("augment")
    elastic: float = _d("elastic")
    styles: float = _d("styles")
    restroke: float = _d("restroke")
    non_digits: float = _d("non_digits")
    real_pen: int = _d("real_pen")
    train_samples: int = _d("train_samples")
    label_smoothing: float = _d("label_smoothing")
    seed: int | None = _d("seed")
    extra: dict = field(default_factory=dict, compare=False)

    def value(self, name: str) -> Any:
        """The value of the option called `name` (kpgui.core.model.options.OPTIONS declares
        this dataclass's fields: an option's name is a field's name)."""
        return vars(self)[name]

    def errors(self) -> dict[str, str]:
        """Field name -> reason, for every invalid value (empty when the spec is usable)."""
        e: dict[str, str] = {}
        for opt in OPTIONS:
            reason = opt.check(self.value(opt.name))
            if reason:
                e[opt.name] = reason
        if "patience" not in e and self.patience > 0 and self.validation_split == 0:
            e["patience"] = "early stopping watches the validation loss: set a validation split"
        if "hidden" not in e and self.weights > MAX_PARAMS:
            e["hidden"] = (
                f"this network has {self.weights / 1e6:.0f} M weights; kpgui models hold "
                f"at most {MAX_PARAMS / 1e6:.0f} M (fewer or smaller hidden layers)"
            )
        return e

    @property
    def weights(self) -> int:
        """How many weights (and biases) the network has."""
        sizes = [784, *self.hidden, 10]
        return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=False))

    def validate(self) -> ModelSpec:
        """Return self, or raise ValueError naming every invalid field."""
        errs = self.errors()
        if errs:
            raise ValueError("; ".join(errs.values()))
        return self

    def replace(self, **changes: Any) -> ModelSpec:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        if not d["extra"]:
            del d["extra"]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], strict: bool = False) -> ModelSpec:
        """Build from a dict (a model card, settings, an experiment file). Unknown keys are
        ignored and missing ones default. With `strict` a bad value raises ValueError naming
        it; otherwise it falls back to its default, so an old or hand-edited file still opens."""
        if not isinstance(data, dict):
            raise ValueError("a model spec must be a JSON object")
        kwargs: dict[str, Any] = {}
        for opt in OPTIONS:
            if opt.name not in data:
                continue
            value = data[opt.name]
            try:
                if opt.kind is tuple:
                    value = (
                        tuple(int(h) for h in value)
                        if isinstance(value, list | tuple)
                        else parse_hidden(str(value))
                    )
                elif opt.kind is float and isinstance(value, int) and not isinstance(value, bool):
                    reason = opt.check(value)  # a 400-digit whole number: "at most 10", not
                    value = float(value) if reason is None else value  # OverflowError
                reason = opt.check(value)
            except (TypeError, ValueError, OverflowError) as exc:
                reason = str(exc)
            if reason:
                if strict:
                    raise ValueError(f"{opt.name}: {reason}")
                continue
            kwargs[opt.name] = value
        if isinstance(data.get("extra"), dict):
            kwargs["extra"] = dict(data["extra"])
        return cls(**kwargs)

    def differences(self, other: ModelSpec) -> dict[str, tuple[Any, Any]]:
        """Option name -> (mine, other's) for every option that differs."""
        return {
            o.name: (self.value(o.name), other.value(o.name))
            for o in OPTIONS
            if self.value(o.name) != other.value(o.name)
        }

    def describe(self) -> str:
        """One line a person can read: 784-512-512-10 relu, rmsprop lr=0.001, ..."""
        layers = "-".join(str(n) for n in (784, *self.hidden, 10))
        parts = [f"{layers} {self.activation}", f"{self.optimizer} lr={self.learning_rate:g}"]
        if self.lr_schedule != "constant":
            parts.append(self.lr_schedule)
        if self.dropout:
            parts.append(f"dropout {self.dropout:g}")
        if self.augment:
            parts.append("augmented")
        if self.elastic:
            parts.append(f"elastic {self.elastic:g}")
        for name in ("styles", "restroke", "non_digits"):
            value = self.value(name)
            if value:
                parts.append(f"{BY_NAME[name].label.lower()} {value:g}")
        parts.append(f"batch {self.batch_size}, {self.epochs} epochs")
        return ", ".join(parts)
