"""A training job from start to finish, the same for the window and the command line.

`run_job(job)` loads the data, trains (or fine-tunes, or continues a model), measures, saves the
model with its card into kpgui's models folder, records the run in the history and returns its
`RunRecord` (kpgui.core.model.run): plain data that crosses from the training process to the
window. The window runs it in the training process (kpgui.core.training.worker); `kpgui train`
runs it in its own process. So every run lands in the same History, with the same files, whoever started it.

A diverged run is recorded (status "diverged", where it happened) but its model is not saved:
a network full of NaN is a result to learn from, not a model to use.
"""

from __future__ import annotations

import datetime as _dt
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kpgui.core.model.run import CONTINUE, FINETUNE, TRAIN, RunRecord
from kpgui.core.model.spec import ModelSpec
from kpgui.core.training.progress import SILENT, Listener

if TYPE_CHECKING:
    from kpgui.core.model.inference import Predictor

__all__ = ["CONTINUE", "FINETUNE", "KINDS", "TRAIN", "RunRecord", "TrainJob", "import_keras", "run_job"]

KINDS = (TRAIN, FINETUNE, CONTINUE)


@dataclass(frozen=True)
class TrainJob:
    """What to train. `start_model` is the model file a fine-tune or continue starts from;
    `samples` = (uint8 images (N, 28, 28), labels (N,)) of the person's handwriting (fine-tune);
    `out` is an extra place to save the model (the CLI's --out), checked before training."""

    spec: ModelSpec
    kind: str = TRAIN
    data_path: str | None = None
    start_model: str | None = None
    samples: tuple[np.ndarray, np.ndarray] | None = None
    repeat: int | None = None
    name: str | None = None
    record: bool = True
    out: str | None = None
    force: bool = False  # --out may replace a .json beside it that is not a model card
    logs: bool = True
    tags: dict = field(default_factory=dict)  # e.g. the sweep this run belongs to
    backend: str = "auto"  # the Keras backend that trains (kpgui.core.training.backends)

    def check(self) -> None:
        """Raise ValueError/OSError now for anything that would fail after training (an
        unknown or uninstalled backend is a BackendError, a ValueError)."""
        if self.kind not in KINDS:
            raise ValueError(f"unknown job kind {self.kind!r}")
        from kpgui.core.training.backends import resolve

        resolve(self.backend)
        self.spec.validate()
        if self.kind in (FINETUNE, CONTINUE) and not self.start_model:
            raise ValueError(f"a {self.kind} job needs the model to start from")
        if self.kind == FINETUNE and (self.samples is None or not len(self.samples[1])):
            raise ValueError("no samples of your handwriting yet: draw some digits and save them")
        if self.out:
            from kpgui.core.storage.saving import check_card_place, check_writable

            check_writable(self.out, need_bytes=4 * self.spec.weights + 16_384)
            if not self.force:
                check_card_place(self.out)


def _log_dir(started_at: str, job: TrainJob) -> Path:
    """A log folder of this run's own, created here: mkdir fails when the name is taken, so
    runs started in the same second (other processes too) never share one."""
    from kpgui.core.storage.paths import runs_dir

    stamp = re.sub(r"[^0-9]", "", started_at)[:14]
    base = runs_dir() / f"{job.kind}-{stamp}-{'x'.join(str(h) for h in job.spec.hidden)}"
    path, n = base, 2
    while True:
        try:
            path.mkdir()
            return path
        except FileExistsError:
            path = base.with_name(f"{base.name}-{n}")
            n += 1


