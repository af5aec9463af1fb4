"""The one way the window does work in the background, so the window never freezes.

* `tasks.run(fn, key=...)` runs `fn(task)` on a thread (reading a picture or a model file,
  evaluating on 10 000 images, importing samples). A later task with the same key supersedes
  an earlier one: the earlier one is told to cancel and its result is dropped, so a slow model
  load can never overwrite a newer one.
* `tasks.read_file(path, fn, ...)` is `run` for a file the person chose: refused at once
  when it is not a plain file (a FIFO, a device, a folder), and given up after `timeout`
  seconds (a dead network drive) with a message instead of waiting forever.
* `tasks.start_job(job)` runs a training job (kpgui.core.jobs) in the training process, where
  TensorFlow lives (kpgui.core.worker). Its reports arrive as signals on the GUI thread, read
  from the pipe when Qt says there is something to read (no polling thread).

Both hand back a task with the same shape: signals `done(result)`, `failed(title, text)`,
`ended()`, and `cancel()`. `shutdown()` ends everything within about a second.
"""

from __future__ import annotations

import itertools
import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

from kpgui.core.errors import describe

_ids = itertools.count(1)


class Task(QObject):
    """Work on a thread. `fn(task)` may call `task.report(value)` and check `task.cancelled`."""

    progress = Signal(object)
    done = Signal(object)
    failed = Signal(str, str)
    ended = Signal()
    _finish = Signal(bool, object)  # from the worker thread to the GUI thread

    def __init__(self, key: str | None, doing: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.id = next(_ids)
        self.key = key
        self.doing = doing
        self.cancelled = False
        self.running = True
        self._finish.connect(self._finished)

    def cancel(self) -> None:
        """Drop the result; `fn` may notice `cancelled` and stop early."""
        self.cancelled = True

    def report(self, value: Any) -> None:
        """Call from `fn` (any thread): a progress value for the GUI thread."""
        if not self.cancelled:
            self.progress.emit(value)

    def _finished(self, ok: bool, value: Any) -> None:
        if not self.running:  # already given up (time bound): the late result is dropped
            return
        self.running = False
        if not self.cancelled:
            if ok:
                self.done.emit(value)
            else:
                self.failed.emit(*value)
        self.ended.emit()


class JobTask(QObject):
    """A training job in the training process (see kpgui.core.worker for the protocol)."""

    status = Signal(str)
    began = Signal(object)  # TrainingStart
    batch = Signal(object)  # BatchUpdate
    epoch = Signal(object)  # EpochUpdate
    layers = Signal(object)  # LayerStats
    done = Signal(object)  # RunOutcome
    failed = Signal(str, str)  # title, text
    ended = Signal()

    def __init__(self, job: Any, log_path: str | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        ctx = multiprocessing.get_context("spawn")
        self.job = job
        self._stop = ctx.Event()
        self._conn, child = ctx.Pipe(duplex=False)
        from kpgui.core.worker import main

        self.process = ctx.Process(target=main, args=(job, child, self._stop, log_path),
                                   name="kpgui-training", daemon=True)
        self.started_at = time.perf_counter()
        self.ready_after: float | None = None  # seconds until the process reported anything
        self.running = True
        self.stop_requested = False
        self._result_seen = False
        self.process.start()
        child.close()  # the child holds its end; ours closing lets us see it die (EOF)
        self._notifier = QSocketNotifier(self._conn.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._read)

    def stop(self) -> None:
        """End after the current batch; the model is still measured, saved and recorded."""
        self.stop_requested = True
        self._stop.set()

    cancel = stop

    def kill(self, wait: float = 0.8) -> None:
        """End the process now (window closing): SIGTERM, then SIGKILL; never leaves it behind."""
        self._stop.set()
        self._close_pipe()
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(wait * 0.6)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(wait * 0.4)
        self._end(None)

    def _read(self) -> None:
        try:
            while self._conn.poll():
                kind, value = self._conn.recv()
                self._dispatch(kind, value)
                if self._result_seen:
                    break
        except (EOFError, OSError):
            self._lost()
            return
        if self._result_seen:
            self._close_pipe()
            self._reap()

    def _dispatch(self, kind: str, value: Any) -> None:
        if self.ready_after is None:
            self.ready_after = time.perf_counter() - self.started_at
        if kind == "status":
            self.status.emit(value)
        elif kind == "begin":
            self.began.emit(value)
        elif kind == "batch":
            self.batch.emit(value)
        elif kind == "epoch":
            self.epoch.emit(value)
        elif kind == "layers":
            self.layers.emit(value)
        elif kind in ("outcome", "error"):
            # The result's handler may open a dialog (a nested event loop): the pipe closing
            # meanwhile must not read as a crash (issue 24: a false "exited with code 0").
            self._result_seen = True
            if self._notifier is not None:
                self._notifier.setEnabled(False)
            if kind == "outcome":
                self.done.emit(value)
            else:
                self.failed.emit(*value)

    def _lost(self) -> None:
        """The pipe closed without a result: the process crashed or was killed."""
        self._close_pipe()
        self.process.join(1.0)
        code = self.process.exitcode
        how = f"was killed (signal {-code})" if code is not None and code < 0 else (
            f"exited with code {code}" if code is not None else "stopped answering")
        self._result_seen = True
        self.failed.emit("Training process ended", (
            f"The training process {how} before it finished. Nothing in the window was changed; "
            "the current model stays. If it happened at once, TensorFlow may not run on this "
            "computer; if it happened later, it may have run out of memory (try a smaller "
            "network or batch size)."))
        self._end(code)

    def _close_pipe(self) -> None:
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier = None
        try:
            self._conn.close()
        except OSError:
            pass

    def _reap(self) -> None:
        """Wait for the process to exit without blocking the window (TensorFlow's exit takes a
        moment); `ended` fires when it is gone."""
        if self.process.is_alive():
            QTimer.singleShot(100, self._reap)
            return
        self.process.join(0)
        self._end(self.process.exitcode)

    def _end(self, _code: int | None) -> None:
        if self.running:
            self.running = False
            self.ended.emit()


class Tasks(QObject):
    """The background-work helper the whole window shares (see the module docstring)."""

    def __init__(self, parent: QObject | None = None, log_path: str | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kpgui-task")
        self._live: dict[int, Task] = {}
        self._latest: dict[str, Task] = {}
        self._jobs: list[JobTask] = []
        self.log_path = log_path

    def run(self, fn: Any, *, key: str | None = None, doing: str = "Working") -> Task:
        """Run `fn(task)` on a thread; its return value arrives as `task.done(value)`, an
        exception as `task.failed(title, text)` written for people."""
        task = Task(key, doing, self)
        if key is not None:
            old = self._latest.get(key)
            if old is not None:
                old.cancel()
            self._latest[key] = task
        self._live[task.id] = task
        task.ended.connect(lambda t=task: self._forget(t))

        def work() -> None:
            try:
                value = fn(task)
            except BaseException as exc:  # noqa: BLE001 - becomes a dialog, never a crash
                outcome = (False, describe(exc, task.doing))
            else:
                outcome = (True, value)
            try:
                task._finish.emit(*outcome)
            except RuntimeError:  # the window was torn down meanwhile: nobody to tell
                pass

        self._pool.submit(work)
        return task

    def read_file(self, path: str, fn: Any, *, key: str | None = None, doing: str = "Reading",
                  timeout: float = 30.0) -> Task:
        """Read a file the person chose: `fn(path, task)` on a thread, after checking it is a
        plain file (kpgui.core.userfiles); `failed` when it is not, or when reading takes more
        than `timeout` seconds (the window never waits for a file)."""
        from kpgui.core.userfiles import check_regular_file

        def work(task: Task) -> Any:
            check_regular_file(path)
            return fn(path, task)

        task = self.run(work, key=key, doing=doing)

        def give_up() -> None:
            if task.running and not task.cancelled:
                task._finished(False, ("Took too long", (
                    f"{doing} ({path}) took more than {timeout:g} s and was given up. Is it on a "
                    "slow or disconnected drive? Copy it to this computer and try again.")))
                task.cancel()  # whatever the thread still finds is dropped

        QTimer.singleShot(int(timeout * 1000), task, give_up)
        return task

    def _forget(self, task: Task) -> None:
        self._live.pop(task.id, None)
        if task.key is not None and self._latest.get(task.key) is task:
            del self._latest[task.key]
        task.deleteLater()

    def busy(self, key: str) -> bool:
        """A task with this key is running."""
        return key in self._latest

    def start_job(self, job: Any) -> JobTask:
        """Start a training job in a new training process."""
        task = JobTask(job, self.log_path, self)
        self._jobs.append(task)
        task.ended.connect(lambda t=task: self._jobs.remove(t) if t in self._jobs else None)
        return task

    @property
    def jobs(self) -> list[JobTask]:
        return list(self._jobs)

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until thread tasks have finished (tests, closing); True if they have."""
        from PySide6.QtCore import QCoreApplication

        deadline = time.monotonic() + timeout
        while self._live and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.005)
        return not self._live

    def shutdown(self) -> None:
        """The window is closing: end training processes now and drop pending results."""
        for job in list(self._jobs):
            job.kill()
        for task in list(self._live.values()):
            task.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
