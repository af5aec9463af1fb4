"""Helpers for the benchmarks that drive the real window (kpgui.ui) offscreen.

Contract used (kpgui.ui.app, the composition root): `make_qapp()`, `build_app() -> App` with
`App.state` (AppState: `events.run_ended`, `events.batch`, `events.candidate`, `predictions`),
`App.drawing.render_now()`, `App.training.start(spec)` / `.job` (a JobTask: `.process`,
`.started_at`, `.ready_after`, `status` / `began` / `ended` signals), `App.models.keep_candidate()`,
`App.panels["drawing"].canvas`, `App.built.done` / `App.built_at`, `App.window.close_guard`.
Settings and run history go to private folders (`KPGUI_CONFIG_DIR` / `KPGUI_DATA_DIR`, set by
`_common.setup_env`); dialogs are replaced by a recorder so a failure never blocks on a modal box.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common as C
import numpy as np


class GuiUnavailable(RuntimeError):
    """kpgui.ui cannot be used (missing or incompatible); the message says what is missing."""


_ERRORS: list[tuple[str, str]] = []


def load_gui() -> Any:
    """The QApplication, with kpgui's dialogs recorded instead of shown. Raises GuiUnavailable."""
    C.setup_env()
    try:
        from kpgui.ui import dialogs
        from kpgui.ui.app import App, build_app, make_qapp  # noqa: F401 - the contract
        from kpgui.ui.controllers.training import TrainingController
    except Exception as exc:  # noqa: BLE001 - any import failure means the same here
        raise GuiUnavailable(C.gui_missing_message(exc)) from exc
    for attr in ("start", "stop"):
        if not hasattr(TrainingController, attr):
            raise GuiUnavailable(f"kpgui.ui.controllers.training.TrainingController has no {attr!r}")
    dialogs.show_error = lambda _parent, title, text: _ERRORS.append((title, text))
    dialogs.show_info = lambda _parent, title, text: None
    dialogs.ask_yes_no = lambda _parent, title, text, yes="Yes": True
    dialogs.ask_mnist = lambda _parent, text: _ERRORS.append(("MNIST", text))
    return make_qapp(["kpgui-bench"])


def dialog_errors() -> list[tuple[str, str]]:
    return list(_ERRORS)


def open_app(timeout: float = 60.0, steady: bool = True, warm: bool = True) -> Any:
    """The app as `run_app` builds it (`build_app()`, shown), once everything is built. With
    `steady`, also once the training process the window keeps ready has done its imports (it
    starts 3 s after the window is built and keeps both cores busy for several seconds): what a
    person drawing a minute after opening kpgui has. `warm=False`: Model -> Keep a training
    process ready turned off first, so every run starts a process of its own (the cold start)."""
    from kpgui.ui import settings
    from kpgui.ui.app import build_app

    store = settings.settings()
    store.setValue("training/keep_warm", warm)
    store.sync()
    app = build_app()
    app.window.show()
    if not wait_until(lambda: app.built_at is not None, timeout):
        raise GuiUnavailable(f"the window was not built within {timeout:.0f} s")
    process_events_for(0.2)
    if steady and app.tasks.keep_warm:
        process_events_for(3.5)

        def warm_ready() -> bool:
            warm = app.tasks.warm_process
            return warm is None or warm.info is not None

        wait_until(warm_ready, timeout)
        process_events_for(0.5)
    return app


def close_app(app: Any) -> float:
    """Close the window without questions (close guard answered yes); seconds close() took."""
    app.window.close_guard = lambda: True
    t0 = time.perf_counter()
    app.window.close()
    seconds = time.perf_counter() - t0
    app.tasks.shutdown()
    process_events_for(0.05)
    return seconds


