"""Recognising a lesson step's "try this" task from the app state's events, without Qt.

`TaskWatch(state, task, on_done)` subscribes to the AppState events its task needs
(run_ended with a RunRecord, sweep with a SweepProgress, samples, reading, one_weight) and calls
`on_done()` once when the task is done; `close()` unsubscribes. What counts is in
kpgui.core.lessons.files.TASKS; the rules on numbers (overfitting) are plain functions here,
tested against a hand-written loss history.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from kpgui.core.lessons.files import RUN_TASKS, Task
from kpgui.core.model.run import DIVERGED, EARLY_STOPPED, RunRecord

MIN_OVERFIT_EPOCHS = 2


def overfitting_epochs(history: dict) -> int:
    """In how many epochs the validation loss rose while the training loss fell (compared with
    the epoch before; epochs with a missing or non-finite number do not count)."""
    loss, val = list(history.get("loss") or []), list(history.get("val_loss") or [])
    n = 0
    for i in range(1, min(len(loss), len(val))):
        pair = (loss[i - 1], loss[i], val[i - 1], val[i])
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in pair):
            continue
        if val[i] > val[i - 1] and loss[i] < loss[i - 1]:
            n += 1
    return n


def run_matches(task: Task, outcome: RunRecord) -> bool:
    """Does a finished run do what a run task asks?"""
    if task.spec:
        for name, want in task.spec.items():
            have = outcome.spec.value(name)
            if isinstance(want, float) and isinstance(have, int | float):
                if not math.isclose(have, want, rel_tol=1e-9, abs_tol=1e-12):
                    return False
            elif have != want:
                return False
    status = outcome.status
    if task.event == "run_diverged":
        return status == DIVERGED
    if task.event == "early_stopped":
        return status == EARLY_STOPPED
    if task.event == "run_overfits":
        return overfitting_epochs(outcome.history) >= MIN_OVERFIT_EPOCHS
    return task.event == "run_finished"


class TaskWatch:
    """Watches the state for one task; `on_done()` is called once, when it is done.

    `sample_count()` is how many samples are stored now (for sample_saved: the task needs
    `count` more than when the watch began); without it each `samples` event counts as one.
    `drawn()` says whether the current drawing was drawn on the canvas (drawing_read)."""

    def __init__(
        self,
        state: Any,
        task: Task,
        on_done: Callable[[], None],
        sample_count: Callable[[], int | None] | None = None,
        drawn: Callable[[], bool] | None = None,
    ) -> None:
        self.state = state
        self.task = task
        self.on_done = on_done
        self.done = False
        self.seen = 0  # matching events so far
        self._sample_count = sample_count
        self._drawn = drawn or (lambda: state.drawing.drawn)
        self._samples_before = self._samples_now()
        self._connected: list[tuple[Any, Callable[..., Any]]] = []
        event = task.event
        events = state.events
        if event in RUN_TASKS:
            self._connect(events.run_ended, self._run_ended)
        elif event == "sweep_finished":
            self._connect(events.sweep, self._sweep)
        elif event == "sample_saved":
            self._connect(events.samples, self._samples)
        elif event == "drawing_read":
            self._connect(events.reading, self._reading)
        elif event == "one_weight_diverged":
            self._connect(events.one_weight, self._one_weight)

    def _connect(self, event: Any, callback: Callable[..., Any]) -> None:
        event.connect(callback)
        self._connected.append((event, callback))

    def close(self) -> None:
        """Stop watching (a new step was chosen, or the task is done)."""
        for event, callback in self._connected:
            event.disconnect(callback)
        self._connected.clear()

    def _count(self, matched: bool = True) -> None:
        if self.done or not matched:
            return
        self.seen += 1
        if self.seen >= self.task.count:
            self._finish()

    def _finish(self) -> None:
        self.done = True
        self.close()
        self.on_done()

    def _samples_now(self) -> int | None:
        if self._sample_count is None:
            return None
        try:
            return self._sample_count()
        except Exception:  # noqa: BLE001 - no store: count the events instead
            return None

    # -- the events ------------------------------------------------------------------------------

    def _run_ended(self, outcome: Any) -> None:
        self._count(outcome is not None and run_matches(self.task, outcome))

    def _sweep(self, progress: Any) -> None:
        finished = (
            progress is not None
            and progress.done
            and not progress.cancelled
            and any(o is not None for o in progress.outcomes)
        )
        self._count(finished)

    def _samples(self, *_args: Any) -> None:
        if self.done:
            return
        now = self._samples_now()
        if now is None or self._samples_before is None:
            self._count()
            return
        self.seen = max(0, now - self._samples_before)
        if self.seen >= self.task.count:
            self._finish()

    def _reading(self, reading: Any) -> None:
        self._count(
            reading is not None
            and bool(reading.sure)
            and reading.confidence >= self.task.confidence
            and self._drawn()
        )

    def _one_weight(self, what: Any) -> None:
        self._count(what == "diverged")
