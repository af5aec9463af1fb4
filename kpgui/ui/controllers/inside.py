"""The Inside tab's background work: which MNIST test images excite each unit (once per model,
cached, cancellable), and "Fool it" (a push on the input towards a chosen digit) with one click
back to the drawing. Everything runs through the window's one task helper (kpgui.ui.tasks)."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from kpgui.core.state import AppState
from kpgui.ui.controllers.data import DataController
from kpgui.ui.controllers.drawing import DrawingController
from kpgui.ui.tasks import Task, Tasks

if TYPE_CHECKING:  # pragma: no cover
    from kpgui.ui.app import App
    from kpgui.ui.panels.inside import InsidePanel

EXCITE_KEY = "inside-excitement"
FOOL_KEY = "fool"


class InsideController(QObject):
    """Signals carry results to the Inside panel (connected by the composition root)."""

    excitement_ready = Signal(object, object, object)  # predictor, Excitement, test images (N,28,28)
    excitement_status = Signal(str)  # "" when there is nothing to say
    fooled = Signal(object)  # FoolResult, or None when the fooled image is no longer on show
    fool_status = Signal(str)

    def __init__(
        self,
        state: AppState,
        tasks: Tasks,
        drawing: DrawingController,
        data: DataController,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.tasks = tasks
        self.drawing = drawing  # shows the fooled image, brings the drawing back
        self.data = data  # where MNIST is: its test half, read once for the whole window
        self._cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._images: np.ndarray | None = None  # the MNIST test images, loaded once
        self._excite_task: Any = None
        self._for: Any = None  # the predictor the running excitement task is for
        self.result: Any = None  # the last FoolResult on show
        self._fooled_drawing: Any = None  # the Drawing that shows it
        self._before: Any = None  # (Drawing, canvas picture) to go back to
        self._fool_task: Any = None
        state.events.drawing.connect(self._drawing_changed)
        state.events.model.connect(self._model_changed)

    # -- exciting test images --------------------------------------------------------------------

    def excitement(self, predictor: Any) -> Any:
        """The cached Excitement of `predictor`, or None (not computed yet)."""
        return None if predictor is None else self._cache.get(predictor)

    def want_excitement(self, predictor: Any) -> None:
        """Compute (in the background) which test images excite each unit of `predictor`,
        unless known or already under way; a newer model's request cancels an older one."""
        if predictor is None or not getattr(predictor, "layers", None):
            return
        known = self._cache.get(predictor)
        if known is not None:
            self.excitement_ready.emit(predictor, known, self._images)
            return
        if self._excite_task is not None and self._for is predictor:
            return
        layers = predictor.layers
        data = self.data

        def work(task: Task) -> tuple[np.ndarray, Any] | None:
            from kpgui.core.reading.inside import excitement

            images = self._images
            if images is None:
                if data.find() is None:  # never download from here: say where to get it instead
                    return None
                images = data.test_set()[0]
            result = excitement(
                layers, images, progress=lambda d, n: task.report((d, n)), cancelled=lambda: task.cancelled
            )
            return images, result

        self._for = predictor
        task = self.tasks.run(work, key=EXCITE_KEY, doing="Finding the test images each unit likes")
        self._excite_task = task
        self.excitement_status.emit("Finding the MNIST test images that excite each unit…")
        task.progress.connect(
            lambda v: self.excitement_status.emit(
                f"Finding the MNIST test images that excite each unit… {v[0]:,} of {v[1]:,}"
            )
        )
        task.done.connect(lambda value, p=predictor: self._excited(p, value))
        task.failed.connect(
            lambda _title, text: self.excitement_status.emit(f"Exciting test images unavailable: {text}")
        )
        task.ended.connect(lambda t=task: self._excite_ended(t))

    def _excite_ended(self, task: Any) -> None:
        if self._excite_task is task:
            self._excite_task = None
            self._for = None

    def _excited(self, predictor: Any, value: Any) -> None:
        if value is None:
            self.excitement_status.emit(
                "MNIST test images not found: File → Locate mnist.npz to "
                "see the test images each unit likes most."
            )
            return
        images, result = value
        if result is None:
            return
        self._images = images
        self._cache[predictor] = result
        self.excitement_status.emit("")
        self.excitement_ready.emit(predictor, result, images)

    def cancel_excitement(self) -> None:
        if self._excite_task is not None:
            self._excite_task.cancel()
            self._excite_task = None
            self._for = None
            self.excitement_status.emit("")

    def _model_changed(self, _model: Any) -> None:
        if self._excite_task is not None and self._for is not self.state.predictor:
            self.cancel_excitement()

    # -- fool it ------------------------------------------------------------------------------

    @property
    def showing(self) -> bool:
        """The fooled image is what the network reads now."""
        return self._fooled_drawing is not None and self.state.drawing is self._fooled_drawing

    @property
    def busy(self) -> bool:
        return self._fool_task is not None

    def fool(self, target: int, sure: bool = False) -> Any:
        """Push the image on show (the selected digit of a number) towards `target`, in the
        background; the changed image then replaces the drawing until `back()`."""
        model, image = self.state.model, self.state.view_image
        if self.showing and self.result is not None:
            image = self.result.original  # always from the person's own digit
        if model is None or image is None or not np.any(image):
            self.fool_status.emit("Draw a digit first, then fool the network with it.")
            return None
        layers = getattr(model.predictor, "layers", None)
        if not layers:
            self.fool_status.emit("This model runs in Keras; fooling needs a Dense model.")
            return None
        calibration = model.calibration
        image = np.array(image, np.float32)

        def work(task):
            from kpgui.core.reading.fool import fool

            return fool(layers, image, target, calibration, sure=sure, cancelled=lambda: task.cancelled)

        self.fool_status.emit(f"Pushing towards {target}…")
        task = self.tasks.run(work, key=FOOL_KEY, doing="Fooling the network")
        self._fool_task = task
        task.done.connect(self._fool_done)
        task.failed.connect(lambda _title, text: self.fool_status.emit(f"Could not fool it: {text}"))
        task.ended.connect(lambda t=task: self._fool_ended(t))
        return task

    def _fool_ended(self, task: Any) -> None:
        if self._fool_task is task:
            self._fool_task = None

    def _fool_done(self, result: Any) -> None:
        before = self._before if self.showing else (self.state.drawing, self.drawing.canvas.picture)
        self._fooled_drawing = None  # showing the new image must not count as drawing over it
        caption = (
            f"Fooled into {result.target}" if result.reached else f"Pushed towards {result.target}"
        ) + f" ({result.steps} steps)"
        self.drawing.show_image(result.image, caption)
        self._before = before
        self._fooled_drawing = self.state.drawing
        self.result = result
        self.fool_status.emit(result.summary())
        self.fooled.emit(result)

    def back(self) -> None:
        """Back to the drawing the fooled image replaced (its strokes, or its picture)."""
        if not self.showing or self._before is None:
            return
        drawing, picture = self._before
        self._before = None
        self._fooled_drawing = None
        self.result = None
        self.fooled.emit(None)
        if drawing.drawn or drawing.image is None:
            self.drawing.undo()  # the canvas keeps the strokes under a shown picture
        else:
            self.drawing.show_drawing(drawing, picture)
        self.fool_status.emit("")

    def _drawing_changed(self, drawing: Any) -> None:
        if self._fooled_drawing is not None and drawing is not self._fooled_drawing:
            self._fooled_drawing = None  # drawn over, cleared or replaced: nothing to go back from
            self._before = None
            self.result = None
            self.fooled.emit(None)


def add_inside_tab(app: App, title: str, shortcut: str) -> InsidePanel:
    """Build the Inside tab and its controller, connect them, and put the tab in the window
    (called by the composition root, kpgui.ui.app)."""
    from kpgui.ui.panels.inside import InsidePanel

    panel = InsidePanel(app.state)
    controller = InsideController(app.state, app.tasks, app.drawing, app.data, app.window)
    connect_inside(panel, controller)
    app.panels.inside = panel
    app.inside = controller
    app.window.add_tab(panel, title, shortcut, scroll=True)
    return panel


def connect_inside(panel: InsidePanel, controller: InsideController) -> None:
    """The Inside tab's intents to its controller and the controller's results back to the tab
    (the window and the tests wire them the same way)."""
    panel.excitement_wanted.connect(controller.want_excitement)
    panel.fool_requested.connect(controller.fool)
    panel.back_requested.connect(controller.back)
    controller.excitement_ready.connect(panel.set_excitement)
    controller.excitement_status.connect(panel.set_excitement_status)
    controller.fooled.connect(panel.show_fool)
    controller.fool_status.connect(panel.set_fool_status)