def _train(
    job: TrainJob,
    data: tuple,
    listener: Listener,
    stop_event: Any,
    log_dir: Path | None,
    extra_callbacks: Any = (),
) -> tuple[RunRecord, Any, dict | None, Predictor | None]:
    """(what training did, the trained Keras model, personal notes or None, the model it
    started from or None)."""
    from kpgui.core.model.inference import Predictor
    from kpgui.core.training.trainer import STEPS_PER_EXECUTION, Trainer

    if job.kind == TRAIN:
        trainer = Trainer(
            job.spec,
            listener,
            data=data,
            stop_event=stop_event,
            log_dir=log_dir,
            extra_callbacks=extra_callbacks,
            steps_per_execution=STEPS_PER_EXECUTION,
        )
        return trainer.run(), trainer.model, None, None
    start = Predictor.load(job.start_model)
    if job.kind == FINETUNE:
        from kpgui.core.training.personal import finetune

        assert job.samples is not None  # TrainJob.check
        images, labels = job.samples
        ft = finetune(
            start,
            images,
            labels,
            spec=job.spec,
            mnist=data,
            repeat=job.repeat,
            listener=listener,
            stop_event=stop_event,
            log_dir=log_dir,
        )
        return ft.result, ft.model, ft.notes(), start
    from kpgui.core.training.personal import keras_model_from_predictor

    before = start.card.get("history")
    trainer = Trainer(
        job.spec,
        listener,
        data=data,
        stop_event=stop_event,
        log_dir=log_dir,
        initial_model=keras_model_from_predictor(start, job.spec),
        history_before=before if isinstance(before, dict) else None,
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    return trainer.run(), trainer.model, None, start


def _started_from(job: TrainJob, start: Predictor | None) -> dict[str, str]:
    """The card's note of the model a fine-tune or continued run started from."""
    if start is None:
        return {}
    key = "finetuned_from" if job.kind == FINETUNE else "continued_from"
    return {key: str(start.path) if start.path else start.name}


def import_keras(backend: str | None = None) -> float:
    """Import Keras on the backend `backend` resolves to (kpgui.core.training.backends), as quietly as
    their settings allow; the seconds it took (0 when this process already has it: a warm
    training process). Callers send file descriptor 2 to a log for the rest
    (kpgui.core.training.worker.stderr_to)."""
    import os
    import sys

    from kpgui.core.training.backends import select, single_thread_blas

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    select(backend)
    single_thread_blas()  # XLA trains on every core; NumPy's few products need not spin there
    if "keras" in sys.modules:
        return 0.0
    t0 = time.perf_counter()
    import keras  # noqa: F401

    return time.perf_counter() - t0


def run_job(
    job: TrainJob, listener: Listener | None = None, stop_event: Any = None, extra_callbacks: Any = ()
) -> RunRecord:
    """Run `job` to the end (blocking) and return its record (`id` set once it is in the
    history). Raises DatasetError when MNIST cannot be had, ModelLoadError when the start model
    is unusable, ValueError/OSError for bad settings or an unwritable --out (checked before
    training starts). `extra_callbacks` are Keras callbacks added to a TRAIN job's fit (a
    search's pruning: kpgui.core.training.search)."""
    job.check()
    listener = listener or SILENT
    timings: dict[str, float] = {}
    import sys

    from kpgui.core.training import backends

    if "keras" not in sys.modules:
        listener.on_status(f"Loading {backends.NAMES[backends.resolve(job.backend)]}…")
    timings["keras_import_s"] = round(import_keras(job.backend), 2)
    name = backends.select(job.backend)
    device = backends.current()
    t1 = time.perf_counter()
    listener.on_status("Loading MNIST…")
    from kpgui.core.data.mnist import load_mnist

    data = load_mnist(job.data_path)
    timings["data_s"] = round(time.perf_counter() - t1, 2)
    started_at = _dt.datetime.now().isoformat(timespec="seconds")
    log_dir = _log_dir(started_at, job) if job.logs else None

    run, model, personal, start = _train(job, data, listener, stop_event, log_dir, extra_callbacks)
    run.kind, run.name, run.started_at, run.personal = job.kind, job.name, started_at, personal
    run.log_dir = str(log_dir) if log_dir is not None and log_dir.exists() else None
    run.timings, run.tags, run.backend, run.device = timings, dict(job.tags), name, device
    if run.usable:
        listener.on_status("Saving the model…")
        from kpgui.core.storage.paths import models_dir
        from kpgui.core.storage.saving import copy_model, new_model_path, save_model

        target = new_model_path(models_dir(), started_at, run.spec.hidden, job.kind)
        try:
            path = save_model(model, target, run, force=True, **_started_from(job, start))
        except BaseException:
            if target.exists() and target.stat().st_size == 0:  # new_model_path's placeholder
                target.unlink()
            raise
        run.model_path = str(path)
    if job.record:  # recorded before the copy to --out: a full --out disk loses no run
        run.id, run.record_error = _record(run, listener)
    if run.model_path and job.out:
        from kpgui.core.display.errors import one_line

        try:
            run.out_path = str(copy_model(run.model_path, job.out, force=job.force))
        except OSError as exc:
            run.out_error = one_line(exc, "Saving the model")
        else:
            if not job.record:  # kept out of the history: no unrecorded copy in the models folder
                _remove_model(Path(run.model_path))
                run.model_path = run.out_path
    return run


def _remove_model(model: Path) -> None:
    for p in (model, model.with_suffix(".json")):
        try:
            p.unlink()
        except OSError:
            pass


RECORD_ATTEMPTS = 30  # x the store's 2 s lock timeout (+ 1 s pause): a busy database for ~90 s


def _record(
    run: RunRecord,
    listener: Listener = SILENT,
    attempts: int = RECORD_ATTEMPTS,
    pause: float = 1.0,
) -> tuple[int | None, str | None]:
    """Add the run to the history; (run id, None) or (None, why not) — a locked or
    damaged database must not lose the trained model, which is already saved. A database
    another program holds (locked) is tried again, `attempts` times, saying so."""
    from kpgui.core.storage.store import Store, StoreError

    for attempt in range(1, attempts + 1):
        try:
            with Store.open_default() as store:
                return store.add_run(run), None
        except StoreError as exc:
            if exc.kind != StoreError.LOCKED or attempt == attempts:
                return (
                    None,
                    f"The run could not be added to the history: {exc}"
                    + (f" Its model is kept at {run.model_path}." if run.model_path else ""),
                )
            # a notice: the CLI shows it even with --quiet (other listeners: a status)
            listener.on_notice(
                f"The kpgui database is busy (another kpgui is using it); recording the run "
                f"again ({attempt}/{attempts - 1})…",
            )
            time.sleep(pause)
        except OSError as exc:
            return None, f"The run could not be added to the history: {exc}"
    return None, "The run could not be added to the history."  # pragma: no cover
