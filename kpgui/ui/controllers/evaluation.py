"""The Evaluation tab's work: the current model measured on the MNIST test half (from the data
controller: the file the window uses, never a download), on a thread, with progress. The tab
only asks (`evaluate`) and shows what this controller's signals carry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from kpgui.core.state import AppState
from kpgui.ui.tasks import Task, Tasks

KEY = "evaluation"


def evaluate_current(
    predictor: Any, test_set: Callable[[], tuple[np.ndarray, np.ndarray]], task: Task
) -> tuple[Any, np.ndarray, np.ndarray]:
    """(Evaluation, images, labels) of `predictor` on `test_set()`, reporting progress through
    `task.report((done, total))` (runs on a thread)."""
    from kpgui.core.model.evaluation import evaluate

    images, labels = test_set()
    ev = evaluate(predictor, images, labels, progress=lambda d, n: task.report((d, n)))
    return ev, images, labels


class EvaluationController(QObject):
    """Signals for the tab: `started(model name)`, `progress(done, total)`,
    `finished(Evaluation, images, labels)`, `failed(text)`, `ended()` (busy no more)."""

    started = Signal(str)
    progress = Signal(int, int)
    finished = Signal(object, object, object)
    failed = Signal(str)
    ended = Signal()

    def __init__(
        self,
        state: AppState,
        tasks: Tasks,
        test_set: Callable[[], tuple[np.ndarray, np.ndarray]],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.tasks = tasks
        self.test_set = test_set  # DataController.test_set: the one MNIST of the window
        self._task: Task | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None and self._task.running

    def evaluate(self) -> Task | None:
        """Evaluate the current model in the background; a newer request supersedes a running
        one (the task helper drops the older result). None (said) without a model."""
        predictor = self.state.predictor
        if predictor is None:
            self.failed.emit("No model is loaded: load or train one first.")
            return None
        name = self.state.model.source if self.state.model else "the model"
        test_set = self.test_set
        task = self.tasks.run(
            lambda t: evaluate_current(predictor, test_set, t), key=KEY, doing="Evaluating the model"
        )
        task.progress.connect(lambda value: self.progress.emit(*value))
        task.done.connect(lambda value: self.finished.emit(*value))
        task.failed.connect(lambda _title, text: self.failed.emit(f"Evaluation failed: {text}"))
        task.ended.connect(self._ended)
        self._task = task
        self.started.emit(name)
        return task

    def _ended(self) -> None:
        if self._task is not None and not self._task.running:
            self._task = None
        if not self.busy:
            self.ended.emit()


def connect_evaluation(panel: Any, controller: EvaluationController, show_image: Callable[..., Any]) -> None:
    """The Evaluation tab's intents to its controller (a chosen test image to `show_image`, the
    drawing's) and the controller's progress back to the tab (the window and the tests alike)."""
    panel.evaluate_requested.connect(controller.evaluate)
    panel.image_chosen.connect(show_image)
    controller.started.connect(panel.show_started)
    controller.progress.connect(panel.show_progress)
    controller.finished.connect(panel.show_evaluation)
    controller.failed.connect(panel.show_failed)
    controller.ended.connect(panel.show_ended)
