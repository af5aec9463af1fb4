"""Training = Keras `fit` plus callbacks (no Qt here).

Keras' own callbacks do what they are for: EarlyStopping (best weights restored),
TerminateOnNaN (a diverging run ends at once), CSVLogger and TensorBoard (logs the ecosystem
reads). Ours (kpgui.core.training.callbacks) report every batch (every STEPS_PER_EXECUTION batches in
a job) to a plain listener and honour Stop.
`Trainer.stop()` may be called from any thread; training ends after the current batch.

A result tells the truth: only finished epochs are in its history; a run stopped inside an
epoch says so (`partial_epoch`); a run whose loss became NaN/inf (or far worse than guessing,
see kpgui.core.training.callbacks) is DIVERGED, with where.
"""

from __future__ import annotations

import datetime as _dt
import math
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from kpgui.core.data.arrays import as_float_images, as_model_input, as_uint8_images
from kpgui.core.data.mnist import load_mnist
from kpgui.core.model.run import DIVERGED, EARLY_STOPPED, FINISHED, STOPPED, RunRecord
from kpgui.core.model.spec import ModelSpec
from kpgui.core.training.progress import SILENT, BatchUpdate, EpochUpdate, Listener, TrainingStart

__all__ = [
    "DIVERGED",
    "EARLY_STOPPED",
    "FINISHED",
    "STOPPED",
    "BatchUpdate",
    "EpochUpdate",
    "RunRecord",
    "Trainer",
    "TrainingStart",
]

VALIDATION_BATCH = 10_000  # validation images evaluated per call (see Trainer.run)
MIN_CALIBRATION_SET = 200  # fewer held-out digits than this give no calibration
UNIFORM = np.full(10, 0.1, np.float32)  # the target of a non-digit: equally unlike every digit
# Batches Keras runs per call of its compiled step when a job trains (kpgui.core.training.jobs):
# callbacks then see every 8th batch (reports carry the mean of the 8; Stop ends within 8
# batches, ~40 ms of the classic network). Measured, the classic recipe on JAX, one-epoch fits
# interleaved in one process on the shared 2-core machine (benchmarks/bench_backends.py's data):
# kpgui's callbacks at every batch cost 69 µs of CPU per sample vs 59 at every 8th (plain fit
# without callbacks: 64), and the rate rose ~20 % (0.85x -> 1.04x plain fit, medians of 3).
STEPS_PER_EXECUTION = 8


