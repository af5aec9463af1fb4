"""Training = Keras `fit` plus callbacks that report to a plain Python listener (no Qt here).

A listener is any object with some of: on_train_begin(TrainingStart), on_batch(BatchUpdate),
on_epoch(EpochUpdate). The GUI's listener forwards these to the window; the CLI's prints a bar.
`Trainer.stop()` may be called from any thread; training ends after the current batch.
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kpgui.core.data import load_mnist, to_model_input
from kpgui.core.spec import ModelSpec

FINISHED, EARLY_STOPPED, STOPPED = "finished", "early stopped", "stopped"


@dataclass(frozen=True)
class TrainingStart:
    epochs: int
    steps_per_epoch: int
    train_samples: int
    val_samples: int
    spec: ModelSpec


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

    @property
    def progress(self) -> float:
        """Fraction of the whole run done, 0..1; also the x position in epochs when scaled."""
        return ((self.epoch - 1) * self.steps + self.step) / (self.epochs * self.steps)

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


@dataclass
class TrainingResult:
    spec: ModelSpec
    model: Any  # the trained keras.Model
    history: dict[str, list[float]]
    status: str  # FINISHED, EARLY_STOPPED or STOPPED
    epochs_run: int
    wall_time: float
    train_samples: int
    samples_per_second: float
    test_accuracy: float | None = None
    test_loss: float | None = None
    started_at: str = field(default_factory=lambda: _dt.datetime.now().isoformat(timespec="seconds"))

    def summary(self) -> str:
        acc = "not evaluated" if self.test_accuracy is None else f"{100 * self.test_accuracy:.2f} %"
        return (
            f"{self.status} after {self.epochs_run} epoch(s) in {self.wall_time:.1f} s; "
            f"test accuracy {acc}"
        )


def _notify(listener: Any, method: str, update: Any) -> None:
    fn = getattr(listener, method, None)
    if fn is not None:
        fn(update)


def _make_callbacks(trainer: Trainer, epochs: int, steps: int, batch_size: int, n_train: int):
    import keras

    class Reporter(keras.callbacks.Callback):
        """Turns Keras' running means into per-batch values and tells the listener."""

        seen = 0

        def on_train_begin(self, logs=None):
            self.t0 = time.perf_counter()
            self.done = 0
            self.seen = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            self.prev = (0.0, 0.0, 0)  # running sums of loss, accuracy and the sample count

        def on_train_batch_end(self, batch, logs=None):
            logs = logs or {}
            self.done += 1
            n = min((batch + 1) * batch_size, n_train)
            mean_loss, mean_acc = float(logs.get("loss", np.nan)), float(logs.get("accuracy", np.nan))
            sl, sa, sn = self.prev
            k = max(n - sn, 1)
            loss = (mean_loss * n - sl) / k
            acc = (mean_acc * n - sa) / k
            self.prev = (mean_loss * n, mean_acc * n, n)
            self.seen += k
            elapsed = time.perf_counter() - self.t0
            eta = elapsed / self.done * (epochs * steps - self.done)
            _notify(
                trainer.listener,
                "on_batch",
                BatchUpdate(self.epoch + 1, epochs, batch + 1, steps, loss, acc,
                            mean_loss, mean_acc, elapsed, eta, self.seen),
            )

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            elapsed = time.perf_counter() - self.t0
            eta = elapsed / (epoch + 1) * (epochs - epoch - 1)
            val_loss, val_acc = logs.get("val_loss"), logs.get("val_accuracy")
            _notify(
                trainer.listener,
                "on_epoch",
                EpochUpdate(epoch + 1, epochs, float(logs.get("loss", np.nan)),
                            float(logs.get("accuracy", np.nan)),
                            None if val_loss is None else float(val_loss),
                            None if val_acc is None else float(val_acc), elapsed, eta),
            )

    class StopOnRequest(keras.callbacks.Callback):
        """Ends fit after the current batch once Trainer.stop() was called (from any thread)."""

        def on_train_batch_end(self, batch, logs=None):
            if trainer._stop.is_set():
                self.model.stop_training = True

    return Reporter(), StopOnRequest()


