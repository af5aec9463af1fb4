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
    """One batch (or, when Keras runs several per call, the last of them: `step`). loss/accuracy
    are that batch's own (the several's mean); mean_* are the epoch's running means."""

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


class Listener:
    """What a run tells whoever watches it. Every method does nothing here; the command line, the
    training process's pipe and tests override the ones they show."""

    def on_status(self, text: str) -> None:
        """A step of the run in words ("Loading MNIST…")."""

    def on_notice(self, text: str) -> None:
        """Something the person should see even when quiet (by default: a status)."""
        self.on_status(text)

    def on_train_begin(self, start: TrainingStart) -> None:
        """The run's size, once the data is ready."""

    def on_batch(self, update: BatchUpdate) -> None:
        """After every batch (a job: after every STEPS_PER_EXECUTION batches, their mean)."""

    def on_epoch(self, update: EpochUpdate) -> None:
        """After every epoch."""

    def on_layers(self, stats: Any) -> None:
        """Per-layer statistics (kpgui.core.model.layerstats), every few batches."""


SILENT = Listener()  # for runs nobody watches
