"""A training job from start to finish, the same for the window and the command line.

`run_job(job)` loads the data, trains (or fine-tunes, or continues a model), measures, saves the
model with its card into kpgui's models folder, records the run in the history and returns a
`RunOutcome`: plain data that crosses from the training process to the window. The window runs
it in the training process (kpgui.core.training.worker); `kpgui train` runs it in its own process. So
every run lands in the same History, with the same files, whoever started it.

A diverged run is recorded (status "diverged", where it happened) but its model is not saved:
a network full of NaN is a result to learn from, not a model to use.
"""

from __future__ import annotations

import datetime as _dt
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kpgui.core.model.spec import ModelSpec
from kpgui.core.training.progress import notify

TRAIN, FINETUNE, CONTINUE = "train", "finetune", "continue"
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


@dataclass
class RunOutcome:
    """The result of a job as plain data (picklable, JSON-able)."""

    kind: str
    name: str | None
    status: str
    summary: str
    spec: dict
    epochs_run: int
    history: dict[str, list[float]]
    test_accuracy: float | None
    test_loss: float | None
    wall_time: float
    samples_per_second: float
    train_samples: int
    started_at: str
    partial_epoch: dict | None = None
    diverged_at: tuple[int, int] | None = None
    calibration: dict | None = None
    personal: dict | None = None  # fine-tune: before/after on held-out drawings
    model_path: str | None = None  # the saved model (None: not usable, e.g. diverged)
    out_path: str | None = None
    out_error: str | None = None  # --out could not be written (the model is kept in model_path)
    run_id: int | None = None
    log_dir: str | None = None
    record_error: str | None = None  # the history could not be written (the model is saved)
    timings: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)
    layer_stats: dict | None = None  # per-layer gradients, dead ReLUs (layerstats.LayerHistory)
    backend: str | None = None  # the Keras backend that trained ("jax", "tensorflow", ...)
    device: str | None = None  # what trained, for people: "CPU (JAX)"

    @property
    def usable(self) -> bool:
        return self.model_path is not None

    def to_dict(self) -> dict:
        return asdict(self)


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
    listener: Any,
    stop_event: Any,
    log_dir: Path | None,
    extra_callbacks: Any = (),
):
    """(TrainingResult, personal notes or None, the model it started from or None)."""
    from kpgui.core.model.inference import Predictor
    from kpgui.core.training.trainer import Trainer

    if job.kind == TRAIN:
        trainer = Trainer(
            job.spec,
            listener,
            data=data,
            stop_event=stop_event,
            log_dir=log_dir,
            extra_callbacks=extra_callbacks,
        )
        return trainer.run(), None, None
    start = Predictor.load(job.start_model)
    if job.kind == FINETUNE:
        from kpgui.core.training.personal import finetune

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
        return ft.result, ft.notes(), start
    from kpgui.core.training.personal import keras_model_from_predictor

    before = start.card.get("history") if isinstance(start.card, dict) else None
    trainer = Trainer(
        job.spec,
        listener,
        data=data,
        stop_event=stop_event,
        log_dir=log_dir,
        initial_model=keras_model_from_predictor(start, job.spec),
        history_before=before if isinstance(before, dict) else None,
    )
    return trainer.run(), None, start


def _card_extra(job: TrainJob, personal: dict | None, start: Any, outcome: RunOutcome) -> dict:
    extra: dict[str, Any] = {"kind": job.kind, "backend": outcome.backend, "device": outcome.device}
    if personal:
        extra["personal"] = personal
    if start is not None:
        extra["finetuned_from" if job.kind == FINETUNE else "continued_from"] = (
            str(start.path) if start.path else start.name
        )
    if outcome.diverged_at:
        extra["diverged_at"] = list(outcome.diverged_at)
    return extra


def import_keras(backend: str | None = None) -> float:
    """Import Keras on the backend `backend` resolves to (kpgui.core.training.backends), as quietly as
    their settings allow; the seconds it took (0 when this process already has it: a warm
    training process). Callers send file descriptor 2 to a log for the rest
    (kpgui.core.training.worker.stderr_to)."""
    import os
    import sys

    from kpgui.core.training.backends import select

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    select(backend)
    if "keras" in sys.modules:
        return 0.0
    t0 = time.perf_counter()
    import keras  # noqa: F401

    return time.perf_counter() - t0