def generated_extras(
    spec: ModelSpec,
    x_fit: np.ndarray,
    y_fit: np.ndarray,
    listener: Listener = SILENT,
    held_out_writers: Iterable[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The drawings the spec asks to add to the training images: synthetic digits in people's
    styles, MNIST digits re-drawn as pen strokes, non-digits (soft target 0.1 each) and real
    people's pen digits (never those of `held_out_writers`: default, the writers kept for
    measuring the shipped model). Returns (uint8 images (M, 28, 28), float32 targets (M, 10))."""
    n = len(x_fit)
    seed = 0 if spec.seed is None else int(spec.seed)
    images: list[np.ndarray] = [np.zeros((0, 28, 28), np.uint8)]
    targets: list[np.ndarray] = [np.zeros((0, 10), np.float32)]
    if not (spec.styles or spec.restroke or spec.non_digits or spec.real_pen):
        return images[0], targets[0]
    from kpgui.core.data import synth

    eye = np.eye(10, dtype=np.float32)
    if spec.styles:
        k = int(round(spec.styles * n))
        listener.on_status(f"Drawing {k:,} digits in people's styles…")
        x, y = synth.synthetic_digits(k, seed=seed + 101)
        images.append(x)
        targets.append(eye[y])
    if spec.restroke:
        k = min(n, int(round(spec.restroke * n)))
        listener.on_status(f"Re-drawing {k:,} MNIST digits as pen strokes…")
        pick = np.random.default_rng(seed + 202).choice(n, k, replace=False)
        images.append(synth.restroke(x_fit[pick], y_fit[pick], seed=seed + 202))
        targets.append(eye[y_fit[pick]])
    if spec.non_digits:
        k = int(round(spec.non_digits * n))
        listener.on_status(f"Drawing {k:,} scribbles, letters and symbols…")
        images.append(synth.non_digits(k, seed=seed + 303))
        targets.append(np.tile(UNIFORM, (k, 1)))
    if spec.real_pen:
        from kpgui.core.data.synth.realpen import HELD_OUT_WRITERS, load_pendigits, real_pen_training_set

        out = HELD_OUT_WRITERS if held_out_writers is None else tuple(held_out_writers)
        pen = load_pendigits().without_writers(out)
        listener.on_status(f"Re-drawing {len(pen):,} real pen digits {spec.real_pen} times each…")
        x, y = real_pen_training_set(pen, spec.real_pen, seed=seed + 404)
        images.append(x)
        targets.append(eye[y])
    return np.concatenate(images), np.concatenate(targets)


class Trainer:
    """Trains the network a ModelSpec describes on MNIST and evaluates it on the test set.

    `data` may be given as (x_train, y_train, x_test, y_test) uint8 arrays (tests and
    fine-tuning pass slices); otherwise MNIST is loaded from `data_path` / $KPGUI_MNIST / the
    Keras cache / a download. `initial_model` continues training an existing (uncompiled or
    compiled) keras model with the spec's optimizer. `extra_train` = (images, labels) adds a
    person's own samples, repeated `extra_repeat` times so they matter against 60 000 MNIST
    ones. `log_dir` receives CSVLogger's history.csv and TensorBoard's event files.
    `steps_per_execution` > 1 runs that many batches per call of the compiled step: the
    callbacks, so the listener and Stop, see every n-th batch (STEPS_PER_EXECUTION).
    `history_before` (with `initial_model`) continues an earlier run: its epochs come first in
    the result's history and the new epochs are numbered after them.
    """

    def __init__(
        self,
        spec: ModelSpec | None = None,
        listener: Listener | None = None,
        *,
        data: tuple | None = None,
        data_path: str | None = None,
        initial_model: Any = None,
        extra_train: tuple[np.ndarray, np.ndarray] | None = None,
        extra_repeat: int = 1,
        evaluate: bool = True,
        log_dir: str | Path | None = None,
        stop_event: Any = None,
        history_before: dict | None = None,
        held_out_writers: Iterable[int] | None = None,
        extra_callbacks: Iterable[Any] = (),
        steps_per_execution: int = 1,
    ) -> None:
        self.spec = (spec or ModelSpec()).validate()
        self.listener = listener or SILENT
        self._data = data
        self._data_path = data_path
        self._initial_model = initial_model
        self._extra = extra_train
        self._extra_repeat = max(1, int(extra_repeat))
        self._evaluate = evaluate
        self._log_dir = Path(log_dir) if log_dir is not None else None
        # Any object with is_set()/set(): a threading.Event, or a multiprocessing one when the
        # request comes from another process.
        self._stop = stop_event if stop_event is not None else threading.Event()
        self._abort = False
        # Continuing an earlier run: its history goes first, epochs count on from there.
        self._before = {
            k: [float(v) for v in vs] for k, vs in (history_before or {}).items() if isinstance(vs, list)
        }
        self._initial_epoch = len(self._before.get("loss", []))
        self._held_out_writers = held_out_writers  # real pen digits never trained on (benchmarks)
        self._extra_callbacks = list(extra_callbacks)  # e.g. a search's pruning (core/training/search.py)
        self.model: Any = None  # the trained keras.Model, once run() has returned
        # Batches per compiled call: callbacks (reports, Stop) see every n-th (STEPS_PER_EXECUTION).
        self._steps_per_execution = max(1, int(steps_per_execution))

    def stop(self, abort: bool = False) -> None:
        """End training after the current batch. `abort` also skips the final test evaluation."""
        self._abort = self._abort or abort
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def _split(self):
        x_train, y_train, x_test, y_test = (
            self._data if self._data is not None else load_mnist(self._data_path)
        )
        spec = self.spec
        if spec.train_samples:
            x_train, y_train = x_train[: spec.train_samples], y_train[: spec.train_samples]
        n_val = int(len(x_train) * spec.validation_split)
        # Like Keras' validation_split: the last part of the training data is held out.
        x_val, y_val = x_train[len(x_train) - n_val :], y_train[len(y_train) - n_val :]
        x_fit, y_fit = x_train[: len(x_train) - n_val], y_train[: len(y_train) - n_val]
        if len(x_fit) == 0:
            raise ValueError("no training images left: lower the validation split or use more samples")
        return x_fit, y_fit, x_val, y_val, x_test, y_test

    def _fit_set(self, x_fit: np.ndarray, y_fit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """MNIST plus generated drawings plus the person's samples: uint8 images, soft targets."""
        eye = np.eye(10, dtype=np.float32)
        parts_x, parts_t = [np.asarray(x_fit, np.uint8)], [eye[np.asarray(y_fit, np.int64)]]
        gx, gt = generated_extras(
            self.spec, parts_x[0], np.asarray(y_fit, np.int64), self.listener, self._held_out_writers
        )
        parts_x.append(gx)
        parts_t.append(gt)
        if self._extra is not None and len(self._extra[0]):
            ex = as_uint8_images(self._extra[0])
            ey = np.asarray(self._extra[1], np.int64).reshape(-1)
            parts_x.append(np.repeat(ex, self._extra_repeat, axis=0))
            parts_t.append(np.repeat(eye[ey], self._extra_repeat, axis=0))
        return np.concatenate(parts_x), np.concatenate(parts_t)

    def _callbacks(self, reporter: Any, stopper: Any, validation: bool) -> tuple[list, Any]:
        import keras

        from kpgui.core.training.callbacks import make_tensorboard

        callbacks = [reporter, stopper, keras.callbacks.TerminateOnNaN(), *self._extra_callbacks]
        early = None
        if validation and self.spec.patience > 0:
            early = keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=self.spec.patience, restore_best_weights=True
            )
            callbacks.append(early)
        if self._log_dir is not None:
            self._log_dir.mkdir(parents=True, exist_ok=True)
            callbacks.append(keras.callbacks.CSVLogger(str(self._log_dir / "history.csv")))
            callbacks.append(make_tensorboard(str(self._log_dir / "tensorboard")))
        return callbacks, early

    def run(self) -> RunRecord:
        """Train (blocking; run it in the training process from a GUI) and return what training
        did (the run's record, without the job's part: kpgui.core.training.jobs adds that); the
        trained Keras model is then `self.model`."""
        spec = self.spec
        started_at = _dt.datetime.now().isoformat(timespec="seconds")
        x_fit, y_fit, x_val, y_val, x_test, y_test = self._split()
        x_all, t_all = self._fit_set(x_fit, y_fit)
        steps = -(-len(x_all) // spec.batch_size)
        self.listener.on_status("Building the network…")
        import keras

        from kpgui.core.model.network import build_model, compile_model, training_model
        from kpgui.core.training.backends import current as current_device
        from kpgui.core.training.callbacks import make_callbacks

        if self._initial_model is not None:
            if spec.seed is not None:  # build_model seeds the models it makes; do the same here
                keras.utils.set_random_seed(spec.seed)
            model = compile_model(self._initial_model, spec, steps * spec.epochs)
        else:
            model = build_model(spec, steps_total=steps * spec.epochs)
        fitting = training_model(model, spec)
        # Keras' own option (compile's steps_per_execution), set after compiling: fit reads it.
        fitting.steps_per_execution = self._steps_per_execution

        first = self._initial_epoch
        total_epochs = first + spec.epochs
        reporter, stopper = make_callbacks(
            self.listener, self._stop, total_epochs, steps, spec.batch_size, len(x_all), first
        )
        eye = np.eye(10, dtype=np.float32)
        validation = (as_model_input(x_val), eye[y_val]) if len(x_val) else None
        callbacks, early = self._callbacks(reporter, stopper, validation is not None)
        # Per-layer gradient norms, update ratios and dead ReLUs on a fixed probe batch.
        from kpgui.core.model.layerstats import probe_batch
        from kpgui.core.training.callbacks import make_layer_stats

        layer_stats = make_layer_stats(
            self.listener,
            probe_batch(x_all, t_all, spec.seed),
            spec.label_smoothing,
            total_epochs,
            steps,
            first,
            self._log_dir,
        )
        callbacks.append(layer_stats)
        self.listener.on_train_begin(
            TrainingStart(
                total_epochs,
                steps,
                len(x_all),
                len(x_val),
                spec,
                first + 1,
                self._before or None,
                current_device(),
            ),
        )
        t0 = time.perf_counter()
        fitted = not self._stop.is_set()
        if fitted:
            # With augmentation, fit trains the network through a wrapper that warps every
            # batch inside the compiled step (kpgui.core.model.network.training_model).
            history = fitting.fit(
                x=as_model_input(x_all),
                y=t_all,
                batch_size=spec.batch_size,
                shuffle=True,
                epochs=total_epochs,
                initial_epoch=first,
                validation_data=validation,
                # The whole validation set as one batch (up to VALIDATION_BATCH): the same
                # numbers, one compiled shape instead of two (JAX traces and compiles each
                # shape per run), a few calls instead of dozens.
                validation_batch_size=min(len(x_val), VALIDATION_BATCH) or None,
                callbacks=callbacks,
                verbose=0,
            ).history
        else:
            history = {}
        wall = time.perf_counter() - t0
        new_epochs = reporter.complete_epochs if history else 0
        if reporter.diverged_at is not None:
            status = DIVERGED
        elif self._stop.is_set():
            status = STOPPED
        elif early is not None and early.stopped_epoch > 0:
            status = EARLY_STOPPED
        else:
            status = FINISHED
        combined = {
            k: self._before.get(k, [])[:first] + [float(v) for v in vs[:new_epochs]]
            for k, vs in history.items()
        }
        self.model = model
        result = RunRecord(
            spec=spec,
            history=combined,
            status=status,
            epochs_run=first + new_epochs,
            wall_time=wall,
            train_samples=len(x_all),
            samples_per_second=reporter.seen / wall if wall > 0 else 0.0,
            partial_epoch=reporter.partial if history else None,
            diverged_at=reporter.diverged_at,
            # its history is made when fit begins (on_train_begin), so only if fit ran
            layer_stats=layer_stats.history.to_dict() if fitted and len(layer_stats.history) else None,
            started_at=started_at,
        )
        if result.usable and not self._abort:
            self._measure(model, result, x_val, y_val, x_test, y_test)
        return result

    def _measure(
        self,
        model: Any,
        result: RunRecord,
        x_val: np.ndarray,
        y_val: np.ndarray,
        x_test: np.ndarray,
        y_test: np.ndarray,
    ) -> None:
        """Test accuracy and loss, and the calibration fitted on the validation digits."""
        from kpgui.core.reading.confidence import calibrate, expected_calibration_error, fit_calibration

        if self._evaluate and len(x_test):
            self.listener.on_status("Testing on the MNIST test images…")
            probs = _predict(model, x_test)
            y = np.asarray(y_test, np.int64)
            result.test_accuracy = float(np.mean(probs.argmax(axis=1) == y))
            result.test_loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1))))
        if len(x_val) >= MIN_CALIBRATION_SET:
            from kpgui.core.reading.views import VIEWS, with_views

            views = _predict(model, with_views(as_float_images(x_val))).reshape(len(x_val), 1 + VIEWS, 10)
            cal, measured = fit_calibration(views[:, 0], np.asarray(y_val, np.int64), view_probs=views[:, 1:])
            if self._evaluate and len(x_test):
                measured["ece_test_before"] = round(expected_calibration_error(probs, y), 5)
                measured["ece_test_after"] = round(
                    expected_calibration_error(calibrate(probs, cal.temperature), y), 5
                )
            result.calibration = cal.to_card(**measured)
        if result.test_loss is not None and not math.isfinite(result.test_loss):
            result.test_loss = None


def _predict(model: Any, images: np.ndarray) -> np.ndarray:
    """Probabilities for many images through `model(x)` in large batches (no Progbar noise)."""
    x = as_model_input(images)
    out = [np.asarray(model(x[i : i + 2048], training=False), np.float64) for i in range(0, len(x), 2048)]
    return np.concatenate(out) if out else np.zeros((0, 10))
