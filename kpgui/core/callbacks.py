"""Keras callbacks of our own: progress reports to a plain listener, and Stop.

Everything Keras already has is used as is (EarlyStopping, TerminateOnNaN, CSVLogger,
TensorBoard; see Trainer). These two exist because Keras has no "tell a listener about every
batch with that batch's own loss" and no thread-safe "stop after this batch" request.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from kpgui.core.progress import BatchUpdate, EpochUpdate, notify

# A run whose epoch-mean loss passes this has blown up: guessing scores ln 10 = 2.3, and a
# network sure of the wrong digit scores ln(1e7) = 16.1, the ceiling of Keras' clipped
# cross-entropy. On TensorFlow such a run's loss becomes NaN (Keras computes it from the
# softmax's logits there); on JAX it sticks at that ceiling, so NaN alone would miss it.
DIVERGED_LOSS = 10.0


def make_callbacks(listener: Any, stop: threading.Event, epochs: int, steps: int,
                   batch_size: int, n_train: int, initial_epoch: int = 0) -> tuple[Any, Any]:
    """(Reporter, StopOnRequest) for one fit of epochs initial_epoch+1 .. epochs (1-based);
    Keras is imported here, not at start-up."""
    first = initial_epoch + 1
    total_batches = (epochs - initial_epoch) * steps
    import keras

    class Reporter(keras.callbacks.Callback):
        """Turns Keras' running means into per-batch values, tells the listener, and keeps the
        truth about where the run ended: complete epochs, a partial one, the first NaN."""

        def on_train_begin(self, logs=None):
            self.t0 = time.perf_counter()
            self.done = 0  # batches over the whole run
            self.seen = 0  # samples over the whole run
            self.complete_epochs = 0
            self.partial: dict | None = None
            self.diverged_at: tuple[int, int] | None = None
            self.epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            self.step = 0
            self.prev = (0.0, 0.0, 0)  # running sums of loss, accuracy and the sample count
            self.last = (math.nan, math.nan)

        def on_train_batch_end(self, batch, logs=None):
            logs = logs or {}
            self.done += 1
            self.step = batch + 1
            n = min((batch + 1) * batch_size, n_train)
            mean_loss = float(logs.get("loss", math.nan))
            mean_acc = float(logs.get("accuracy", math.nan))
            sl, sa, sn = self.prev
            k = max(n - sn, 1)
            loss = (mean_loss * n - sl) / k
            acc = (mean_acc * n - sa) / k
            self.prev = (mean_loss * n, mean_acc * n, n)
            self.seen += k
            self.last = (mean_loss, mean_acc)
            if self.diverged_at is None and (not math.isfinite(mean_loss) or mean_loss > DIVERGED_LOSS):
                self.diverged_at = (self.epoch + 1, batch + 1)
                self.model.stop_training = True  # TerminateOnNaN's job, for a finite blow-up too
            elapsed = time.perf_counter() - self.t0
            eta = elapsed / self.done * (total_batches - self.done)
            notify(listener, "on_batch",
                   BatchUpdate(self.epoch + 1, epochs, batch + 1, steps, loss, acc, mean_loss,
                               mean_acc, elapsed, eta, self.seen, first))

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            if self.step < steps or self.diverged_at is not None:
                # Stopped (or diverged) inside this epoch: it is not a finished epoch, and its
                # Keras logs are not an epoch's numbers. Keep what is true and say it is partial.
                if self.step and self.diverged_at is None:
                    self.partial = {"epoch": epoch + 1, "batches": self.step, "of": steps,
                                    "loss": self.last[0], "accuracy": self.last[1]}
                return
            self.complete_epochs = epoch + 1 - initial_epoch
            elapsed = time.perf_counter() - self.t0
            eta = elapsed / self.complete_epochs * (epochs - epoch - 1)
            val_loss, val_acc = logs.get("val_loss"), logs.get("val_accuracy")
            notify(listener, "on_epoch",
                   EpochUpdate(epoch + 1, epochs, float(logs.get("loss", math.nan)),
                               float(logs.get("accuracy", math.nan)),
                               None if val_loss is None else float(val_loss),
                               None if val_acc is None else float(val_acc), elapsed, eta))

    class StopOnRequest(keras.callbacks.Callback):
        """Ends fit after the current batch once `stop` is set (from any thread or process)."""

        def on_train_batch_end(self, batch, logs=None):
            if stop.is_set():
                self.model.stop_training = True

    return Reporter(), StopOnRequest()
