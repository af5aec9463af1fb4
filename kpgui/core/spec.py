"""ModelSpec: every choice a person makes about a network and its training, in one value."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

OPTIMIZERS = ("sgd", "rmsprop", "adam")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu", "gelu", "swish")
LR_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class ModelSpec:
    """A dense MNIST classifier and how to train it. Defaults are the classic Keras recipe.

    `train_samples` = 0 trains on all 60 000 images (minus the validation split); a smaller
    number uses the first N, for quick experiments. `patience` = 0 turns early stopping off.
    """

    hidden: tuple[int, ...] = (512, 512)
    activation: str = "relu"
    dropout: float = 0.0
    optimizer: str = "rmsprop"
    learning_rate: float = 0.001
    lr_schedule: str = "constant"
    batch_size: int = 128
    epochs: int = 20
    validation_split: float = 0.1
    patience: int = 0
    augment: bool = False
    train_samples: int = 0
    seed: int | None = None
    label_smoothing: float = 0.0
    extra: dict = field(default_factory=dict, compare=False)

    def errors(self) -> dict[str, str]:
        """Field name -> reason, for every invalid value (empty when the spec is usable)."""
        e: dict[str, str] = {}
        if not self.hidden or any((not isinstance(h, int)) or h < 1 or h > 8192 for h in self.hidden):
            e["hidden"] = "hidden layers must be whole numbers from 1 to 8192, e.g. 512, 512"
        elif len(self.hidden) > 8:
            e["hidden"] = "at most 8 hidden layers"
        if self.activation not in ACTIVATIONS:
            e["activation"] = f"activation must be one of {', '.join(ACTIVATIONS)}"
        if not 0.0 <= self.dropout < 1.0:
            e["dropout"] = "dropout must be at least 0 and below 1"
        if self.optimizer not in OPTIMIZERS:
            e["optimizer"] = f"optimizer must be one of {', '.join(OPTIMIZERS)}"
        if not 0.0 < self.learning_rate <= 10.0:
            e["learning_rate"] = "learning rate must be above 0 and at most 10"
        if self.lr_schedule not in LR_SCHEDULES:
            e["lr_schedule"] = f"schedule must be one of {', '.join(LR_SCHEDULES)}"
        if not 1 <= self.batch_size <= 60000:
            e["batch_size"] = "batch size must be from 1 to 60000"
        if not 1 <= self.epochs <= 1000:
            e["epochs"] = "epochs must be from 1 to 1000"
        if not 0.0 <= self.validation_split < 0.9:
            e["validation_split"] = "validation split must be at least 0 and below 0.9"
        if self.patience < 0:
            e["patience"] = "patience must be 0 (off) or more epochs"
        elif self.patience > 0 and self.validation_split == 0:
            e["patience"] = "early stopping watches the validation loss: set a validation split"
        if self.train_samples < 0:
            e["train_samples"] = "training samples must be 0 (all) or a positive number"
        if not 0.0 <= self.label_smoothing < 0.5:
            e["label_smoothing"] = "label smoothing must be at least 0 and below 0.5"
        return e

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
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        """Build from a dict (e.g. a model card); unknown keys are ignored, missing ones default."""
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        if "hidden" in kwargs:
            kwargs["hidden"] = tuple(int(h) for h in kwargs["hidden"])
        return cls(**kwargs)

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
        parts.append(f"batch {self.batch_size}, {self.epochs} epochs")
        return ", ".join(parts)


def parse_hidden(text: str) -> tuple[int, ...]:
    """'512, 512' -> (512, 512). Raises ValueError with a reason a person can act on."""
    items = [t for t in text.replace(";", ",").replace(" ", ",").split(",") if t]
    if not items:
        raise ValueError("give at least one hidden layer size, e.g. 512, 512")
    try:
        sizes = tuple(int(t) for t in items)
    except ValueError:
        raise ValueError(f"hidden layer sizes must be whole numbers, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise ValueError("hidden layer sizes must be at least 1")
    return sizes