class Trainer:
    """Trains the network a ModelSpec describes on MNIST and evaluates it on the test set.

    `data` may be given as (x_train, y_train, x_test, y_test) uint8 arrays (tests and
    fine-tuning pass slices); otherwise MNIST is loaded from `data_path` / $KPGUI_MNIST / the
    Keras cache / a download. `initial_model` continues training an existing keras model (its
    weights are kept, the spec's optimizer is used). `extra_train` = (images, labels) adds a
    person's own samples, repeated `extra_repeat` times so they matter against 60 000 MNIST ones.
    """

    def __init__(
        self,
        spec: ModelSpec | None = None,
        listener: Any = None,
        *,
        data: tuple | None = None,
        data_path: str | None = None,
        initial_model: Any = None,
        extra_train: tuple[np.ndarray, np.ndarray] | None = None,
        extra_repeat: int = 1,
        evaluate: bool = True,
    ) -> None:
        self.spec = (spec or ModelSpec()).validate()
        self.listener = listener
        self._data = data
        self._data_path = data_path
        self._initial_model = initial_model
        self._extra = extra_train
        self._extra_repeat = max(1, int(extra_repeat))
        self._evaluate = evaluate
        self._stop = threading.Event()
        self._abort = False

    def stop(self, abort: bool = False) -> None:
        """End training after the current batch. `abort` also skips the final test evaluation."""
        self._abort = self._abort or abort
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def _split(self):
        x_train, y_train, x_test, y_test = self._data if self._data is not None else load_mnist(
            self._data_path
        )
        spec = self.spec
        if spec.train_samples:
            x_train, y_train = x_train[: spec.train_samples], y_train[: spec.train_samples]
        n_val = int(len(x_train) * spec.validation_split)
        # Like Keras' validation_split: the last part of the training data is held out.
        x_val, y_val = x_train[len(x_train) - n_val :], y_train[len(y_train) - n_val :]
        x_fit, y_fit = x_train[: len(x_train) - n_val], y_train[: len(y_train) - n_val]
        if self._extra is not None and len(self._extra[0]):
            ex, ey = self._extra
            ex = np.asarray(ex)
            if ex.dtype != np.uint8:
                ex = np.clip(np.round(np.asarray(ex, np.float32).reshape(-1, 28, 28) * 255), 0, 255)
            ex = ex.astype(np.uint8).reshape(-1, 28, 28)
            x_fit = np.concatenate([x_fit, np.repeat(ex, self._extra_repeat, axis=0)])
            y_fit = np.concatenate([y_fit, np.repeat(np.asarray(ey, np.uint8), self._extra_repeat)])
        if len(x_fit) == 0:
            raise ValueError("no training images left: lower the validation split or use more samples")
        return x_fit, y_fit, x_val, y_val, x_test, y_test

    def run(self) -> TrainingResult:
        """Train (blocking; run it in a worker thread from a GUI) and return the result."""
        import keras

        spec = self.spec
        x_fit, y_fit, x_val, y_val, x_test, y_test = self._split()
        onehot = np.eye(10, dtype=np.float32)
        steps = -(-len(x_fit) // spec.batch_size)
        if self._initial_model is not None:
            from kpgui.core.network import make_optimizer

            if spec.seed is not None:  # build_model seeds the models it makes; do the same here
                keras.utils.set_random_seed(spec.seed)
            model = self._initial_model
            model.compile(
                optimizer=make_optimizer(spec, steps * spec.epochs),
                loss=keras.losses.CategoricalCrossentropy(label_smoothing=spec.label_smoothing),
                metrics=["accuracy"],
            )
        else:
            from kpgui.core.network import build_model

            model = build_model(spec, steps_total=steps * spec.epochs)

        reporter, stopper = _make_callbacks(self, spec.epochs, steps, spec.batch_size, len(x_fit))
        callbacks = [reporter, stopper]
        early = None
        validation = None
        if len(x_val):
            validation = (to_model_input(x_val), onehot[y_val])
            if spec.patience > 0:
                early = keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=spec.patience, restore_best_weights=True
                )
                callbacks.append(early)
        _notify(
            self.listener,
            "on_train_begin",
            TrainingStart(spec.epochs, steps, len(x_fit), len(x_val), spec),
        )
        if spec.augment:
            from kpgui.core.augment import augmented_dataset

            # the pipeline reshuffles every epoch itself
            fit_data = {"x": augmented_dataset(x_fit, onehot[y_fit], spec.batch_size, spec.seed),
                        "shuffle": False}
        else:
            fit_data = {"x": to_model_input(x_fit), "y": onehot[y_fit], "batch_size": spec.batch_size,
                        "shuffle": True}
        t0 = time.perf_counter()
        if not self._stop.is_set():
            history = model.fit(
                **fit_data, epochs=spec.epochs, validation_data=validation, callbacks=callbacks,
                verbose=0,
            ).history
        else:
            history = {}
        wall = time.perf_counter() - t0
        epochs_run = len(history.get("loss", []))
        if self._stop.is_set():
            status = STOPPED
        elif early is not None and early.stopped_epoch > 0:
            status = EARLY_STOPPED
        else:
            status = FINISHED
        result = TrainingResult(
            spec=spec, model=model, history={k: [float(v) for v in vs] for k, vs in history.items()},
            status=status, epochs_run=epochs_run, wall_time=wall, train_samples=len(x_fit),
            samples_per_second=reporter.seen / wall if wall > 0 else 0.0,
        )
        if self._evaluate and not self._abort and len(x_test):
            loss, acc = model.evaluate(
                to_model_input(x_test), onehot[y_test], batch_size=1024, verbose=0
            )
            result.test_loss, result.test_accuracy = float(loss), float(acc)
        return result
