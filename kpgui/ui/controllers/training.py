"""Training runs from the window: start, stop, fine-tune; the training process does the work
(kpgui.core.worker) and its numbers flow into the state, where the plots and the panel read them.

A finished run is a *candidate*, not a replacement: its model is loaded, measured beside the
current one the same way (MNIST test, the person's held-out digits) and offered to keep or
discard (kpgui.core.state.Candidate). A diverged run is reported, recorded, never offered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject

from kpgui.core.jobs import CONTINUE, FINETUNE, TRAIN, RunOutcome, TrainJob
from kpgui.core.personal import MIN_HELD_OUT
from kpgui.core.spec import ModelSpec
from kpgui.core.state import IDLE, RUNNING, STARTING, STOPPING, AppState, Candidate, Comparison, Training

MIN_SAMPLES = 10  # fine-tuning on fewer of the person's digits teaches nothing


class TrainingController(QObject):
    def __init__(self, state: AppState, tasks, store: Any, report_error: Callable[[str, str], None],
                 data_path: Callable[[], str | None] = lambda: None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.tasks = tasks
        self.store = store
        self.report_error = report_error
        self.data_path = data_path  # the MNIST file the person located, if any
        self.job: Any = None  # the running JobTask
        self.last_outcome: RunOutcome | None = None

    # -- starting --------------------------------------------------------------------------------

    def start(self, spec: ModelSpec, name: str | None = None) -> bool:
        """Train a new network with `spec`. False (with the reason said) if it cannot start."""
        return self._launch(TrainJob(spec, TRAIN, data_path=self.data_path(), name=name))

    def finetune(self, spec: ModelSpec | None = None, repeat: int | None = None) -> bool:
        """Fine-tune the current model on MNIST plus the person's samples."""
        model = self.state.model
        if model is None or getattr(model.predictor, "path", None) is None:
            self.report_error("No model", "Load or train a model first, then fine-tune it.")
            return False
        if self.store is None:
            self.report_error("Samples unavailable", "The database with your samples could not be "
                              "opened (see the earlier message).")
            return False
        try:
            images, labels, _ids = self.store.sample_arrays()
        except Exception as exc:  # noqa: BLE001 - a database problem, in its own words
            self.report_error("Samples unavailable", str(exc))
            return False
        if len(labels) < MIN_SAMPLES:
            self.report_error("Too few samples", (
                f"You have {len(labels)} samples; save at least {MIN_SAMPLES} (a few of each "
                "digit: draw one, press its key) before fine-tuning."))
            return False
        from kpgui.core.arrays import as_uint8_images
        from kpgui.core.personal import finetune_spec

        spec = spec or finetune_spec(model.predictor)
        job = TrainJob(spec, FINETUNE, data_path=self.data_path(),
                       start_model=str(model.predictor.path),
                       samples=(as_uint8_images(images), np.asarray(labels, np.uint8)),
                       repeat=repeat, name="fine-tune")
        return self._launch(job)

    def continue_training(self, epochs: int) -> bool:
        """Train the current model `epochs` more epochs with its own recipe."""
        model = self.state.model
        if model is None or getattr(model.predictor, "path", None) is None:
            self.report_error("No model", "Load or train a model first.")
            return False
        from kpgui.core.personal import _spec_from_card

        spec = (_spec_from_card(model.predictor) or ModelSpec()).replace(epochs=int(epochs))
        return self._launch(TrainJob(spec, CONTINUE, data_path=self.data_path(),
                                     start_model=str(model.predictor.path), name="continued"))

    def _launch(self, job: TrainJob) -> bool:
        if self.state.training.busy:
            self.state.say("A training run is already going: stop it first.", 6000)
            return False
        try:
            job.check()
        except (ValueError, OSError) as exc:
            self.report_error("Cannot start training", str(exc))
            return False
        task = self.tasks.start_job(job)
        self.job = task
        s = self.state
        task.status.connect(lambda text: s.set_training(Training(s.training.phase, job.kind, text)))
        task.began.connect(self._began)
        task.batch.connect(s.events.batch.emit)
        task.epoch.connect(s.events.epoch.emit)
        task.done.connect(self._done)
        task.failed.connect(self._failed)
        task.ended.connect(self._ended)
        s.set_training(Training(STARTING, job.kind, "Starting the training process…"))
        return True

    def _began(self, start: Any) -> None:
        phase = STOPPING if self.job is not None and self.job.stop_requested else RUNNING
        self.state.set_training(Training(phase, self.state.training.kind, (
            f"Training on {start.train_samples:,} images ({start.val_samples:,} for validation)…")))
        self.state.events.run_began.emit(start)

    def stop(self) -> None:
        """End the run after the current batch; it is measured, saved and offered as usual."""
        if self.job is None or not self.state.training.busy:
            return
        self.job.stop()
        self.state.set_training(Training(STOPPING, self.state.training.kind,
                                         "Stopping after this batch…"))

    # -- ending ------------------------------------------------------------------------------------

    def _done(self, outcome: RunOutcome) -> None:
        self.last_outcome = outcome
        self.state.set_training(Training(IDLE, outcome.kind, outcome.summary))
        self.state.events.run_ended.emit(outcome)
        self.state.runs_changed()
        if outcome.record_error:
            self.state.say(outcome.record_error, 10000)
        if outcome.status == "diverged":
            self.report_error("Training diverged", (
                f"The run {outcome.summary}. Its network is not used or saved as a model; the "
                "run is kept in History so you can compare it."))
            return
        if not outcome.usable:
            self.state.say("Stopped before any training: the current model stays.", 8000)
            return
        self.offer(outcome)

    def _failed(self, title: str, text: str) -> None:
        self.state.set_training(Training(IDLE, self.state.training.kind, title))
        self.report_error(title, text)

    def _ended(self) -> None:
        self.job = None
        if self.state.training.busy:  # ended without a result: the process is gone
            self.state.set_training(Training(IDLE, self.state.training.kind, ""))

    # -- the candidate -----------------------------------------------------------------------------

    def offer(self, outcome: RunOutcome) -> None:
        """Load the run's model and measure it beside the current one (on a thread)."""
        current = self.state.model
        store = self.store

        def work(_task):
            from kpgui.core.inference import Predictor

            candidate = Predictor.load(outcome.model_path)
            return candidate, compare(current.predictor if current else None, candidate, outcome,
                                      store)

        task = self.tasks.run(work, key="candidate", doing="Measuring the new model")
        task.done.connect(lambda value: self.state.set_candidate(
            Candidate(outcome, value[0], value[1])))
        task.failed.connect(lambda title, text: self.report_error(
            "New model unusable", f"The trained model could not be loaded: {text}"))

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.kill()


