"""The one declaration of every training option: its name, type, default, limits and help.

`ModelSpec` takes its fields' defaults and its validation from here; the training form builds
its widgets from here; `kpgui train` builds its flags (with their defaults in --help) from here;
the saved settings and experiment files read and write the same names. Adding an option means
adding one `Option` below and one field to ModelSpec (a test checks the two agree).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

OPTIMIZERS = ("sgd", "rmsprop", "adam")
OPTIMIZER_NAMES = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu", "gelu", "swish")
LR_SCHEDULES = ("constant", "cosine")
MAX_UNITS = 8192
MAX_LAYERS = 8


def number_text(value: float) -> str:
    """A limit as people read it: 2147483647 -> '2,147,483,647' (not '2.14748e+09'),
    0.001 -> '0.001', 1e-06 -> '1e-06'."""
    if float(value).is_integer() and abs(value) < 1e16:
        return f"{int(value):,}"
    return f"{value:g}"


def parse_hidden(text: str) -> tuple[int, ...]:
    """'512, 512' -> (512, 512). Raises ValueError with a reason a person can act on."""
    items = [t for t in str(text).replace(";", ",").replace(" ", ",").split(",") if t]
    if not items:
        raise ValueError("give at least one hidden layer size, e.g. 512, 512")
    try:
        sizes = tuple(int(t) for t in items)
    except ValueError:
        raise ValueError(f"hidden layer sizes must be whole numbers, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise ValueError("hidden layer sizes must be at least 1")
    return sizes


def _parse_bool(text: str) -> bool:
    t = str(text).strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected yes or no, got {text!r}")


def _parse_number(kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        t = str(text).strip().replace(",", ".") if kind is float else str(text).strip()
        try:
            value = kind(t)
        except ValueError:
            what = "a number, e.g. 0.001" if kind is float else "a whole number"
            raise ValueError(f"must be {what}, got {text!r}") from None
        if kind is float and not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {text!r}")
        return value

    return parse


def _parse_optional_int(text: str) -> int | None:
    t = str(text).strip().lower()
    if t in ("", "none", "random"):
        return None
    return _parse_number(int)(t)


@dataclass(frozen=True)
class Option:
    """One training option. `low`/`high` bound numbers (`low_open` makes `low` exclusive);
    `choices` bound text; `zero` is how the value 0 reads (e.g. "off", "all")."""

    name: str
    kind: type  # int, float, str, bool or tuple (hidden layers)
    default: Any
    label: str  # in the form and tables
    help: str  # one sentence: tooltip and --help
    group: str  # "network", "training" or "data": where the form puts it
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    zero: str = ""
    step: float = 1.0
    decimals: int = 2
    sweepable: bool = False
    optional: bool = False  # None is allowed (seed)
    in_form: bool = True
    short: str | None = None  # in run names: "lr 0.01"; None = the label; "" = the value alone

    @property
    def flag(self) -> str:
        """The command-line flag: learning_rate -> --lr, others --name-with-dashes."""
        return "--" + {"learning_rate": "lr"}.get(self.name, self.name.replace("_", "-"))

    def parse(self, text: str) -> Any:
        """Text (CLI, form, file) -> value, or ValueError naming what is wrong."""
        if self.kind is tuple:
            return parse_hidden(text)
        if self.kind is bool:
            return _parse_bool(text)
        if self.kind is str:
            value = str(text).strip().lower()
            return value
        if self.optional:
            return _parse_optional_int(text)
        if self.zero and str(text).strip().lower() == self.zero:
            return self.kind(0)
        return _parse_number(self.kind)(text)

    def format(self, value: Any) -> str:
        """Value -> the short text people read (form, tables, --help)."""
        if value is None:
            return "random" if self.name == "seed" else "–"
        if self.kind is tuple:
            return ",".join(str(v) for v in value)
        if self.kind is bool:
            return "yes" if value else "no"
        if self.zero and value == 0:
            return self.zero
        if self.kind is float:
            return f"{value:g}"
        return str(value)

    def check(self, value: Any) -> str | None:
        """Why `value` is not allowed (None when it is)."""
        if value is None:
            return None if self.optional else f"{self.label.lower()} is missing"
        if self.kind is tuple:
            if not isinstance(value, tuple) or not value:
                return "give at least one hidden layer size, e.g. 512, 512"
            if any(isinstance(h, bool) or not isinstance(h, int) or not 1 <= h <= MAX_UNITS for h in value):
                return f"hidden layers must be whole numbers from 1 to {MAX_UNITS}, e.g. 512, 512"
            if len(value) > MAX_LAYERS:
                return f"at most {MAX_LAYERS} hidden layers"
            return None
        if self.kind is bool:
            return None if isinstance(value, bool) else f"{self.label.lower()} must be yes or no"
        if self.kind is str:
            if value not in self.choices:
                return f"{self.label.lower()} must be one of {', '.join(self.choices)}"
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{self.label.lower()} must be a number"
        if isinstance(value, float):  # whole numbers of any size compare exactly, never overflow
            if not math.isfinite(value):
                return f"{self.label.lower()} must be a finite number"
            if self.kind is int and not value.is_integer():
                return f"{self.label.lower()} must be a whole number"
        too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        too_high = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        if too_low or too_high:
            return f"{self.label.lower()} must be {self.range_text()}"
        return None

    def range_text(self) -> str:
        """'above 0 and at most 10', 'from 1 to 1000', 'at least 0 and below 0.9'."""
        lo = (
            ""
            if self.low is None
            else (f"above {number_text(self.low)}" if self.low_open else f"at least {number_text(self.low)}")
        )
        hi = (
            ""
            if self.high is None
            else (
                f"below {number_text(self.high)}" if self.high_open else f"at most {number_text(self.high)}"
            )
        )
        closed = not (self.low_open or self.high_open)
        if self.low is not None and self.high is not None and closed and self.kind is int:
            return f"from {number_text(self.low)} to {number_text(self.high)}"
        return " and ".join(p for p in (lo, hi) if p)

    def tag(self, value: Any) -> str:
        """A short 'name value' for run names: 'lr 0.01', 'layers 512,512', 'adam'."""
        prefix = self.label.lower() if self.short is None else self.short
        return f"{prefix} {self.format(value)}".strip()

    def help_text(self) -> str:
        """--help text with the allowed values and the default."""
        allowed = f"; one of {', '.join(self.choices)}" if self.choices else ""
        if self.low is not None or self.high is not None:
            allowed = f"; {self.range_text()}"
        return f"{self.help}{allowed} (default: {self.format(self.default)})"


OPTIONS: tuple[Option, ...] = (
    Option(
        "hidden",
        tuple,
        (512, 512),
        "Hidden layers",
        "units in each hidden Dense layer, comma-separated",
        "network",
        sweepable=True,
        short="layers",
    ),
    Option(
        "activation",
        str,
        "relu",
        "Activation",
        "activation function of the hidden layers",
        "network",
        choices=ACTIVATIONS,
        sweepable=True,
        short="",
    ),
    Option(
        "dropout",
        float,
        0.0,
        "Dropout",
        "fraction of hidden units dropped at random while training",
        "network",
        low=0.0,
        high=1.0,
        high_open=True,
        step=0.05,
        sweepable=True,
    ),
    Option(
        "optimizer",
        str,
        "rmsprop",
        "Optimizer",
        "how the weights are updated from the gradients",
        "training",
        choices=OPTIMIZERS,
        sweepable=True,
        short="",
    ),
    Option(
        "learning_rate",
        float,
        0.001,
        "Learning rate",
        "step size of the optimizer",
        "training",
        low=0.0,
        high=10.0,
        low_open=True,
        decimals=6,
        sweepable=True,
        short="lr",
    ),
    Option(
        "lr_schedule",
        str,
        "constant",
        "LR schedule",
        "constant: the same rate throughout; cosine: decays towards 0",
        "training",
        choices=LR_SCHEDULES,
        short="",
    ),
    Option(
        "batch_size",
        int,
        128,
        "Batch size",
        "images per gradient step",
        "training",
        low=1,
        high=60000,
        sweepable=True,
        short="batch",
    ),
    Option(
        "epochs",
        int,
        20,
        "Epochs",
        "passes over the training images",
        "training",
        low=1,
        high=1000,
        sweepable=True,
    ),
    Option(
        "validation_split",
        float,
        0.1,
        "Validation split",
        "fraction of the training images held out to measure val_loss",
        "training",
        low=0.0,
        high=0.9,
        high_open=True,
        step=0.05,
        short="val",
    ),
    Option(
        "patience",
        int,
        0,
        "Early stopping",
        "stop after this many epochs without a better val_loss (0 = off)",
        "training",
        low=0,
        high=1000,
        zero="off",
    ),
    Option(
        "augment",
        bool,
        False,
        "Augmentation",
        "random shifts, rotations, scale, shear and stroke thickness of each image",
        "data",
    ),
    Option(
        "elastic",
        float,
        0.0,
        "Elastic distortion",
        "strength of random elastic warps of the training images (0 = off, 1 = strong)",
        "data",
        low=0.0,
        high=1.0,
        step=0.1,
        zero="off",
    ),
    Option(
        "styles",
        float,
        0.0,
        "Drawn styles",
        "extra synthetic pen-drawn digits in people's styles, as a share of the training images (0 = none)",
        "data",
        low=0.0,
        high=2.0,
        step=0.05,
        zero="none",
    ),
    Option(
        "restroke",
        float,
        0.0,
        "Re-stroked MNIST",
        "share of MNIST training digits also added re-drawn as pen strokes (0 = none)",
        "data",
        low=0.0,
        high=1.0,
        step=0.05,
        zero="none",
    ),
    Option(
        "non_digits",
        float,
        0.0,
        "Non-digits",
        "scribbles, letters and symbols taught as 'not a digit', as a share of the training "
        "images (0 = none)",
        "data",
        low=0.0,
        high=0.5,
        step=0.01,
        zero="none",
    ),
    Option(
        "real_pen",
        int,
        0,
        "Real pen digits",
        "real people's pen digits (the UCI pen digits file, found by $KPGUI_PENDIGITS) added "
        "as written plus this many re-drawings of each by a simulated hand (0 = none)",
        "data",
        low=0,
        high=50,
        zero="none",
        in_form=False,
        short="pen",
    ),
    Option(
        "train_samples",
        int,
        0,
        "Training images",
        "train on the first N MNIST images (0 = all 60 000), for quick experiments",
        "data",
        low=0,
        high=60000,
        step=1000,
        zero="all",
        short="images",
    ),
    Option(
        "label_smoothing",
        float,
        0.0,
        "Label smoothing",
        "soften the one-hot targets by this amount",
        "training",
        low=0.0,
        high=0.5,
        high_open=True,
        step=0.05,
        in_form=False,
    ),
    Option(
        "seed",
        int,
        None,
        "Seed",
        "random seed for a repeatable run (none = random)",
        "training",
        low=0,
        high=2**31 - 1,
        optional=True,
        in_form=False,
    ),
)

BY_NAME: dict[str, Option] = {o.name: o for o in OPTIONS}
SWEEPABLE: tuple[str, ...] = tuple(o.name for o in OPTIONS if o.sweepable)


def option(name: str) -> Option:
    """The declaration of one option (KeyError for an unknown name)."""
    return BY_NAME[name]
