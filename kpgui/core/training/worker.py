"""The training process: where Keras (on JAX, TensorFlow or PyTorch) runs, away from the window.

The window starts `serve(conn, stop, log_path, backend, job)` in a fresh process
(multiprocessing, "spawn": no inherited Qt or threads) and talks to it over `conn`, a duplex
Pipe, in plain tuples. The process first imports Keras on its backend (and TensorFlow beside it
for TensorBoard's logs), then says so, then trains the jobs it is given one after another:

    window -> process:
    ("job", TrainJob)             train this (when `job` was not given at the start)
    ("quit", None)                exit (so does the pipe closing)
    process -> window:
    ("status", text)              what it is doing ("Loading JAX…")
    ("ready", info)               imports done: {"backend", "device", "import_s", "rss_mb"}
    ("begin", TrainingStart)      training started
    ("batch", BatchUpdate)        after every 8 batches (trainer.STEPS_PER_EXECUTION), their mean
    ("epoch", EpochUpdate)        after every finished epoch
    ("layers", LayerStats)        every few batches: each layer's gradient, update, dead ReLUs
    ("outcome", RunRecord)        the end of a job: model saved, run recorded
    ("error", (title, text[, type name]))  the end of a job: it failed, in words for people

A process that is ready and waits for a job is *warm*: Start -> first batch then costs no
imports (kpgui.ui.tasks keeps one ready while the window is idle). `stop` is a multiprocessing
Event: set it and training ends after the current batch, then the model is evaluated, saved and
recorded as a stopped run; the window clears it before the next job. A process that is killed
(or crashes) just closes the pipe; the window notices and says so. Why a process and not a
thread: the window never imports the ML libraries (their import stall, their memory growth per
run and their slow shutdown stay out of the window), and "stop now" can always be honoured by
ending the process. Measured in benchmarks/bench_worker.py and benchmarks/bench_backends.py.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from kpgui.core.training.jobs import TrainJob, run_job
from kpgui.core.training.progress import Listener


class PipeListener(Listener):
    """The Trainer's listener in the training process: sends every report up the pipe."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def _send(self, kind: str, value: Any) -> None:
        try:
            self.conn.send((kind, value))
        except (BrokenPipeError, EOFError, OSError):  # the window went away: stop quietly
            raise SystemExit(0) from None

    def on_status(self, text: str) -> None:
        self._send("status", text)

    def on_train_begin(self, start: Any) -> None:
        self._send("begin", start)

    def on_batch(self, update: Any) -> None:
        self._send("batch", update)

    def on_epoch(self, update: Any) -> None:
        self._send("epoch", update)

    def on_layers(self, stats: Any) -> None:
        self._send("layers", stats)


@contextlib.contextmanager
def stderr_to(log_path: str | None) -> Iterator[Any]:
    """Send this process's file descriptor 2 to `log_path` for a while (TensorFlow's C++ side
    and absl write there directly, before any Python logging setting applies), then put it
    back. Yields a text stream to the real stderr, for what the person should see. Without a
    log path nothing changes (and sys.stderr is yielded)."""
    fd = -1
    if log_path is not None:
        try:
            fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError:
            fd = -1
    if fd < 0:
        yield sys.stderr
        return
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(fd, 2)
    os.close(fd)
    terminal = os.fdopen(os.dup(saved), "w", buffering=1, encoding="utf-8", errors="replace")
    try:
        yield terminal
    finally:
        terminal.flush()
        terminal.close()
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def quiet_tensorflow(log_path: str | None = None, backend: str | None = None) -> None:
    """Keep TensorFlow's start-up chatter (oneDNN notices, "failed call to cuInit", absl
    warnings) off the person's terminal: log level 3 before the import, and this process's
    stderr (file descriptor 2, where the C++ side writes) into `log_path`. Without a GPU
    build of the backend that trains, CUDA is hidden (no probing noise, no probing time)."""
    from kpgui.core.training import backends

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    try:
        gpu = backends.gpu_build_installed(backends.resolve(backend))
    except ValueError:
        gpu = False
    if not gpu:
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    if log_path is None:
        return
    try:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError:
        return
    sys.stderr.flush()
    os.dup2(fd, 2)
    os.close(fd)


