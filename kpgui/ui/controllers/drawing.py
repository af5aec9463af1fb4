"""Drawing -> what the network reads: canvas strokes and imported pictures become
`state.drawing` (and so `state.reading`), at most once per screen frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from kpgui.core.state import AppState, Drawing
from kpgui.ui.controllers.report import ReportError
from kpgui.ui.images import ink_qimage, picture_qimage
from kpgui.ui.panels.canvas import DrawingCanvas
from kpgui.ui.tasks import Tasks

FRAME_MS = 16  # at most one reading per frame while drawing


class DrawingController(QObject):
    """Owns the canvas's meaning: strokes_to_mnist on its strokes (coalesced per frame),
    pictures through image_to_mnist (on a thread), images shown as they are, clearing."""

    def __init__(
        self,
        state: AppState,
        canvas: DrawingCanvas,
        tasks: Tasks,
        report_error: ReportError,
        window: QWidget | None = None,  # the parent of its dialogs (None: on their own)
    ) -> None:
        super().__init__(window)
        self.state = state
        self.canvas = canvas
        self.tasks = tasks
        self.report_error = report_error
        self.window = window  # the parent of its file dialog
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self.render_now)
        self._fixed: Drawing | None = None  # a picture or image on show instead of strokes
        canvas.strokes_changed.connect(self._strokes_changed)
        canvas.file_dropped.connect(self.import_picture)

    @property
    def pending(self) -> bool:
        """A reading is scheduled for the next frame."""
        return self._timer.isActive()

    def _strokes_changed(self) -> None:
        if self.canvas.picture is None:
            self._fixed = None  # drawing (or undo) replaced the picture
        if not self._timer.isActive():
            self._timer.start()

    def render_now(self) -> None:
        """Turn the canvas into the network's input now (the frame timer calls this)."""
        self._timer.stop()
        if self._fixed is not None and self.canvas.picture is not None:
            self.state.set_drawing(self._fixed)
            return
        strokes = self.canvas.strokes
        if not strokes:
            self.state.set_drawing(Drawing())
            return
        from kpgui.core.reading.segment import split_strokes

        pen = float(self.canvas.pen_width)
        # One digit gives exactly strokes_to_mnist's image; several are split where people
        # leave space between digits (kpgui.core.reading.segment).
        pieces = split_strokes(strokes, pen)
        image = pieces[0].image if pieces else None
        self.state.set_drawing(
            Drawing(image, "", tuple(strokes), pen, self.canvas.canvas_size(), tuple(pieces))
        )

    def clear(self) -> None:
        self._fixed = None
        self.canvas.clear()
        self.render_now()

    def undo(self) -> None:
        self.canvas.undo()
        self.render_now()

    def show_image(self, image28: np.ndarray, caption: str = "") -> None:
        """Show a given 28x28 image (floats in [0, 1], 1 = ink) as the network input and read
        it; Undo or drawing brings the canvas back."""
        img = np.clip(np.nan_to_num(np.asarray(image28, np.float32).reshape(28, 28)), 0.0, 1.0)
        self._fixed = Drawing(img, caption)
        self.canvas.set_picture(ink_qimage(img))
        self.state.set_drawing(self._fixed)

    def show_drawing(self, drawing: Drawing, picture: QImage | None) -> None:
        """Show again a picture-made drawing that was on show before (Inside → Back to my
        drawing): the same Drawing, read again, with its picture on the canvas."""
        self._fixed = drawing
        if picture is None and drawing.image is not None:
            picture = ink_qimage(drawing.image)
        self.canvas.set_picture(picture)
        self.state.set_drawing(drawing)

    def ask_import(self) -> None:
        """File → Import image…: ask for a picture, then read it."""
        from kpgui.ui import dialogs

        path = dialogs.ask_open_path(self.window, "Import a picture of a digit", dialogs.IMAGE_FILTER)
        if path:
            self.import_picture(path)

    def import_picture(self, path: str) -> None:
        """Read a picture file on a thread; when read, show it and read its digit. A bad file
        is a dialog and changes nothing."""
        name = Path(path).name
        self.state.say(f"Reading {name}…", 0, owner="picture")

        def work(path: str, _task):
            from kpgui.core.reading.imageio import read_image
            from kpgui.core.reading.segment import split_picture

            gray = read_image(path)
            return gray, split_picture(gray)

        task = self.tasks.read_file(path, work, key="picture", doing=f"Reading {name}")
        task.done.connect(lambda value: self._picture_read(name, *value))
        task.ended.connect(lambda: self.state.unsay("picture"))
        task.failed.connect(
            lambda title, text: self.report_error(
                "Cannot read this picture",
                f"{text}\n\nUse a PNG, JPEG, BMP, GIF or TIFF picture (or a .npy array) of a digit.",
            )
        )

    def _picture_read(self, name: str, gray: np.ndarray, pieces: list) -> None:
        image28 = pieces[0].image if pieces else np.zeros((28, 28), np.float32)
        self._fixed = Drawing(image28, f"Imported: {name}", pieces=tuple(pieces))
        self.canvas.set_picture(picture_qimage(gray))
        self.state.set_drawing(self._fixed)