def run_job(
    job: TrainJob, listener: Any = None, stop_event: Any = None, extra_callbacks: Any = ()
) -> RunOutcome:
    """Run `job` to the end (blocking) and return its outcome. Raises DatasetError when MNIST
    cannot be had, ModelLoadError when the start model is unusable, ValueError/OSError for bad
    settings or an unwritable --out (checked before training starts). `extra_callbacks` are
    Keras callbacks added to a TRAIN job's fit (a search's pruning: kpgui.core.training.search)."""
    job.check()
    timings: dict[str, float] = {}
    import sys

    from kpgui.core.training import backends

    if "keras" not in sys.modules:
        notify(listener, "on_status", f"Loading {backends.NAMES[backends.resolve(job.backend)]}…")
    timings["keras_import_s"] = round(import_keras(job.backend), 2)
    name = backends.select(job.backend)
    device = backends.current()
    t1 = time.perf_counter()
    notify(listener, "on_status", "Loading MNIST…")
    from kpgui.core.data.mnist import load_mnist

    data = load_mnist(job.data_path)
    timings["data_s"] = round(time.perf_counter() - t1, 2)
    started_at = _dt.datetime.now().isoformat(timespec="seconds")
    log_dir = _log_dir(started_at, job) if job.logs else None

    result, personal, start = _train(job, data, listener, stop_event, log_dir, extra_callbacks)
    result.started_at = started_at
    outcome = RunOutcome(
        kind=job.kind,
        name=job.name,
        status=result.status,
        summary=result.summary(),
        spec=result.spec.to_dict(),
        epochs_run=result.epochs_run,
        history={k: list(v) for k, v in result.history.items()},
        test_accuracy=result.test_accuracy,
        test_loss=result.test_loss,
        wall_time=result.wall_time,
        samples_per_second=result.samples_per_second,
        train_samples=result.train_samples,
        started_at=started_at,
        partial_epoch=result.partial_epoch,
        diverged_at=result.diverged_at,
        calibration=result.calibration,
        personal=personal,
        log_dir=str(log_dir) if log_dir is not None and log_dir.exists() else None,
        timings=timings,
        tags=dict(job.tags),
        layer_stats=result.layer_stats,
        backend=name,
        device=device,
    )
    if result.usable:
        notify(listener, "on_status", "Saving the model…")
        from kpgui.core.storage.paths import models_dir
        from kpgui.core.storage.saving import copy_model, new_model_path, save_model

        target = new_model_path(models_dir(), started_at, result.spec.hidden, job.kind)
        try:
            path = save_model(
                result.model, target, result, force=True, **_card_extra(job, personal, start, outcome)
            )
        except BaseException:
            if target.exists() and target.stat().st_size == 0:  # new_model_path's placeholder
                target.unlink()
            raise
        outcome.model_path = str(path)
    if job.record:  # recorded before the copy to --out: a full --out disk loses no run
        outcome.run_id, outcome.record_error = _record(result, outcome, listener)
    if outcome.model_path and job.out:
        from kpgui.core.display.errors import one_line

        try:
            outcome.out_path = str(copy_model(outcome.model_path, job.out, force=job.force))
        except OSError as exc:
            outcome.out_error = one_line(exc, "Saving the model")
        else:
            if not job.record:  # kept out of the history: no unrecorded copy in the models folder
                _remove_model(Path(outcome.model_path))
                outcome.model_path = outcome.out_path
    return outcome


def _remove_model(model: Path) -> None:
    for p in (model, model.with_suffix(".json")):
        try:
            p.unlink()
        except OSError:
            pass


RECORD_ATTEMPTS = 30  # x the store's 2 s lock timeout (+ 1 s pause): a busy database for ~90 s


def _record(
    result: Any,
    outcome: RunOutcome,
    listener: Any = None,
    attempts: int = RECORD_ATTEMPTS,
    pause: float = 1.0,
) -> tuple[int | None, str | None]:
    """Add the run to the history; (run id, None) or (None, why not) — a locked or damaged
    database must not lose the trained model, which is already saved. A database another
    program holds (locked) is tried again, `attempts` times, saying so."""
    from kpgui.core.storage.store import Store, StoreError

    notes = {
        k: v
        for k, v in (
            ("partial_epoch", outcome.partial_epoch),
            ("diverged_at", outcome.diverged_at),
            ("calibration", outcome.calibration),
            ("personal", outcome.personal),
            ("log_dir", outcome.log_dir),
            ("timings", outcome.timings),
            ("tags", outcome.tags or None),
            ("device", outcome.device),
        )
        if v
    }
    for attempt in range(1, attempts + 1):
        try:
            with Store.open_default() as store:
                run_id = store.add_run(
                    result, model_path=outcome.model_path, name=outcome.name, kind=outcome.kind, notes=notes
                )
            return run_id, None
        except StoreError as exc:
            if exc.kind != StoreError.LOCKED or attempt == attempts:
                return None, f"The run could not be added to the history: {exc}" + (
                    f" Its model is kept at {outcome.model_path}." if outcome.model_path else ""
                )
            # on_notice where the listener has it (the CLI shows it even with --quiet)
            notify(
                listener,
                "on_notice" if hasattr(listener, "on_notice") else "on_status",
                f"The kpgui database is busy (another kpgui is using it); recording the run "
                f"again ({attempt}/{attempts - 1})…",
            )
            time.sleep(pause)
        except OSError as exc:
            return None, f"The run could not be added to the history: {exc}"
    return None, "The run could not be added to the history."  # pragma: no cover