def rss_mb() -> float:
    """This process's resident memory in MB (Linux /proc; 0 where it cannot be read)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def warm_up(backend: str | None) -> dict:
    """Import what every run needs, before any run: Keras on `backend`, and TensorFlow beside
    it when installed (Keras' TensorBoard callback writes the run's logs with it), so neither
    is paid for after Start. Returns {"backend", "device", "import_s", "rss_mb"}."""
    import time

    from kpgui.core.training import backends
    from kpgui.core.training.jobs import import_keras

    t0 = time.perf_counter()
    name = backends.resolve(backend)
    import_keras(name)
    if name != "tensorflow" and backends.installed("tensorflow"):
        import tensorflow  # noqa: F401
    import kpgui.core.training.callbacks  # noqa: F401

    rehearse()
    return {
        "backend": name,
        "device": backends.current(),
        "import_s": round(time.perf_counter() - t0, 2),
        "rss_mb": rss_mb(),
    }


def rehearse() -> None:
    """One tiny fit of the default network on blank images, before any Start: the backend's
    first-use costs (on JAX: its client, the compiled initialisers, training and test steps,
    which its persistent cache keeps for the next process too) are paid here, not between
    Start and the first batch (measured: ~10 s on a busy 2-core CPU, then under 1 s)."""
    import numpy as np

    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.training.trainer import STEPS_PER_EXECUTION, Trainer

    x = np.zeros((640, 28, 28), np.uint8)
    y = (np.arange(640) % 10).astype(np.uint8)
    Trainer(
        ModelSpec(epochs=1, validation_split=0.2, seed=0),
        data=(x, y, x[:0], y[:0]),
        evaluate=False,
        steps_per_execution=STEPS_PER_EXECUTION,  # as the jobs run: the same code paths warmed
    ).run()
    _release_run_memory()


def _run(job: TrainJob, listener: PipeListener, stop: Any) -> None:
    """One job, its outcome or its failure sent up the pipe; SystemExit if the window is gone."""
    try:
        outcome = run_job(job, listener, stop_event=stop)
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the person as words
        from kpgui.core.display.errors import describe

        doing = {"finetune": "Fine-tuning"}.get(job.kind, "Training")
        listener._send("error", (*describe(exc, doing), type(exc).__name__))  # the name routes it
        return
    listener._send("outcome", outcome)


def serve(
    conn: Any, stop: Any, log_path: str | None = None, backend: str | None = None, job: TrainJob | None = None
) -> None:
    """The training process's entry point (see the module docstring for the protocol): warm
    up, then run `job` if given and every job sent, until told to quit or the pipe closes."""
    quiet_tensorflow(log_path, backend)
    listener = PipeListener(conn)
    try:
        if job is not None:
            _run(job, listener, stop)
        else:
            from kpgui.core.training import backends

            try:
                name = backends.resolve(backend)
            except ValueError as exc:
                listener._send("error", ("Cannot start training", str(exc)))
                return
            listener._send("status", f"Loading {backends.NAMES[name]}…")
            listener._send("ready", warm_up(name))
        while True:
            try:
                kind, value = conn.recv()
            except (EOFError, OSError):
                break
            if kind != "job":
                break
            _run(value, listener, stop)
            _release_run_memory()
    except SystemExit:
        return
    # Every result is sent and every file closed (models and the history are written
    # atomically): skip the ML libraries' slow interpreter shutdown (seconds with TensorFlow).
    sys.stdout.flush()
    os._exit(0)


def _release_run_memory() -> None:
    """Between two runs in one process: drop Keras' global graph state and collect."""
    import gc

    try:
        import keras

        keras.backend.clear_session()
    except Exception:  # noqa: BLE001 - best effort; the next run builds its own model anyway
        pass
    gc.collect()


def main(job: TrainJob, conn: Any, stop: Any, log_path: str | None = None) -> None:
    """Run one job in this (fresh) process and end: `serve` with the job given."""
    serve(conn, stop, log_path, job.backend, job)
