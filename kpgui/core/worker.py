"""The training process: where TensorFlow runs, away from the window.

The window starts `main(job, conn, stop)` in a fresh process (multiprocessing, "spawn": no
inherited Qt or threads) and reads what it sends on `conn`, a Pipe, as plain tuples:

    ("status", text)              what it is doing ("Loading TensorFlow…")
    ("begin", TrainingStart)      training started
    ("batch", BatchUpdate)        after every batch
    ("epoch", EpochUpdate)        after every finished epoch
    ("layers", LayerStats)        every few batches: each layer's gradient, update, dead ReLUs
    ("outcome", RunOutcome)       the end: model saved, run recorded
    ("error", (title, text))      the end: it failed, in words for people

`stop` is a multiprocessing Event: set it and training ends after the current batch, then the
model is evaluated, saved and recorded as a stopped run. A process that is killed (or crashes)
just closes the pipe; the window notices and says so. Why a process and not a thread: the
window never imports TensorFlow (its 0.5 s import stall, its ~10 MB growth per run and its slow
shutdown stay out of the window), and "stop now" can always be honoured by ending the process.
Measured in benchmarks/bench_worker.py.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from kpgui.core.jobs import TrainJob, run_job


class PipeListener:
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


def quiet_tensorflow(log_path: str | None = None) -> None:
    """Keep TensorFlow's start-up chatter (oneDNN notices, "failed call to cuInit", absl
    warnings) off the person's terminal: log level 3 before the import, and this process's
    stderr (file descriptor 2, where the C++ side writes) into `log_path`."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")  # CPU only: no CUDA probing noise
    if log_path is None:
        return
    try:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError:
        return
    sys.stderr.flush()
    os.dup2(fd, 2)
    os.close(fd)


def main(job: TrainJob, conn: Any, stop: Any, log_path: str | None = None) -> None:
    """The training process's entry point (see the module docstring for the protocol)."""
    quiet_tensorflow(log_path)
    listener = PipeListener(conn)
    try:
        outcome = run_job(job, listener, stop_event=stop)
    except SystemExit:
        return
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the person as words
        from kpgui.core.errors import describe

        doing = {"finetune": "Fine-tuning"}.get(job.kind, "Training")
        listener._send("error", describe(exc, doing))
        return
    listener._send("outcome", outcome)