def compare(current: Any, candidate: Any, outcome: RunOutcome, store: Any) -> Comparison:
    """Both models measured the same way: MNIST test accuracy (NumPy, all 10 000 images) and
    the person's held-out digits (for a fine-tune, those it did not train on; otherwise all)."""
    from kpgui.core.data import load_mnist
    from kpgui.core.evaluation import accuracy

    try:
        _x, _y, x_test, y_test = load_mnist()
        mnist = (None if current is None else accuracy(current, x_test, y_test),
                 accuracy(candidate, x_test, y_test))
    except Exception:  # noqa: BLE001 - MNIST unreadable here: use what the run measured
        mnist = (None if current is None else current.test_accuracy, outcome.test_accuracy)
    if outcome.kind == FINETUNE and outcome.personal:
        p = outcome.personal
        count = int(p.get("held_out_count") or 0)
        return Comparison(mnist, (p.get("personal_before"), p.get("personal_after")), count,
                          count >= MIN_HELD_OUT)
    personal: tuple[float | None, float | None] = (None, None)
    count = 0
    if store is not None:
        try:
            images, labels, _ids = store.sample_arrays()
        except Exception:  # noqa: BLE001 - no samples to judge by: say nothing about them
            images, labels = np.zeros((0, 28, 28), np.float32), np.zeros(0, np.uint8)
        count = len(labels)
        if count:
            personal = (None if current is None else accuracy(current, images, labels),
                        accuracy(candidate, images, labels))
    return Comparison(mnist, personal, count, count >= MIN_HELD_OUT)
