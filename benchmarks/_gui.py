"""Helpers for the benchmarks that drive the real window (kpgui.ui) offscreen.

Contract used: `kpgui.ui.app.make_app`, `kpgui.ui.main_window.MainWindow(predictor=None)` (plus
`kpgui.ui.insight.install(window)` when it exists, as `run_app` does) with
`start_training(spec, **trainer_kwargs) -> bool`, signal `training_finished(result)`,
`canvas` (a DrawingCanvas), `update_prediction()`, `predictions` (a counter) and
`training_session`. Dialogs are replaced by a recorder so a failure cannot block on a modal box.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import _common as C
import numpy as np


class GuiUnavailable(RuntimeError):
    """kpgui.ui cannot be used (missing or incompatible); the message says what is missing."""


def load_gui() -> tuple[Any, Any]:
    """(app, MainWindow class). Raises GuiUnavailable with a clear reason."""
    C.setup_env()
    try:
        from kpgui.ui.main_window import MainWindow

        from kpgui.ui import dialogs
        from kpgui.ui.app import make_app
    except Exception as exc:  # noqa: BLE001 - any import failure means the same here
        raise GuiUnavailable(C.gui_missing_message(exc)) from exc
    for attr in ("start_training", "training_finished", "canvas", "update_prediction"):
        if not hasattr(MainWindow, attr):
            raise GuiUnavailable(f"kpgui.ui.main_window.MainWindow has no {attr!r}")
    errors: list[tuple[str, str]] = []
    dialogs.show_error = lambda _parent, title, text: errors.append((title, text))
    dialogs.errors = errors  # type: ignore[attr-defined]
    return make_app(["kpgui-bench"]), MainWindow


def new_window(window_cls: Any) -> Any:
    """The window as `run_app` builds it: MainWindow() plus the insight panels when present."""
    window = window_cls()
    try:
        from kpgui.ui.insight import install
    except ImportError:
        return window
    install(window)
    return window


def dialog_errors() -> list[tuple[str, str]]:
    from kpgui.ui import dialogs

    return getattr(dialogs, "errors", [])


def process_events_for(seconds: float) -> None:
    """Run the event loop for `seconds` (timers fire, windows paint)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def train_in_window(window: Any, spec: Any, timeout: float = 1800.0,
                    **trainer_kwargs: Any) -> tuple[Any, float]:
    """Start a run from the window, run the event loop until `training_finished`.

    Returns (TrainingResult, seconds from start_training() to the signal).
    """
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    box: dict[str, Any] = {}

    def done(result: Any) -> None:
        box["result"] = result
        box["t1"] = time.perf_counter()
        loop.quit()

    window.training_finished.connect(done)
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)
    guard.start(int(timeout * 1000))
    try:
        t0 = time.perf_counter()
        if not window.start_training(spec, **trainer_kwargs):
            raise RuntimeError(f"start_training refused the run: {dialog_errors()}")
        # Also stop when the run ends without a result (a failure reported by a dialog).
        session = window.training_session
        if session is not None:
            session.ended.connect(lambda: QTimer.singleShot(500, loop.quit))
        loop.exec()
    finally:
        guard.stop()
        window.training_finished.disconnect(done)
    if "result" not in box:
        raise RuntimeError(f"the GUI training run gave no result: {dialog_errors() or 'timeout'}")
    wait_session_end(window)
    return box["result"], box["t1"] - t0


def wait_session_end(window: Any, timeout: float = 60.0) -> None:
    """Let the training thread finish and the window forget the session."""
    deadline = time.perf_counter() + timeout
    while window.training_session is not None and time.perf_counter() < deadline:
        process_events_for(0.02)


def draw(window: Any, strokes: list[np.ndarray]) -> None:
    """Draw strokes on the window's canvas with real mouse events (QTest)."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    canvas = window.canvas
    side = min(canvas.width(), canvas.height())
    k = side / 400.0  # the strokes are in 400 px canvas coordinates
    for stroke in strokes:
        pts = [QPoint(int(x * k), int(y * k)) for x, y in stroke]
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
        for p in pts[1:]:
            QTest.mouseMove(canvas, p)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           pts[-1])


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


def lateness_summary(late: list[float]) -> dict[str, float]:
    if not late:
        return {"n": 0, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    return {"n": len(late), "p50_ms": C.percentile(late, 50), "p99_ms": C.percentile(late, 99),
            "max_ms": float(max(late))}


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
