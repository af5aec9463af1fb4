"""Keras callbacks of our own: progress reports to a plain listener, Stop, and layer stats.

Everything Keras already has is used as is (EarlyStopping, TerminateOnNaN, CSVLogger,
TensorBoard; see Trainer). These exist because Keras has no "tell a listener about every
batch with that batch's own loss", no thread-safe "stop after this batch" request, and no
per-layer gradient / dead-unit report that works the same on every backend.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from kpgui.core.training.progress import BatchUpdate, EpochUpdate, Listener

# A run whose epoch-mean loss passes this has blown up: guessing scores ln 10 = 2.3, and a
# network sure of the wrong digit scores ln(1e7) = 16.1, the ceiling of Keras' clipped
# cross-entropy. On TensorFlow such a run's loss becomes NaN (Keras computes it from the
# softmax's logits there); on JAX it sticks at that ceiling, so NaN alone would miss it.
DIVERGED_LOSS = 10.0


def make_callbacks(
    listener: Listener,
    stop: threading.Event,
    epochs: int,
    steps: int,
    batch_size: int,
    n_train: int,
    initial_epoch: int = 0,
) -> tuple[Any, Any]:
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
            # With steps_per_execution > 1 Keras calls this once per execution, `batch` being
            # its last (past the epoch's end on a short last one): the values are then the
            # mean of the batches since the last call.
            now = min(batch + 1, steps)
            self.done += now - self.step
            self.step = now
            n = min(now * batch_size, n_train)
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
                self.diverged_at = (self.epoch + 1, now)
                self.model.stop_training = True  # TerminateOnNaN's job, for a finite blow-up too
            elapsed = time.perf_counter() - self.t0
            eta = elapsed / self.done * (total_batches - self.done)
            listener.on_batch(
                BatchUpdate(
                    self.epoch + 1,
                    epochs,
                    now,
                    steps,
                    loss,
                    acc,
                    mean_loss,
                    mean_acc,
                    elapsed,
                    eta,
                    self.seen,
                    first,
                ),
            )

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            if self.step < steps or self.diverged_at is not None:
                # Stopped (or diverged) inside this epoch: it is not a finished epoch, and its
                # Keras logs are not an epoch's numbers. Keep what is true and say it is partial.
                if self.step and self.diverged_at is None:
                    self.partial = {
                        "epoch": epoch + 1,
                        "batches": self.step,
                        "of": steps,
                        "loss": self.last[0],
                        "accuracy": self.last[1],
                    }
                return
            self.complete_epochs = epoch + 1 - initial_epoch
            elapsed = time.perf_counter() - self.t0
            eta = elapsed / self.complete_epochs * (epochs - epoch - 1)
            val_loss, val_acc = logs.get("val_loss"), logs.get("val_accuracy")
            listener.on_epoch(
                EpochUpdate(
                    epoch + 1,
                    epochs,
                    float(logs.get("loss", math.nan)),
                    float(logs.get("accuracy", math.nan)),
                    None if val_loss is None else float(val_loss),
                    None if val_acc is None else float(val_acc),
                    elapsed,
                    eta,
                ),
            )

    class StopOnRequest(keras.callbacks.Callback):
        """Ends fit after the current batch once `stop` is set (from any thread or process)."""

        def on_train_batch_end(self, batch, logs=None):
            if stop.is_set():
                self.model.stop_training = True

    return Reporter(), StopOnRequest()


def make_tensorboard(log_dir: str) -> Any:
    """Keras' TensorBoard callback writing per-epoch logs only (train and validation scalars,
    no graph, no profiling). Keras' own, with update_freq="epoch", still turns every value of
    every batch into a TensorFlow tensor and a summary call that writes nothing: measured,
    0.2 ms of CPU per batch (a few % of a batch of the classic network on 2 cores, and the
    largest share of the training thread's own Python work under py-spy). This one skips that
    per-batch work; what it writes is Keras' own."""
    import keras

    class EpochTensorBoard(keras.callbacks.TensorBoard):
        def on_train_batch_end(self, batch, logs=None):
            pass  # update_freq="epoch", no profiling: nothing to write per batch

    return EpochTensorBoard(log_dir=log_dir, histogram_freq=0, write_graph=False, update_freq="epoch")


def make_layer_stats(
    listener: Listener,
    probe: tuple[Any, Any],
    label_smoothing: float,
    epochs: int,
    steps: int,
    initial_epoch: int = 0,
    log_dir: Any = None,
    every: int | None = None,
    budget: float | None = None,
) -> Any:
    """A callback that measures each Dense layer on the fixed `probe` (images, targets) batch
    (kpgui.core.model.layerstats: gradient norm, update/weight ratio, dead ReLU share) before the
    first batch, then at most every `every` batches and only while all reports together have
    taken at most `budget` of the time since training began, evenly spaced (no saving up for a
    burst), and after the last batch (a fixed cost per run, like saving the model: even a short
    run shows where it started and ended). Each report goes to `listener.on_layers(LayerStats)`, to
    `log_dir`/layer_stats.csv and to TensorBoard scalars (`log_dir`/tensorboard/layers, when
    TensorFlow can be imported); the callback's `history` (LayerHistory) keeps them all.
    NumPy on `model.get_weights()`: the same on every Keras backend."""
    import csv
    from pathlib import Path

    import keras

    from kpgui.core.model import layerstats as ls

    every = ls.REPORT_EVERY if every is None else max(1, int(every))
    budget = ls.BUDGET if budget is None else float(budget)
    x_probe, t_probe = probe

    class LayerStatsReporter(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.history = ls.LayerHistory()
            self.enabled = len(x_probe) > 0
            self.prev: list | None = None
            self.prev_batch = 0
            self.done = 0
            self.epoch = initial_epoch
            self.step = 0
            self.cost = 0.0  # seconds the last report took
            self.spent = 0.0  # seconds all reports took (benchmarks/bench_layer_stats.py)
            self.t_begin = time.perf_counter()
            self._csv_file = self._csv = self._tb = None
            if log_dir is not None:
                folder = Path(log_dir)
                folder.mkdir(parents=True, exist_ok=True)
                self._csv_file = open(folder / ls.CSV_NAME, "w", newline="", encoding="utf-8")  # noqa: SIM115
                self._csv = csv.writer(self._csv_file)
                self._csv.writerow(ls.CSV_HEADER)
                try:  # TensorBoard's own writer: no TensorFlow op per value (tf.summary costs
                    # ~2 ms a scalar, more than the probe itself), works on every backend
                    from tensorboard.summary.writer.event_file_writer import EventFileWriter

                    self._tb = EventFileWriter(str(folder / "tensorboard" / "layers"))
                except Exception:  # noqa: BLE001 - TensorBoard not installed: CSV only
                    self._tb = None
            self._report()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            self.step = 0

        def on_train_batch_end(self, batch, logs=None):
            now = min(batch + 1, steps)  # once per execution of several batches (see Reporter)
            self.done += now - self.step
            self.step = now
            if self.done - self.prev_batch >= every and self._affordable():
                self._report()

        def _allowance(self) -> float:
            """Seconds of reports the budget allows now (negative: over budget). At most one
            report's worth is saved up, so reports come evenly, not in bursts after a slow
            stretch (the first batch's graph tracing, an epoch's validation)."""
            earned = budget * (time.perf_counter() - self.t_begin)
            self.spent = max(self.spent, earned - self.cost)
            return earned - self.spent

        def _affordable(self) -> bool:
            """Would one more report (costing what the last did) stay within the budget?"""
            return self._allowance() >= self.cost

        def on_train_end(self, logs=None):
            if self.done > self.prev_batch:
                self._report()
            if self._csv_file is not None:
                self._csv_file.close()
            if self._tb is not None:
                self._tb.close()

        def _report(self) -> None:
            if not self.enabled:
                return
            t0 = time.perf_counter()
            layers = ls.dense_layers(self.model)
            try:
                norms, dead, loss = ls.probe_gradients(layers, x_probe, t_probe, label_smoothing)
            except (ValueError, KeyError, IndexError):  # not a dense softmax network: no stats
                self.enabled = False
                return
            ratios = ls.update_ratios(layers, self.prev, self.done - self.prev_batch)
            stats = ls.LayerStats(
                self.epoch + 1,
                epochs,
                self.step,
                steps,
                self.done,
                ls.layer_names(layers),
                tuple(norms),
                tuple(ratios),
                tuple(dead),
                loss,
            )
            self.history.add(stats)
            self.prev, self.prev_batch = layers, self.done
            if self._csv is not None:
                self._csv.writerows(ls.csv_rows(stats))
                self._csv_file.flush()
            if self._tb is not None:
                self._write_tensorboard(stats)
            listener.on_layers(stats)
            self.cost = time.perf_counter() - t0
            self.spent += self.cost

        def _write_tensorboard(self, stats: Any) -> None:
            from tensorboard.compat.proto.event_pb2 import Event
            from tensorboard.compat.proto.summary_pb2 import Summary

            tags = [f"dense_{i + 1}" for i in range(len(stats.layers) - 1)] + ["output"]
            values = [
                Summary.Value(tag=f"{q}/{tag}", simple_value=v)
                for q in ls.QUANTITIES
                for tag, v in zip(tags, stats.quantity(q), strict=True)
                if math.isfinite(v)
            ]
            self._tb.add_event(Event(wall_time=time.time(), step=stats.batch, summary=Summary(value=values)))

    return LayerStatsReporter()
