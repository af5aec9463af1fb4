"""Sweeps: the same network trained with several values of one option, then compared — the
tuning loop of the Keras primer ("SGD at learning rates 0.000001, 0.01 and 1: the blue model has
lower loss and needs fewer epochs").

A sweep is one option, its values and the spec they vary; each run is an ordinary run (its own
history record, model, logs). The best run is the one with the lowest final validation loss
(training loss when there is no validation split); diverged runs are never best.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kpgui.core.display.numbers import last_finite
from kpgui.core.model.options import BY_NAME, SWEEPABLE
from kpgui.core.model.run import RunRecord
from kpgui.core.model.spec import ModelSpec

DYING_RELUS = "Dying ReLUs vs healthy (SGD: lr 0.01, 0.5)"
PRESETS: dict[str, tuple[str, tuple, dict]] = {
    # name -> (option, values, other settings of the base spec)
    "Compare learning rates (SGD: 1e-6, 0.01, 1)": (
        "learning_rate",
        (1e-6, 0.01, 1.0),
        {"optimizer": "sgd", "epochs": 5},
    ),
    "Compare optimizers (SGD, RMSprop, Adam)": ("optimizer", ("sgd", "rmsprop", "adam"), {}),
    "Compare widths (32, 128, 512 units)": ("hidden", ((32,), (128,), (512,)), {}),
    # Measured (seeded, 6 000 images, 2 epochs, JAX): at lr 0.5 SGD kills 98 % of the first
    # layer's ReLUs and 62 % of the second's, and the run still finishes (at lr 1 the loss blows
    # up within ten batches and the run is stopped as diverged); at lr 0.01 under 10 % die
    # (tests/test_layerstats.py).
    DYING_RELUS: (
        "learning_rate",
        (0.01, 0.5),
        {
            "optimizer": "sgd",
            "activation": "relu",
            "hidden": (128, 128),
            "dropout": 0.0,
            "lr_schedule": "constant",
            "batch_size": 32,
            "epochs": 2,
            "train_samples": 6000,
            "validation_split": 0.1,
            "patience": 0,
            "label_smoothing": 0.0,
            "seed": 1,
        },
    ),
}

# One line under the layer plots saying what a preset's curves show.
PRESET_NOTES = {
    DYING_RELUS: (
        "At lr 0.5 a ReLU dies in a few batches: nearly 100 % of the first layer, most of the "
        "second (their gradient → 0), and they never recover; at lr 0.01 few die."
    ),
}


def preset_note(sweep: Sweep | None) -> str | None:
    """The note of the preset this sweep is (same option, values and preset settings), if any."""
    if sweep is None:
        return None
    for name, note in PRESET_NOTES.items():
        option, values, settings = PRESETS[name]
        if (
            sweep.option == option
            and tuple(sweep.values) == tuple(values)
            and all(sweep.base.value(k) == v for k, v in settings.items())
        ):
            return note
    return None


def _split(option: str, text: str) -> list[str]:
    """Values of a list: commas separate them, except for hidden layers, where commas are part
    of one value ("512,512") and "/" or ";" separate values ("32/64/128,128")."""
    sep = "/" if option == "hidden" else ","
    text = text.replace(";", "/") if option == "hidden" else text
    return [t.strip() for t in text.split(sep) if t.strip()]


def parse_values(option: str, text: str) -> tuple:
    """'0.5, 0.05, 0.005' -> (0.5, 0.05, 0.005) for `option`; ValueError naming what is wrong."""
    if option not in SWEEPABLE:
        raise ValueError(f"{option} cannot be swept; choose one of {', '.join(SWEEPABLE)}")
    opt = BY_NAME[option]
    values = []
    for part in _split(option, text):
        value = opt.parse(part)
        reason = opt.check(value)
        if reason:
            raise ValueError(reason)
        values.append(value)
    if not values:
        raise ValueError(f"give at least one value for {opt.label.lower()}")
    if len(set(map(repr, values))) != len(values):
        raise ValueError(f"{opt.label.lower()} values repeat: {text}")
    if len(values) > 12:
        raise ValueError("a sweep has at most 12 values")
    return tuple(values)


def is_list(option: str, text: str) -> bool:
    """Does this command-line value name several values (a sweep)?"""
    return option in SWEEPABLE and len(_split(option, str(text))) > 1


@dataclass(frozen=True)
class Sweep:
    option: str
    values: tuple
    base: ModelSpec

    def __post_init__(self) -> None:
        if self.option not in SWEEPABLE:
            raise ValueError(f"{self.option} cannot be swept")
        if not self.values:
            raise ValueError("a sweep needs at least one value")

    def specs(self) -> list[ModelSpec]:
        """One validated spec per value."""
        return [self.base.replace(**{self.option: v}).validate() for v in self.values]

    def label(self, value: Any) -> str:
        """'lr 0.01', 'layers 32', 'adam'."""
        return BY_NAME[self.option].tag(value)

    def describe(self) -> str:
        opt = BY_NAME[self.option]
        return f"{opt.label.lower()}: " + ", ".join(opt.format(v) for v in self.values)

    def to_dict(self) -> dict:
        values = [list(v) if isinstance(v, tuple) else v for v in self.values]
        return {"option": self.option, "values": values}

    @classmethod
    def from_dict(cls, data: dict, base: ModelSpec) -> Sweep:
        option = data.get("option") if isinstance(data, dict) else None
        if option not in SWEEPABLE:
            raise ValueError(f"the sweep's option {option!r} cannot be swept")
        raw = data.get("values")
        if not isinstance(raw, list) or not raw:
            raise ValueError("the sweep has no values")
        opt = BY_NAME[option]
        values = []
        from kpgui.core.storage.bounded import short_text

        for v in raw:
            try:
                value = tuple(int(h) for h in v) if option == "hidden" and isinstance(v, list) else v
                reason = opt.check(value)
                if (
                    reason is None
                    and opt.kind is float
                    and isinstance(value, int)
                    and not isinstance(value, bool)
                ):
                    value = float(value)
            except (TypeError, ValueError, OverflowError) as exc:
                reason = str(exc)
            if reason:
                raise ValueError(f"sweep value {short_text(v)}: {reason}")
            values.append(value)
        return cls(option, tuple(values), base)


def final_loss(run: RunRecord) -> float:
    """What 'best' compares: the last validation loss, else the last training loss (inf for a
    run that diverged or trained nothing)."""
    if not run.usable:
        return math.inf
    for key in ("val_loss", "loss"):
        value = last_finite(run.history.get(key))
        if value is not None:
            return value
    return math.inf


def best_index(runs: Sequence[RunRecord | None]) -> int | None:
    """The index of the best run (lowest final_loss), None when no run finished usefully."""
    scored = [(final_loss(r), i) for i, r in enumerate(runs) if r is not None]
    scored = [(loss, i) for loss, i in scored if math.isfinite(loss)]
    return min(scored)[1] if scored else None