def process_events_for(seconds: float) -> None:
    """Run the event loop for `seconds` (timers fire, windows paint, pipes are read)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(max(0, int(seconds * 1000)), loop.quit)
    loop.exec()


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
    """Run the event loop until `predicate()` is true (True) or `timeout` s passed (False)."""
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            return False
        process_events_for(step)
    return True


# -- training runs from the window ---------------------------------------------------------------


@dataclass
class Run:
    """One run started from the window. `marks`: seconds after `app.training.start()` was
    called: "started" (start() returned), "status: <text>" for each status message of the
    training process, "began", "first batch", "last batch", "ended" (run_ended: outcome in the
    window), "process gone" (the training process has exited), "candidate" (measured and
    offered). `start_block_s`: how long start() blocked the GUI thread (spawn)."""

    outcome: Any = None
    marks: dict[str, float] = field(default_factory=dict)
    t0: float = 0.0
    batches: int = 0
    pid: int | None = None
    start_block_s: float = 0.0
    ready_after: float | None = None
    child_peak_mb: float = 0.0

    def at(self, name: str) -> float | None:
        """perf_counter time of a mark."""
        return None if name not in self.marks else self.t0 + self.marks[name]

    @property
    def tensorflow_imported(self) -> float | None:
        """When the training process said it had TensorFlow (its next status, loading MNIST)."""
        for key, value in self.marks.items():
            if key.startswith("status: Loading MNIST"):
                return value
        return None


def child_rss_mb(pid: int | None) -> float:
    """VmRSS of another process in MiB (0 when it is gone)."""
    if pid is None:
        return 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return 0.0
    return 0.0


def start_run(app: Any, spec: Any) -> Run:
    """Start a run from the window (what the Start button does) and record its marks."""
    run = Run()
    s = app.state

    def mark(name: str) -> None:
        run.marks.setdefault(name, time.perf_counter() - run.t0)

    def batch(_update: Any) -> None:
        run.batches += 1
        run.marks["last batch"] = time.perf_counter() - run.t0
        run.marks.setdefault("first batch", run.marks["last batch"])

    def ended(outcome: Any) -> None:
        run.outcome = outcome
        mark("ended")

    def candidate(cand: Any) -> None:
        if cand is not None and cand.comparison is not None:
            mark("candidate")

    run._hooks = [
        (s.events.batch, batch),
        (s.events.run_ended, ended),
        (s.events.run_began, lambda _s: mark("began")),
        (s.events.candidate, candidate),
    ]
    for event, fn in run._hooks:  # type: ignore[attr-defined]
        event.connect(fn)
    run.t0 = time.perf_counter()
    if not app.training.start(spec):
        _unhook(run)
        raise RuntimeError(f"the window refused to start the run: {dialog_errors()}")
    run.start_block_s = time.perf_counter() - run.t0
    mark("started")
    job = app.training.job
    run.pid = job.process.pid
    job.status.connect(lambda text: mark(f"status: {text}"))
    job.ended.connect(lambda: mark("process gone"))
    run._job = job  # type: ignore[attr-defined]
    return run


def _unhook(run: Run) -> None:
    for event, fn in getattr(run, "_hooks", []):
        event.disconnect(fn)
    run._hooks = []  # type: ignore[attr-defined]


def finish_run(
    app: Any,
    run: Run,
    timeout: float = 1800.0,
    candidate: bool = True,
    on_tick: Callable[[], None] | None = None,
) -> Run:
    """Run the event loop until the run has ended, its process is gone and (with `candidate`)
    its model has been measured and offered. Raises RuntimeError when the run failed."""
    job = run._job  # type: ignore[attr-defined]

    def done() -> bool:
        if on_tick is not None:
            on_tick()
        if run.outcome is None:
            return not app.state.training.busy and "process gone" in run.marks
        if "process gone" not in run.marks:
            return False
        return not candidate or not run.outcome.usable or "candidate" in run.marks

    ok = wait_until(done, timeout, step=0.02)
    run.ready_after = job.ready_after
    _unhook(run)
    if run.outcome is None:
        raise RuntimeError(
            "the run from the window gave no result: "
            f"{dialog_errors() or ('timeout' if not ok else 'no outcome')}"
        )
    if not ok:
        raise RuntimeError(f"the run did not finish within {timeout:.0f} s")
    return run


def train_in_window(
    app: Any,
    spec: Any,
    timeout: float = 1800.0,
    candidate: bool = True,
    keep: bool = False,
    on_tick: Callable[[], None] | None = None,
) -> Run:
    """Start a run from the window and wait for it (see finish_run); `keep` then keeps the
    candidate, so the trained model reads the drawings from now on."""
    run = finish_run(app, start_run(app, spec), timeout, candidate, on_tick)
    if keep and app.state.candidate is not None:
        app.models.keep_candidate()
    return run


# -- drawing ---------------------------------------------------------------------------------------


def canvas_of(app: Any) -> Any:
    return app.panels["drawing"].canvas


def draw(
    canvas: Any,
    strokes: list[np.ndarray],
    source_px: float = 400.0,
    after_move: Callable[[], None] | None = None,
) -> None:
    """Draw strokes (in a `source_px` square) on the canvas with real mouse events (QTest),
    scaled to the canvas's shorter side. `after_move` is called after every mouse event."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    w, h = canvas.canvas_size()
    side = min(w, h)
    k = side / source_px
    ox, oy = (w - side) / 2, (h - side) / 2
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for stroke in strokes:
        pts = [QPoint(int(ox + x * k), int(oy + y * k)) for x, y in stroke]
        QTest.mousePress(canvas, left, none, pts[0])
        if after_move is not None:
            after_move()
        for p in pts[1:]:
            QTest.mouseMove(canvas, p)
            if after_move is not None:
                after_move()
        QTest.mouseRelease(canvas, left, none, pts[-1])


