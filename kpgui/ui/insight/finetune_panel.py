"""Fine-tune the current model on MNIST plus the person's samples, through the main window's
training machinery (same live plots, progress and Stop), then show the honest before/after:
"your digits: 82.0 % → 97.0 %; MNIST test: 98.9 % → 98.8 %".

A held-out part of the samples (per digit, never trained on) is measured before and after.
If no `start_training` is given, the panel trains in its own thread with `personal.finetune`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from kpgui.core.evaluation import accuracy
from kpgui.ui.insight import dialogs

MIN_SAMPLES = 10


@dataclass
class Pending:
    """What a started fine-tuning run needs to be measured when it ends."""

    predictor: Any
    held_images: np.ndarray
    held_labels: np.ndarray
    train_count: int
    repeat: int
    personal_before: float | None
    mnist_before: float | None


class FineTuneWorker(QThread):
    """Fallback: runs `personal.finetune` in a thread, reporting like the training worker."""

    batch = Signal(object)
    epoch = Signal(object)
    began = Signal(object)
    done = Signal(object)  # FineTuneResult
    failed = Signal(str)

    def __init__(self, predictor, images, labels, spec, repeat, mnist=None, parent=None):
        super().__init__(parent)
        self.args = (predictor, images, labels)
        self.spec, self.repeat, self.mnist = spec, repeat, mnist
        self.trainer = None

    def on_train_begin(self, s):
        self.began.emit(s)

    def on_batch(self, u):
        self.batch.emit(u)

    def on_epoch(self, u):
        self.epoch.emit(u)

    def stop(self):
        if self.trainer is not None:
            self.trainer.stop()

    def run(self):
        from kpgui.core.personal import finetune

        try:
            out = finetune(*self.args, spec=self.spec, mnist=self.mnist, repeat=self.repeat,
                           listener=self, trainer_hook=lambda t: setattr(self, "trainer", t))
        except Exception as exc:
            self.failed.emit(f"{exc.__class__.__name__}: {exc}")
            return
        self.done.emit(out)


class FineTunePanel(QGroupBox):
    """`start_training(spec, **trainer_kwargs)`: the main window's run starter (may be None).
    `set_predictor(predictor, label)`: used by the fallback path to install the result."""

    finetuned = Signal(object)  # FineTuneResult

    def __init__(self, store: Any, get_predictor: Callable[[], Any],
                 start_training: Callable[..., Any] | None = None,
                 set_predictor: Callable[[Any, str], None] | None = None,
                 plots: Any = None, parent=None) -> None:
        super().__init__("Fine-tune on my digits", parent)
        self.store = store
        self.get_predictor = get_predictor
        self.start_training = start_training
        self.set_predictor = set_predictor
        self.plots = plots
        self.pending: Pending | None = None
        self.last_result = None
        self.worker: FineTuneWorker | None = None
        self.mnist = None  # (x_train, y_train, x_test, y_test); None = all of MNIST
        self.mnist_test: tuple[np.ndarray, np.ndarray] | None = None

        self.info = QLabel()
        self.info.setWordWrap(True)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 50)
        self.epochs.setValue(2)
        self.repeat = QSpinBox()
        self.repeat.setRange(0, 100)
        self.repeat.setSpecialValueText("auto")
        self.repeat.setToolTip("How often each of your samples is repeated per epoch, so a few "
                               "hundred drawings matter against 60 000 MNIST images "
                               "(auto: about 8 % of an epoch)")
        self.mnist_samples = QSpinBox()
        self.mnist_samples.setRange(0, 60000)
        self.mnist_samples.setSingleStep(5000)
        self.mnist_samples.setSpecialValueText("all")
        self.mnist_samples.setToolTip("MNIST training images mixed in (all = 60 000)")
        form = QFormLayout()
        form.addRow("Epochs", self.epochs)
        form.addRow("Repeat my samples", self.repeat)
        form.addRow("MNIST images", self.mnist_samples)
        self.button = QPushButton("Fine-tune on my digits")
        self.button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setVisible(False)
        self.stop_button.clicked.connect(self._stop_fallback)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setStyleSheet("font-weight: bold")
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addWidget(self.stop_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.result_label)
        self.refresh()

    # -- state ---------------------------------------------------------------------------------

    def refresh(self) -> None:
        try:
            counts = self.store.sample_counts()
        except Exception as exc:
            self.info.setText(f"Your samples cannot be read: {exc}")
            self.button.setEnabled(False)
            return
        n = sum(counts.values())
        from kpgui.core.personal import held_out_split

        labels = np.repeat(np.arange(10), [counts.get(d, 0) for d in range(10)])
        train_idx, held_idx = held_out_split(labels)
        self.info.setText(
            f"Trains the current model on MNIST plus your {n} sample{'s' if n != 1 else ''} "
            f"(repeated and augmented so they count). {len(held_idx)} of them (chosen per "
            "digit) are held out, never trained on, and measured before and after."
            + ("" if n >= MIN_SAMPLES else f" Save at least {MIN_SAMPLES} samples first.")
        )
        self.button.setEnabled(n >= MIN_SAMPLES and self.worker is None)

    def _spec(self, predictor: Any):
        from kpgui.core.personal import finetune_spec

        return finetune_spec(predictor).replace(epochs=int(self.epochs.value()),
                                                train_samples=int(self.mnist_samples.value()))

    def _test_set(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mnist is not None:
            return self.mnist[2], self.mnist[3]
        from kpgui.ui.insight.evaluation_view import load_test_set

        return load_test_set()

    # -- starting ------------------------------------------------------------------------------

    def start(self) -> bool:
        """Start fine-tuning; False (with a message) if it cannot start."""
        predictor = self.get_predictor()
        if predictor is None:
            dialogs.show_error(self, "No model", "Load or train a model first, then fine-tune it.")
            return False
        try:
            images, labels, _ids = self.store.sample_arrays()
        except Exception as exc:
            dialogs.show_error(self, "Samples unavailable", str(exc))
            return False
        if len(labels) < MIN_SAMPLES:
            dialogs.show_error(self, "Too few samples",
                               f"You have {len(labels)} samples; save at least {MIN_SAMPLES} "
                               "(a few of each digit) before fine-tuning.")
            return False
        spec = self._spec(predictor)
        repeat = int(self.repeat.value()) or None
        self.result_label.setText("")
        if self.start_training is None:
            return self._start_fallback(predictor, images, labels, spec, repeat)

        from kpgui.core.personal import default_repeat, held_out_split, keras_model_from_predictor

        train_idx, held_idx = held_out_split(labels)
        if repeat is None:
            n_mnist = spec.train_samples or 60000
            repeat = default_repeat(len(train_idx), n_mnist - int(n_mnist * spec.validation_split))
        x_test, y_test = self._test_set()
        pending = Pending(predictor, images[held_idx], labels[held_idx], len(train_idx), repeat,
                          accuracy(predictor, images[held_idx], labels[held_idx]),
                          accuracy(predictor, x_test, y_test))
        try:
            model = keras_model_from_predictor(predictor)
        except Exception as exc:
            dialogs.show_error(self, "Cannot fine-tune this model", str(exc))
            return False
        self.pending = pending
        kwargs = dict(initial_model=model, extra_train=(images[train_idx], labels[train_idx]),
                      extra_repeat=repeat)
        if self.mnist is not None:
            kwargs["data"] = self.mnist
        try:
            started = self.start_training(spec, **kwargs)
        except Exception as exc:
            self.pending = None
            dialogs.show_error(self, "Fine-tuning could not start", str(exc))
            return False
        if started is False:
            self.pending = None
            return False
        self.result_label.setText(
            f"Fine-tuning on {len(train_idx)} of your samples (×{repeat}) plus MNIST; "
            f"{len(held_idx)} held out. Your digits before: "
            f"{_pct(pending.personal_before)}, MNIST test before: {_pct(pending.mnist_before)}.")
        return True

    def on_training_finished(self, result: Any) -> dict | None:
        """The main window's run ended: measure after, show the summary. Returns notes for the
        run record when this was our fine-tuning run (else None)."""
        pending, self.pending = self.pending, None
        if pending is None:
            return None
        from kpgui.core.inference import Predictor
        from kpgui.core.personal import FineTuneResult

        tuned = None
        if result is not None and getattr(result, "model", None) is not None and (
                getattr(result, "epochs_run", 0) or 0) > 0:
            try:
                tuned = Predictor.from_keras(result.model, name=f"{pending.predictor.name} (yours)")
            except Exception:
                tuned = None
        after = None if tuned is None else accuracy(tuned, pending.held_images,
                                                    pending.held_labels)
        mnist_after = getattr(result, "test_accuracy", None)
        if mnist_after is None and tuned is not None:
            mnist_after = accuracy(tuned, *self._test_set())
        out = FineTuneResult(pending.personal_before, after, pending.mnist_before, mnist_after,
                             len(pending.held_labels), pending.train_count, result, tuned,
                             pending.repeat)
        self._show(out)
        return self.notes(out)

    @staticmethod
    def notes(out: Any) -> dict:
        return {"finetune": out.summary(), "personal_before": out.personal_before,
                "personal_after": out.personal_after, "mnist_before": out.mnist_before,
                "mnist_after": out.mnist_after, "held_out": out.held_out_count,
                "personal_trained": out.train_count, "repeat": out.repeat}

    def _show(self, out: Any) -> None:
        self.last_result = out
        status = getattr(out.result, "status", "")
        extra = f" (training {status})" if status and status != "finished" else ""
        held = f" — {out.held_out_count} held-out drawings" if out.held_out_count else (
            " — too few samples to hold any out")
        self.result_label.setText(out.summary() + extra + held)
        self.finetuned.emit(out)

    # -- fallback: our own thread --------------------------------------------------------------

    def _start_fallback(self, predictor, images, labels, spec, repeat) -> bool:
        worker = FineTuneWorker(predictor, images, labels, spec, repeat, self.mnist, self)
        if self.plots is not None and hasattr(self.plots, "reset"):
            self.plots.reset(spec.epochs)
            worker.batch.connect(self.plots.add_batch)
            worker.epoch.connect(self.plots.add_epoch)
        worker.batch.connect(lambda u: self.progress.setValue(int(1000 * u.progress)))
        worker.done.connect(self._fallback_done)
        worker.failed.connect(lambda m: dialogs.show_error(self, "Fine-tuning failed", m))
        worker.finished.connect(self._fallback_finished)
        self.worker = worker
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.stop_button.setVisible(True)
        self.button.setEnabled(False)
        self.result_label.setText("Fine-tuning…")
        worker.start()
        return True

    def _stop_fallback(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def _fallback_done(self, out: Any) -> None:
        self._show(out)
        if self.set_predictor is not None and out.predictor is not None:
            self.set_predictor(out.predictor, "fine-tuned on your digits")

    def _fallback_finished(self) -> None:
        self.worker.deleteLater()
        self.worker = None
        self.progress.setVisible(False)
        self.stop_button.setVisible(False)
        self.refresh()


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f} %"
