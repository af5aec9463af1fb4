"""What a training run reports while it runs: plain, picklable values (they cross from the
training process to the window), and the listener convention.

A listener is any object with some of: on_status(str), on_train_begin(TrainingStart),
on_batch(BatchUpdate), on_epoch(EpochUpdate). The window's listener forwards them over a pipe;
the CLI's prints a progress bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kpgui.core.model.spec import ModelSpec


@dataclass(frozen=True)
class TrainingStart:
    epochs: int
    steps_per_epoch: int
    train_samples: int
    val_samples: int
    spec: ModelSpec
    first_epoch: int = 1  # > 1 when a run continues an earlier one
    history_before: dict | None = None  # that earlier run's per-epoch history
    device: str = ""  # what trains, for people: "CPU (JAX)" (kpgui.core.training.backends.current)


@dataclass(frozen=True)
class BatchUpdate:
    """One batch. loss/accuracy are that batch's own; mean_* are the epoch's running means."""

    epoch: int  # 1-based
    epochs: int
    step: int  # 1-based within the epoch
    steps: int
    loss: float
    accuracy: float
    mean_loss: float
    mean_accuracy: float
    elapsed: float
    eta: float
    samples_seen: int
    first_epoch: int = 1  # > 1 when the run continues an earlier one (epochs count on)

    @property
    def progress(self) -> float:
        """Fraction of this run done, 0..1."""
        done = (self.epoch - self.first_epoch) * self.steps + self.step
        return done / ((self.epochs - self.first_epoch + 1) * self.steps)

    @property
    def epoch_position(self) -> float:
        """Fractional epoch for plotting (e.g. 1.5 = half way through epoch 2)."""
        return self.epoch - 1 + self.step / self.steps


@dataclass(frozen=True)
class EpochUpdate:
    epoch: int  # 1-based
    epochs: int
    loss: float
    accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    elapsed: float
    eta: float


def notify(listener: Any, method: str, value: Any) -> None:
    """Call `listener.method(value)` if the listener has that method."""
    fn = getattr(listener, method, None)
    if fn is not None:
        fn(value)