def draw_digit(app: Any, strokes: list[np.ndarray], pen: float | None = None, render: bool = True) -> None:
    """Clear the canvas, set the pen (`pen` in the strokes' 400 px units, scaled like them),
    draw `strokes` with the mouse, and read them now (what the frame timer would do)."""
    app.drawing.clear()
    if pen is not None:
        w, h = canvas_of(app).canvas_size()
        app.panels["drawing"].pen_spin.setValue(int(round(pen * min(w, h) / 400.0)))
    draw(canvas_of(app), strokes)
    if render:
        app.drawing.render_now()


# -- event-loop lateness ---------------------------------------------------------------------------


class IntervalTimer:
    """A precise repeating Qt timer that records the real interval between its timeouts."""

    def __init__(self, interval_ms: int = 10, on_tick: Callable[[], None] | None = None) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.interval_ms = interval_ms
        self.stamps: list[float] = []
        self._on_tick = on_tick
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.stamps.append(time.perf_counter())
        if self._on_tick is not None:
            self._on_tick()

    def start(self) -> None:
        self.stamps.clear()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def lateness_ms(self, start: float | None = None, end: float | None = None) -> list[float]:
        """Interval minus the nominal interval, for timeouts within [start, end] (perf_counter)."""
        s = np.asarray(self.stamps)
        if len(s) < 2:
            return []
        late = np.diff(s) * 1e3 - self.interval_ms
        t = s[1:]
        mask = np.ones(len(t), bool)
        if start is not None:
            mask &= t >= start
        if end is not None:
            mask &= t <= end
        return late[mask].tolist()

    def worst(self, start: float | None = None, end: float | None = None) -> tuple[float, float]:
        """(lateness ms, perf_counter time) of the latest timeout within [start, end]."""
        s = np.asarray(self.stamps)
        if len(s) < 2:
            return float("nan"), float("nan")
        late = np.diff(s) * 1e3 - self.interval_ms
        t = s[1:]
        mask = np.ones(len(t), bool)
        if start is not None:
            mask &= t >= start
        if end is not None:
            mask &= t <= end
        if not mask.any():
            return float("nan"), float("nan")
        i = int(np.argmax(np.where(mask, late, -np.inf)))
        return float(late[i]), float(t[i])


def lateness_summary(late: list[float]) -> dict[str, float]:
    if not late:
        return {"n": 0, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    return {
        "n": len(late),
        "p50_ms": C.percentile(late, 50),
        "p99_ms": C.percentile(late, 99),
        "max_ms": float(max(late)),
    }


def run_and_report(name: str, args: Any, run: Callable[[], tuple[list, dict]]) -> int:
    """The common end of a GUI benchmark's main(): time `run()`, print/write its figures, or
    report clearly when no window can be opened here."""
    t0 = time.perf_counter()
    try:
        rows, details = run()
    except GuiUnavailable as exc:
        return C.fail(str(exc), args, name)
    C.finish(name, rows, details, args, t0)
    return 0
