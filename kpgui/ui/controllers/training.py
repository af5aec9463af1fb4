"""Training runs from the window: start, stop, fine-tune; the training process does the work
(kpgui.core.training.worker) and its numbers flow into the state, where the plots and the panel read them.

A finished run is a *candidate*, not a replacement: its model is loaded, measured beside the
current one the same way (MNIST test, the person's held-out digits) and offered to keep or
discard (kpgui.core.state.Candidate). A diverged run is reported, recorded, never offered.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer

from kpgui.core.data.mnist import DatasetError
from kpgui.core.display.numbers import percent
from kpgui.core.model.run import RunRecord
from kpgui.core.model.spec import ModelSpec
from kpgui.core.state import (
    IDLE,
    RUNNING,
    STARTING,
    STOPPING,
    AppState,
    Candidate,
    Comparison,
    Overlay,
    SweepProgress,
    Training,
)
from kpgui.core.training.jobs import CONTINUE, FINETUNE, TRAIN, TrainJob
from kpgui.core.training.personal import MIN_HELD_OUT, MIN_SAMPLES
from kpgui.core.training.sweep import Sweep
from kpgui.ui import dialogs
from kpgui.ui.controllers.data import NOT_FOUND, DataController
from kpgui.ui.controllers.report import ReportError
from kpgui.ui.tasks import JobTask, Task, Tasks
from kpgui.ui.window import MainWindow

MIN_FREE_MB = 100  # a run writes its model (a 512-512 network: ~8 MB), card, logs and history


class TrainingController(QObject):
    def __init__(
        self,
        state: AppState,
        tasks: Tasks,
        store: Any,
        data: DataController,
        report_error: ReportError,
        window: MainWindow,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.state = state
        self.tasks = tasks
        self.store = store
        self.data = data  # where MNIST is: each run is handed the file it names
        self.report_error = report_error
        self.job: JobTask | None = None  # the running one
        self.backend = "auto"  # the Keras backend runs train on (kpgui.core.backends.CHOICES)
        self._cancel_rest = False  # Stop during a sweep: skip the runs not started yet
        self.last_outcome: RunRecord | None = None

    # -- starting --------------------------------------------------------------------------------

    def start(self, spec: ModelSpec, name: str | None = None) -> bool:
        """Train a new network with `spec`. False (with the reason said) if it cannot start."""
        return self._launch(TrainJob(spec, TRAIN, name=name))

    def finetune(self, spec: ModelSpec | None = None, repeat: int | None = None) -> bool:
        """Fine-tune the current model on MNIST plus the person's samples."""
        model = self.state.model
        if model is None or model.predictor.path is None:
            self.report_error("No model", "Load or train a model first, then fine-tune it.")
            return False
        if self.store is None:
            self.report_error(
                "Samples unavailable",
                "The database with your samples could not be opened (see the earlier message).",
            )
            return False
        try:
            images, labels, _ids = self.store.sample_arrays()
        except Exception as exc:  # noqa: BLE001 - a database problem, in its own words
            self.report_error("Samples unavailable", str(exc))
            return False
        if len(labels) < MIN_SAMPLES:
            self.report_error(
                "Too few samples",
                (
                    f"You have {len(labels)} samples; save at least {MIN_SAMPLES} (a few of each "
                    "digit: draw one, press its key) before fine-tuning."
                ),
            )
            return False
        from kpgui.core.data.arrays import as_uint8_images
        from kpgui.core.training.personal import finetune_spec

        spec = spec or finetune_spec(model.predictor)
        job = TrainJob(
            spec,
            FINETUNE,
            start_model=str(model.predictor.path),
            samples=(as_uint8_images(images), np.asarray(labels, np.uint8)),
            repeat=repeat,
            name="fine-tune",
        )
        return self._launch(job)

    def finetune_with(self, epochs: int, repeat: int | None, mnist_images: int) -> bool:
        """My digits → Fine-tune: the current model's fine-tune recipe with these epochs and
        MNIST images (0 = all); its progress shows in the Training tab."""
        from kpgui.core.training.personal import finetune_spec

        model = self.state.model
        if model is None:
            self.report_error("No model", "Load or train a model first, then fine-tune it.")
            return False
        spec = finetune_spec(model.predictor).replace(epochs=int(epochs), train_samples=int(mnist_images))
        ok = self.finetune(spec, repeat)
        if ok:
            self.window.show_tab("Training")
        return ok

    def ask_continue(self) -> bool:
        """Model → Continue training…: ask how many more epochs, then train them."""
        epochs, ok = dialogs.ask_int(
            self.window, "Continue training", "Train the current model for more epochs:", 5, 1, 1000
        )
        return self.continue_training(epochs) if ok else False

    def last_model_path(self) -> str | None:
        """The model file of the last finished run, if it left a usable one (the form's Save)."""
        outcome = self.last_outcome
        return outcome.model_path if outcome is not None and outcome.usable else None

    def continue_training(self, epochs: int) -> bool:
        """Train the current model `epochs` more epochs with its own recipe; its history and
        the plots continue where it stopped."""
        model = self.state.model
        if model is None or model.predictor.path is None:
            self.report_error("No model", "Load or train a model first.")
            return False
        from kpgui.core.training.personal import spec_of

        spec = spec_of(model.predictor).replace(epochs=int(epochs))
        return self._launch(
            TrainJob(
                spec,
                CONTINUE,
                start_model=str(model.predictor.path),
                name="continued",
            )
        )

    # -- sweeps ----------------------------------------------------------------------------------

    def start_sweep(self, sweep: Sweep) -> bool:
        """Train one run per value of the sweep, one after another, each its own run in History
        with its curves in its own colour; the best (lowest final validation loss) is offered."""
        if self.state.training.busy:
            self.state.say("A training run is already going: stop it first.", 6000)
            return False
        try:
            specs = sweep.specs()
        except ValueError as exc:
            self.report_error("Cannot start the sweep", str(exc))
            return False
        colours = self.state.colours.fresh(len(specs), self.state.colours_in_use())
        self._cancel_rest = False
        self.state.set_sweep(SweepProgress(sweep, 0, (None,) * len(specs), colours))
        if not self._launch_sweep_run(sweep, specs, 0):
            self.state.set_sweep(None)
            return False
        return True

    def _launch_sweep_run(self, sweep: Sweep, specs: list[ModelSpec], index: int) -> bool:
        value = sweep.values[index]
        job = TrainJob(
            specs[index],
            TRAIN,
            name=sweep.label(value),
            tags={"sweep": sweep.describe(), "sweep_index": index},
        )
        return self._launch(job)

    def _sweep_run_ended(self, outcome: RunRecord | None) -> bool:
        """Book a finished sweep run, start the next; True while the sweep goes on."""
        progress = self.state.sweep
        if progress is None or progress.done:
            return False
        outcomes = list(progress.outcomes)
        outcomes[progress.index] = outcome
        if outcome is not None and outcome.id is not None:
            label = f"{progress.sweep.label(progress.sweep.values[progress.index])}"
            if outcome.test_accuracy is not None:
                label += f" · {percent(outcome.test_accuracy, 1)}"
            self.state.colours.bind(outcome.id, progress.colours[progress.index])
            self.state.set_overlay(
                Overlay(
                    outcome.id,
                    label,
                    outcome.history,
                    progress.colours[progress.index],
                    outcome.layer_stats,
                )
            )
        nxt = progress.index + 1
        cancelled = progress.cancelled or outcome is None or self._cancel_rest
        progress = SweepProgress(progress.sweep, nxt, tuple(outcomes), progress.colours, cancelled)
        self.state.set_sweep(progress)
        if progress.done:
            return False
        return self._launch_sweep_run(progress.sweep, progress.sweep.specs(), nxt)

    # -- the training process -----------------------------------------------------------------

    def set_backend(self, name: str) -> None:
        """Train the next runs on Keras backend `name` (auto, jax, tensorflow, torch). One not
        installed is said when a run starts; a warm process on another backend is replaced."""
        self.backend = name
        if self.tasks.warm_process is not None:
            self.tasks.prewarm(name)

    def warm_up_later(self, delay_ms: int = 3000) -> None:
        """Once the window has been idle `delay_ms`, start a training process in the background
        so the next Start skips its imports (Tasks.keep_warm off: nothing)."""
        QTimer.singleShot(delay_ms, self, self._warm_up)

    def _warm_up(self) -> None:
        if not self.state.training.busy:
            self.tasks.prewarm(self.backend)

    def ready(self, job: TrainJob) -> TrainJob | None:
        """Everything a run needs, checked before a process starts (issue 24): valid settings,
        MNIST where kpgui can read it, room on disk for the model. The job as it will run
        (handed the data controller's MNIST file: the training process never searches or
        downloads), or None after one dialog."""
        try:
            job.check()
        except (ValueError, OSError) as exc:
            self.report_error("Cannot start training", str(exc))
            return None
        try:
            found = self.data.find()
        except DatasetError as exc:
            found, why = None, f"The MNIST file kpgui was told to use is not there: {exc}"
        else:
            why = NOT_FOUND
        if found is None:
            self.report_error(
                "MNIST needed",
                why + " Locate the file, or download it; then press Start again.",
                DatasetError,
            )
            return None
        import shutil

        from kpgui.core.storage.paths import models_dir

        try:
            folder = models_dir()
            free_mb = shutil.disk_usage(folder).free / 2**20
        except OSError as exc:
            self.report_error("Cannot start training", f"The folder for trained models cannot be used: {exc}")
            return None
        if free_mb < MIN_FREE_MB:
            self.report_error(
                "Not enough disk space",
                (
                    f"Only {free_mb:.0f} MB are free in {folder}; a run needs about {MIN_FREE_MB} MB "
                    "for its model and logs. Free some space (or delete old runs in History), then "
                    "press Start again."
                ),
            )
            return None
        return dataclasses.replace(job, data_path=str(found))

    def _launch(self, job: TrainJob) -> bool:
        if self.state.training.busy:
            self.state.say("A training run is already going: stop it first.", 6000)
            return False
        ready = self.ready(dataclasses.replace(job, backend=self.backend))
        if ready is None:
            return False
        job = ready
        task = self.tasks.start_job(job)
        self.job = task
        s = self.state
        task.status.connect(lambda text: s.set_training(Training(s.training.phase, job.kind, text)))
        task.began.connect(self._began)
        task.batch.connect(s.events.batch.emit)
        task.epoch.connect(s.events.epoch.emit)
        task.layers.connect(s.events.layers.emit)
        task.done.connect(self._done)
        task.failed.connect(lambda title, text, t=task: self._failed(title, text, t.error))
        task.ended.connect(lambda t=task: self._ended(t))
        s.set_training(Training(STARTING, job.kind, "Starting the training process…"))
        return True

    def _began(self, start: Any) -> None:
        phase = STOPPING if self.job is not None and self.job.stop_requested else RUNNING
        on = f" on {start.device}" if start.device else ""
        self.state.set_training(
            Training(
                phase,
                self.state.training.kind,
                (f"Training{on}: {start.train_samples:,} images ({start.val_samples:,} for validation)…"),
            )
        )
        self.state.events.run_began.emit(start)

    def stop(self) -> None:
        """End the run after the current batch; it is measured, saved and offered as usual.
        During a sweep the runs not started yet are cancelled."""
        if self.job is None or not self.state.training.busy:
            return
        self._cancel_rest = True  # a sweep's runs not started yet are skipped
        self.job.stop()
        self.state.set_training(Training(STOPPING, self.state.training.kind, "Stopping after this batch…"))

    # -- ending ------------------------------------------------------------------------------------

    def _done(self, outcome: RunRecord) -> None:
        self.last_outcome = outcome
        self.state.set_training(Training(IDLE, outcome.kind, outcome.summary))
        self.state.events.run_ended.emit(outcome)
        self.state.runs_changed()
        if outcome.record_error:
            self.state.say(outcome.record_error, 10000)
        sweep = self.state.sweep
        if sweep is not None and not sweep.done:
            if self._sweep_run_ended(outcome):
                return  # the next run of the sweep has started
            self._sweep_finished()
            return
        if outcome.status == "diverged":
            self.report_error(
                "Training diverged",
                (
                    f"The run {outcome.summary}. Its network is not used or saved as a model; the "
                    "run is kept in History so you can compare it."
                ),
            )
            return
        if not outcome.usable:
            self.state.say("Stopped before any training: the current model stays.", 8000)
            return
        self.offer(outcome)

    def _failed(self, title: str, text: str, error: type[BaseException] | None = None) -> None:
        self.state.set_training(Training(IDLE, self.state.training.kind, title))
        sweep = self.state.sweep
        if sweep is not None and not sweep.done:
            self._sweep_run_ended(None)  # a failed run cancels the rest of the sweep
        self.report_error(title, text, error)

    def _sweep_finished(self) -> None:
        progress = self.state.sweep
        best = None if progress is None else progress.best
        outcome = None if progress is None or best is None else progress.outcomes[best]
        if (
            progress is None or best is None or outcome is None
        ):  # best_index never picks a run that did not end
            self.state.say("The sweep ended without a usable model.", 8000)
            return
        self.state.say(
            f"Sweep done: the best run is {progress.sweep.label(progress.sweep.values[best])} "
            "(lowest validation loss).",
            10000,
        )
        self.last_outcome = outcome
        self.offer(outcome)

    def _ended(self, task: Any) -> None:
        if self.job is not task:  # an earlier run's process exiting after the next one began
            return
        self.job = None
        if self.state.training.busy:  # ended without a result: the process is gone
            self.state.set_training(Training(IDLE, self.state.training.kind, ""))

    # -- the candidate -----------------------------------------------------------------------------

    def offer(self, outcome: RunRecord) -> None:
        """Load the run's model and measure it beside the current one (on a thread)."""
        current = self.state.model
        store, test_set = self.store, self.data.test_set

        def work(_task: Task) -> tuple[Any, Comparison]:
            from kpgui.core.model.inference import Predictor

            candidate = Predictor.load(outcome.model_path, allow_keras=False)
            before = current.predictor if current else None
            return candidate, compare(before, candidate, outcome, store, test_set)

        task = self.tasks.run(work, key="candidate", doing="Measuring the new model")
        task.done.connect(lambda value: self.state.set_candidate(Candidate(outcome, value[0], value[1])))
        task.failed.connect(
            lambda title, text: self.report_error(
                "New model unusable", f"The trained model could not be loaded: {text}"
            )
        )

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.kill()


