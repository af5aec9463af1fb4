"""A finished run, one shape from the trainer to the History: `RunRecord`.

The trainer fills what training did (spec, history, status, numbers); the job around it
(kpgui.core.training.jobs.run_job) adds where the model and logs went and the run's id in the
history; the store keeps it and gives it back (kpgui.core.storage.store); the window and the
command line show it; a model card is made from it (kpgui.core.model.cards.make_card). Plain data:
it crosses from the training process to the window as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kpgui.core.model.spec import ModelSpec

FINISHED, EARLY_STOPPED, STOPPED, DIVERGED = "finished", "early stopped", "stopped", "diverged"
TRAIN, FINETUNE, CONTINUE = "train", "finetune", "continue"

# The fields the history keeps in a run's `notes` JSON column (its other columns hold the rest).
NOTE_FIELDS = (
    "partial_epoch",
    "diverged_at",
    "calibration",
    "personal",
    "log_dir",
    "timings",
    "tags",
    "backend",
    "device",
    "samples_per_second",
)


@dataclass
class RunRecord:
    """One training, fine-tuning or continued run: what trained, how it went, what it measured,
    where its files are and (once recorded) its id in the history."""

    spec: ModelSpec
    history: dict[str, list[float]] = field(default_factory=dict)  # finished epochs only
    status: str = FINISHED  # FINISHED, EARLY_STOPPED, STOPPED or DIVERGED
    epochs_run: int = 0  # finished epochs (a continued run counts the earlier ones too)
    wall_time: float | None = None  # seconds of training
    train_samples: int = 0
    samples_per_second: float = 0.0
    test_accuracy: float | None = None
    test_loss: float | None = None
    partial_epoch: dict | None = None  # {"epoch", "batches", "of", "loss", "accuracy"}
    diverged_at: tuple[int, int] | None = None  # (epoch, batch), 1-based
    calibration: dict | None = None  # Calibration.to_card(...) fitted on the validation set
    layer_stats: dict | None = None  # LayerHistory.to_dict(): per-layer gradients, dead ReLUs
    started_at: str | None = None  # when training started (ISO, seconds)
    # The job around the training (kpgui.core.training.jobs)
    kind: str = TRAIN
    name: str | None = None
    personal: dict | None = None  # fine-tune: before/after on held-out drawings
    model_path: str | None = None  # the saved model (None: not usable, e.g. diverged)
    log_dir: str | None = None
    timings: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)  # e.g. the sweep or study this run belongs to
    backend: str | None = None  # the Keras backend that trained ("jax", "tensorflow", ...)
    device: str | None = None  # what trained, for people: "CPU (JAX)"
    notes: dict = field(default_factory=dict)  # anything else kept with the run
    # The history (kpgui.core.storage.store)
    id: int | None = None
    created_at: str | None = None  # when the run was recorded (ISO, seconds)
    # This job's own news, never stored
    out_path: str | None = None  # the copy the CLI's --out asked for
    out_error: str | None = None  # --out could not be written (the model is kept in model_path)
    record_error: str | None = None  # the history could not be written (the model is saved)

    @property
    def usable(self) -> bool:
        """A model worth offering: it trained at least one batch and did not diverge."""
        return self.status != DIVERGED and (self.epochs_run > 0 or self.partial_epoch is not None)

    @property
    def title(self) -> str:
        """What to show in a list: the name, or kind and id."""
        return self.name or f"{self.kind} #{self.id}"

    @property
    def summary(self) -> str:
        """'finished after 3 epochs in 41.2 s; test accuracy 97.25 %', or how it diverged."""
        from kpgui.core.display.numbers import percent
        from kpgui.core.display.runnames import how_it_ran

        if self.status == DIVERGED:
            epoch, batch = self.diverged_at or (self.epochs_run + 1, 0)
            return (
                f"diverged at epoch {epoch}, batch {batch}: the loss blew up (NaN/infinite, or far "
                "worse than guessing) — try a lower learning rate"
            )
        return f"{how_it_ran(self)}; test accuracy {percent(self.test_accuracy)}"

    def stored_notes(self) -> dict[str, Any]:
        """The notes column: the other notes, and the note fields that are set."""
        fields: dict[str, Any] = {
            "partial_epoch": self.partial_epoch,
            "diverged_at": self.diverged_at,
            "calibration": self.calibration,
            "personal": self.personal,
            "log_dir": self.log_dir,
            "timings": self.timings,
            "tags": self.tags,
            "backend": self.backend,
            "device": self.device,
            "samples_per_second": self.samples_per_second,
        }
        return {**self.notes, **{k: v for k, v in fields.items() if v}}


def _dict(value: Any) -> dict | None:
    return value if isinstance(value, dict) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def note_fields(notes: dict[str, Any]) -> dict[str, Any]:
    """RunRecord's keyword arguments from a stored notes column (RunRecord.stored_notes; older
    kpgui wrote the same keys): values of the wrong type are dropped, unknown keys stay notes."""
    rest = {k: v for k, v in notes.items() if k not in NOTE_FIELDS}
    at = notes.get("diverged_at")
    speed = notes.get("samples_per_second")
    return {
        "partial_epoch": _dict(notes.get("partial_epoch")),
        "diverged_at": (int(at[0]), int(at[1]))
        if isinstance(at, list | tuple) and len(at) == 2 and all(isinstance(v, int) for v in at)
        else None,
        "calibration": _dict(notes.get("calibration")),
        "personal": _dict(notes.get("personal")),
        "log_dir": _text(notes.get("log_dir")),
        "timings": _dict(notes.get("timings")) or {},
        "tags": _dict(notes.get("tags")) or {},
        "backend": _text(notes.get("backend")),
        "device": _text(notes.get("device")),
        "samples_per_second": float(speed) if isinstance(speed, int | float) and speed is not True else 0.0,
        "notes": rest,
    }
