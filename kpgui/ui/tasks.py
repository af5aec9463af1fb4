"""The one way the window does work in the background, so the window never freezes.

* `tasks.run(fn, key=...)` runs `fn(task)` on a thread (reading a picture or a model file,
  evaluating on 10 000 images, importing samples). A later task with the same key supersedes
  an earlier one: the earlier one is told to cancel and its result is dropped, so a slow model
  load can never overwrite a newer one.
* `tasks.read_file(path, fn, ...)` is `run` for a file the person chose: refused at once
  when it is not a plain file (a FIFO, a device, a folder), and given up after `timeout`
  seconds (a dead network drive) with a message instead of waiting forever.
* `tasks.start_job(job)` runs a training job (kpgui.core.training.jobs) in the training process, where
  Keras lives (kpgui.core.training.worker). Its reports arrive as signals on the GUI thread, read
  from the pipe when Qt says there is something to read (no polling thread). With `keep_warm`
  a training process is kept ready for the next run (`prewarm()` starts one while the window
  is idle; a finished run's process is kept): Start then skips the seconds of imports.

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

from kpgui.core.display.errors import describe

_ids = itertools.count(1)
WARM_IDLE_S = 600.0  # an unused warm training process is given back after this long
MAX_RUNS_PER_PROCESS = 20  # then a fresh process: no slow growth over a long session


def _known_error(name: str) -> type[BaseException] | None:
    """The error type the training process named, for kpgui's own errors the window routes
    (a name only crosses the pipe: unpickling a library's class would import it here)."""
    from kpgui.core.data.mnist import DatasetError

    return {"DatasetError": DatasetError}.get(name)


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
        self.error: type[BaseException] | None = None  # the failure's type (routes its dialog)
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


class TrainingProcess(QObject):
    """One training process (kpgui.core.training.worker.serve) and the pipe to it. It runs one job at a
    time and may run several in turn; between jobs it is *idle* (warm: its imports are done).
    Messages are read when Qt says the pipe has something (no polling thread) and handed to
    the current JobTask."""

    ready = Signal(object)  # the worker's "ready" info, once its imports are done
    lost = Signal()  # the process ended or the pipe closed

    def __init__(
        self, backend: str, log_path: str | None, job: Any = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        ctx = multiprocessing.get_context("spawn")
        self.backend = backend
        self.stop_event = ctx.Event()
        self._conn, child = ctx.Pipe(duplex=True)
        from kpgui.core.training.worker import serve

        self.process = ctx.Process(
            target=serve,
            args=(child, self.stop_event, log_path, backend, job),
            name="kpgui-training",
            daemon=True,
        )
        self.started_at = time.perf_counter()
        self.info: dict | None = None  # the "ready" report: backend, device, import_s, rss_mb
        self.job: JobTask | None = None
        self.runs = 0  # jobs given to this process
        self.alive = True
        self._pending: Any = None  # a job waiting for the process to be ready
        self.process.start()
        child.close()  # the child holds its end; ours closing lets us see it die (EOF)
        self._notifier: QSocketNotifier | None = QSocketNotifier(
            self._conn.fileno(), QSocketNotifier.Type.Read, self
        )
        self._notifier.activated.connect(self._read)

    @property
    def idle(self) -> bool:
        return self.alive and self.job is None

    def attach(self, task: JobTask, job: Any, sent: bool = False) -> None:
        """Give this process `task`'s job (already `sent` as the process's start argument, or
        sent now, or once the process says it is ready)."""
        self.job = task
        self.runs += 1
        self.stop_event.clear()
        if sent:
            return
        if self.info is not None:
            self._send(("job", job))
        else:
            self._pending = job

    def _send(self, message: tuple) -> None:
        try:
            self._conn.send(message)
        except (OSError, ValueError):  # the process is gone: _read sees EOF and says so
            pass

    def _read(self) -> None:
        try:
            while self.alive and self._conn.poll():
                kind, value = self._conn.recv()
                self._dispatch(kind, value)
        except (EOFError, OSError):
            self._lost()

    def _dispatch(self, kind: str, value: Any) -> None:
        if kind == "ready":
            self.info = value
            self.ready.emit(value)
            if self._pending is not None:
                job, self._pending = self._pending, None
                self._send(("job", job))
            return
        task = self.job
        if task is None:
            return  # warming up with no job yet: nobody to tell
        if kind in ("outcome", "error"):
            self.job = None
        task._dispatch(kind, value)

    def _lost(self) -> None:
        """The pipe closed: the process crashed, was killed or exited."""
        if not self.alive:
            return
        self.alive = False
        self._close_pipe()
        self.process.join(1.0)
        task, self.job = self.job, None
        if task is not None:
            task._lost(self.process.exitcode)
        self.lost.emit()

    def release(self) -> None:
        """End an idle process politely (it exits at once); a running one is killed."""
        if self.job is not None:
            self.kill()
            return
        self._send(("quit", None))
        self.alive = False
        self._close_pipe()
        self._reap_later(time.monotonic() + 5.0)

    def _reap_later(self, deadline: float) -> None:
        """Wait for the exit without blocking the window; after `deadline`, end it."""
        if self.process.is_alive():
            if time.monotonic() > deadline:
                self.process.terminate()
            QTimer.singleShot(200, lambda: self._reap_later(deadline))
            return
        self.process.join(0)

    def kill(self, wait: float = 0.8) -> None:
        """End the process now (window closing): SIGTERM, then SIGKILL; never leaves it behind."""
        self.stop_event.set()
        self.alive = False
        self._close_pipe()
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(wait * 0.6)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(wait * 0.4)
        task, self.job = self.job, None
        if task is not None:
            task._end(self.process.exitcode)

    def _close_pipe(self) -> None:
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier = None
        try:
            self._conn.close()
        except OSError:
            pass

    def rss_mb(self) -> float:
        """The process's resident memory now, in MB (Linux; 0 elsewhere or when gone)."""
        try:
            with open(f"/proc/{self.process.pid}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except (OSError, ValueError, IndexError, TypeError):
            pass
        return 0.0


class JobTask(QObject):
    """A training job in a training process (see kpgui.core.training.worker for the protocol)."""

    status = Signal(str)
    began = Signal(object)  # TrainingStart
    batch = Signal(object)  # BatchUpdate
    epoch = Signal(object)  # EpochUpdate
    layers = Signal(object)  # LayerStats
    done = Signal(object)  # RunRecord
    failed = Signal(str, str)  # title, text
    ended = Signal()

    def __init__(self, job: Any, worker: TrainingProcess, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.worker = worker
        self.process = worker.process
        self.warm = worker.info is not None  # its imports were done before Start
        self.started_at = time.perf_counter()
        self.ready_after: float | None = None  # seconds until the process reported anything
        self.first_batch_after: float | None = None  # seconds from Start to the first batch
        self.running = True
        self.stop_requested = False
        self.error: type[BaseException] | None = None  # the failure's type, if kpgui knows it
        self._result_seen = False

    def stop(self) -> None:
        """End after the current batch; the model is still measured, saved and recorded."""
        self.stop_requested = True
        self.worker.stop_event.set()

    cancel = stop

    def kill(self, wait: float = 0.8) -> None:
        """End the process now (window closing): SIGTERM, then SIGKILL; never leaves it behind."""
        self.worker.kill(wait)
        self._end(None)

    def _dispatch(self, kind: str, value: Any) -> None:
        now = time.perf_counter() - self.started_at
        if self.ready_after is None:
            self.ready_after = now
        if kind == "status":
            self.status.emit(value)
        elif kind == "begin":
            self.began.emit(value)
        elif kind == "batch":
            if self.first_batch_after is None:
                self.first_batch_after = now
            self.batch.emit(value)
        elif kind == "epoch":
            self.epoch.emit(value)
        elif kind == "layers":
            self.layers.emit(value)
        elif kind == "outcome":
            # Seen before it is handled: the handler may open a dialog (a nested event loop) and
            # the pipe closing meanwhile must not read as a crash (issue 24).
            self._result_seen = True
            self.done.emit(value)
            self._end(0)
        elif kind == "error":
            self._result_seen = True
            title, text, *name = value
            self.error = _known_error(name[0] if name else "")
            self.failed.emit(title, text)
            self._end(0)

    def _lost(self, code: int | None) -> None:
        """The pipe closed without a result: the process crashed or was killed."""
        if self._result_seen or not self.running:
            return
        how = (
            f"was killed (signal {-code})"
            if code is not None and code < 0
            else (f"exited with code {code}" if code is not None else "stopped answering")
        )
        self._result_seen = True
        self.failed.emit(
            "Training process ended",
            (
                f"The training process {how} before it finished. Nothing in the window was changed; "
                "the current model stays. If it happened at once, the training libraries may not run "
                "on this computer; if it happened later, it may have run out of memory (try a smaller "
                "network or batch size)."
            ),
        )
        self._end(code)

    def _end(self, _code: int | None) -> None:
        if self.running:
            self.running = False
            self.ended.emit()


class Tasks(QObject):
    """The background-work helper the whole window shares (see the module docstring)."""

    def __init__(
        self, parent: QObject | None = None, log_path: str | None = None, keep_warm: bool = False
    ) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kpgui-task")
        self._live: dict[int, Task] = {}
        self._latest: dict[str, Task] = {}
        self._jobs: list[JobTask] = []
        self.log_path = log_path
        # A training process kept ready for the next run (imports done): Start -> first batch
        # in well under a second instead of seconds. It costs memory (see README) and is given
        # back after `warm_idle_s` without a run, or at once when `keep_warm` is turned off.
        self.keep_warm = keep_warm
        self._warm: TrainingProcess | None = None
        self._closing = False
        self._idle_timer = QTimer(self)
        self._idle_timer.setSingleShot(True)
        self._idle_timer.setInterval(int(WARM_IDLE_S * 1000))
        self._idle_timer.timeout.connect(self.release_warm)

    def run(self, fn: Any, *, key: str | None = None, doing: str = "Working") -> Task:
        """Run `fn(task)` on a thread; its return value arrives as `task.done(value)`, an
        exception as `task.failed(title, text)` written for people."""
        task = Task(key, doing, self)
        if self._closing:  # asked while the window closes (a thumbnail falling due): nothing to do
            task.cancel()
            task.running = False
            return task
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
                task.error = type(exc)
                outcome = (False, describe(exc, task.doing))
            else:
                outcome = (True, value)
            try:
                task._finish.emit(*outcome)
            except RuntimeError:  # the window was torn down meanwhile: nobody to tell
                pass

        self._pool.submit(work)
        return task

    def read_file(
        self, path: str, fn: Any, *, key: str | None = None, doing: str = "Reading", timeout: float = 30.0
    ) -> Task:
        """Read a file the person chose: `fn(path, task)` on a thread, after checking it is a
        plain file (kpgui.core.storage.userfiles); `failed` when it is not, or when reading takes more
        than `timeout` seconds (the window never waits for a file)."""
        from kpgui.core.storage.userfiles import check_regular_file

        def work(task: Task) -> Any:
            check_regular_file(path)
            return fn(path, task)

        task = self.run(work, key=key, doing=doing)

        def give_up() -> None:
            if task.running and not task.cancelled:
                task._finished(
                    False,
                    (
                        "Took too long",
                        (
                            f"{doing} ({path}) took more than {timeout:g} s and was given up. Is it on a "
                            "slow or disconnected drive? Copy it to this computer and try again."
                        ),
                    ),
                )
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
        """Start a training job: in the warm training process when one is ready on the job's
        backend (no imports after Start), else in a new one."""
        from kpgui.core.training.backends import resolve

        backend = resolve(getattr(job, "backend", None))
        self._idle_timer.stop()
        idle = [w for w in (self._warm, *(t.worker for t in self._jobs)) if w is not None and w.idle]
        worker = idle[0] if idle and self.keep_warm else None  # e.g. a sweep's previous run's
        if worker is not None and (worker.backend != backend or worker.runs >= MAX_RUNS_PER_PROCESS):
            worker.release()
            worker = None
        if self._warm is not None and self._warm is not worker:
            self._warm.release()  # on another backend: its memory is better given back
        self._warm = None
        sent = worker is None
        if worker is None:
            worker = TrainingProcess(backend, self.log_path, job, self)
        task = JobTask(job, worker, self)
        worker.attach(task, job, sent=sent)
        self._jobs.append(task)
        task.ended.connect(lambda t=task: self._job_ended(t))
        return task

    def _job_ended(self, task: JobTask) -> None:
        if task in self._jobs:
            self._jobs.remove(task)
        worker = task.worker
        if not worker.idle or self._closing:
            return
        if (
            self.keep_warm
            and (self._warm is None or not self._warm.alive)
            and worker.runs < MAX_RUNS_PER_PROCESS
        ):
            self._warm = worker  # kept for the next run
            self._idle_timer.start()
        else:
            worker.release()

    def prewarm(self, backend: str | None = None) -> TrainingProcess | None:
        """Start a training process in the background (its imports done before Start), unless
        one is running or ready, or `keep_warm` is off. A warm process on another backend is
        replaced. Returns the warm process (or None)."""
        from kpgui.core.training.backends import resolve

        if not self.keep_warm or self._closing or self._jobs:
            return None
        try:
            name = resolve(backend)
        except ValueError:
            return None  # said when a run is started
        if self._warm is not None and self._warm.alive and self._warm.backend == name:
            self._idle_timer.start()
            return self._warm
        self.release_warm()
        self._warm = TrainingProcess(name, self.log_path, None, self)
        self._warm.lost.connect(lambda w=self._warm: self._warm_lost(w))
        self._idle_timer.start()
        return self._warm

    def _warm_lost(self, worker: TrainingProcess) -> None:
        if self._warm is worker:
            self._warm = None

    def release_warm(self) -> None:
        """End the idle training process, giving its memory back (see `warm_process`)."""
        self._idle_timer.stop()
        worker, self._warm = self._warm, None
        if worker is not None and worker.idle:
            worker.release()

    def set_keep_warm(self, on: bool) -> None:
        """The window's setting: keep a training process ready for the next run (or not)."""
        self.keep_warm = bool(on)
        if not on:
            self.release_warm()

    @property
    def warm_process(self) -> TrainingProcess | None:
        """The idle training process kept for the next run, if any."""
        return self._warm if self._warm is not None and self._warm.idle else None

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
        self._closing = True
        self._idle_timer.stop()
        for job in list(self._jobs):
            job.kill()
        if self._warm is not None:
            self._warm.kill()
            self._warm = None
        for task in list(self._live.values()):
            task.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