def compare(
    current: Any,
    candidate: Any,
    outcome: RunRecord,
    store: Any,
    test_set: Callable[[], tuple[np.ndarray, np.ndarray]],
) -> Comparison:
    """Both models measured the same way: MNIST test accuracy (NumPy, all 10 000 images of
    `test_set()`, the data controller's test half), the person's held-out digits (for a
    fine-tune, those it did not train on; otherwise all), and how often each says "not sure" on
    the benchmarks' fixed set of non-digits."""
    from dataclasses import replace

    from kpgui.core.model.evaluation import not_sure_rate, reference_non_digits

    comparison = _compare_digits(current, candidate, outcome, store, test_set)
    try:
        others = reference_non_digits()
        rates = (
            None if current is None else not_sure_rate(current, others),
            not_sure_rate(candidate, others),
        )
    except Exception:  # noqa: BLE001 - a model that cannot read them: say nothing about it
        return comparison
    return replace(comparison, not_sure=rates)


def _compare_digits(
    current: Any,
    candidate: Any,
    outcome: RunRecord,
    store: Any,
    test_set: Callable[[], tuple[np.ndarray, np.ndarray]],
) -> Comparison:
    from kpgui.core.model.evaluation import accuracy

    mnist: tuple[float | None, float | None]
    try:
        x_test, y_test = test_set()
    except DatasetError:  # MNIST gone or unreadable since the run: use what the run measured
        mnist = (None if current is None else current.test_accuracy, outcome.test_accuracy)
    else:
        mnist = (
            None if current is None else accuracy(current, x_test, y_test),
            accuracy(candidate, x_test, y_test),
        )
    if outcome.kind == FINETUNE and outcome.personal:
        p = outcome.personal
        count = int(p.get("held_out_count") or 0)
        return Comparison(
            mnist, (p.get("personal_before"), p.get("personal_after")), count, count >= MIN_HELD_OUT
        )
    personal: tuple[float | None, float | None] = (None, None)
    count = 0
    if store is not None:
        try:
            images, labels, _ids = store.sample_arrays()
        except Exception:  # noqa: BLE001 - no samples to judge by: say nothing about them
            images, labels = np.zeros((0, 28, 28), np.float32), np.zeros(0, np.uint8)
        count = len(labels)
        if count:
            personal = (
                None if current is None else accuracy(current, images, labels),
                accuracy(candidate, images, labels),
            )
    return Comparison(mnist, personal, count, count >= MIN_HELD_OUT)
