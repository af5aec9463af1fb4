"""The drawing canvas: records strokes as vector polylines and paints them smoothly.

It knows nothing about networks. It emits `strokes_changed` on every point added (the drawing
controller coalesces readings to one per frame) and `file_dropped` when a picture is dropped on
it (the frame lights up while a file is dragged over). Ink and paper follow the theme. It fills
the space it is given: the digit is cropped and scaled anyway, so no shape is needed.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QTabletEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from kpgui.ui import theme

MIN_SIDE = 240


class DrawingCanvas(QWidget):
    """A sheet of paper for a digit (mouse, pen tablet, or a dropped picture).

    Public hooks: `strokes` (list of (N, 2) float arrays in canvas pixels, including the one
    being drawn), `pen_width`, `canvas_size()`, `clear()`, `undo()`, signal `strokes_changed`.
    """

    strokes_changed = Signal()
    file_dropped = Signal(str)

    def __init__(self, parent: QWidget | None = None, pen_width: float = 18.0) -> None:
        super().__init__(parent)
        self._strokes: list[list[tuple[float, float]]] = []
        self._drawing = False
        self._pen_width = float(pen_width)
        self._picture: QImage | None = None
        self._stash: list[list[tuple[float, float]]] | None = None  # strokes hidden by a picture
        self.drop_hover = False  # a file is being dragged over: the frame is highlighted
        self.boxes: list[tuple[float, float, float, float]] = []  # the digits of a number
        self.selected_box = -1
        self.setMinimumSize(MIN_SIDE, MIN_SIDE)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAcceptDrops(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        # The canvas takes the keyboard focus (a click gives it too): digit keys then save the
        # drawing as a sample instead of typing into whichever field had the focus.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setToolTip(
            "Draw one digit here with the mouse or a pen. Esc clears, Ctrl+Z undoes.\n"
            "Drop a picture here to read it."
        )

    # -- public API ------------------------------------------------------------------------

    @property
    def strokes(self) -> list[np.ndarray]:
        """Every stroke as an (N, 2) float64 array of canvas pixels (x right, y down)."""
        return [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in self._strokes if s]

    @property
    def pen_width(self) -> float:
        return self._pen_width

    @pen_width.setter
    def pen_width(self, width: float) -> None:
        self._pen_width = max(1.0, float(width))
        self.update()
        if self._strokes:
            self.strokes_changed.emit()

    def set_pen_width(self, width: float) -> None:
        """Slot form of the `pen_width` setter (for spin boxes and sliders)."""
        self.pen_width = width

    def set_boxes(self, boxes: list, selected: int = -1) -> None:
        """Frame each digit of a written number (the selected one stronger); [] for none."""
        boxes = [tuple(float(v) for v in b) for b in boxes]
        if boxes != self.boxes or selected != self.selected_box:
            self.boxes, self.selected_box = boxes, selected
            self.update()

    def canvas_size(self) -> tuple[int, int]:
        """(width, height) in pixels of the drawing area."""
        return self.width(), self.height()

    @property
    def picture(self) -> QImage | None:
        """The imported picture on show, if any (drawing starts over it removes it)."""
        return self._picture

    def clear(self) -> None:
        """Remove every stroke and any imported picture."""
        self._strokes.clear()
        self._drawing = False
        self._picture = None
        self._stash = None
        self.update()
        self.strokes_changed.emit()

    def undo(self) -> None:
        """Remove the last stroke; with a picture shown, remove it and bring back the drawing."""
        if self._picture is not None and not self._strokes:
            self._picture = None
            self._strokes = self._stash or []
            self._stash = None
        elif self._strokes:
            self._strokes.pop()
            self._drawing = False
        else:
            return
        self.update()
        self.strokes_changed.emit()

    def set_picture(self, image: QImage | None) -> None:
        """Show a picture instead of the drawing; Undo brings the drawing back.

        Does not emit `strokes_changed`: the window decides what the network sees.
        """
        if image is not None and self._picture is None:
            self._stash = self._strokes
            self._strokes = []
        self._picture = image
        self._drawing = False
        self.update()

    # -- geometry --------------------------------------------------------------------------

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, 420)

    # -- input -----------------------------------------------------------------------------

    def _begin(self, pos: QPointF) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if self._picture is not None:
            self._picture = None
            self._stash = None
        self._strokes.append([(pos.x(), pos.y())])
        self._drawing = True
        self.update()
        self.strokes_changed.emit()

    def _extend(self, pos: QPointF) -> None:
        if not self._drawing or not self._strokes:
            return
        last = self._strokes[-1][-1]
        if last == (pos.x(), pos.y()):
            return
        self._strokes[-1].append((pos.x(), pos.y()))
        self.update()
        self.strokes_changed.emit()

    def _end(self, pos: QPointF) -> None:
        if self._drawing:
            self._extend(pos)
            self._drawing = False

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(event.position())
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        # Follow our own "drawing" state, not event.buttons(): some platforms (and QTest)
        # deliver moves without the pressed buttons.
        if self._drawing:
            self._extend(event.position())
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._end(event.position())
            event.accept()

    def tabletEvent(self, event: QTabletEvent) -> None:  # noqa: N802
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            self._begin(event.position())
        elif kind == QEvent.Type.TabletMove:
            self._extend(event.position())
        elif kind == QEvent.Type.TabletRelease:
            self._end(event.position())
        event.accept()  # no synthesized mouse events: they would double the points

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
            self._set_drop_hover(True)

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self._set_drop_hover(False)

    def _set_drop_hover(self, on: bool) -> None:
        if self.drop_hover != on:
            self.drop_hover = on
            self.update()

    def dropEvent(self, event) -> None:  # noqa: N802
        self._set_drop_hover(False)
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.file_dropped.emit(url.toLocalFile())
                event.acceptProposedAction()
                return

    # -- painting --------------------------------------------------------------------------

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self.update()
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), theme.paper())
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self._picture is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._picture.width() > 28)
            target = _fit(self._picture.size(), self.rect().adjusted(8, 8, -8, -8))
            p.drawImage(target, self._picture)
        elif not self._strokes:
            p.setPen(theme.faint())
            font = p.font()
            font.setPointSizeF(max(11.0, min(self.height(), self.width()) / 26))
            p.setFont(font)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Draw a digit here\n(or drop a picture)")
        pen = QPen(
            theme.ink(),
            self._pen_width,
            Qt.PenStyle.SolidLine,
            Qt.PenCapStyle.RoundCap,
            Qt.PenJoinStyle.RoundJoin,
        )
        p.setPen(pen)
        for stroke in self._strokes:
            if len(stroke) == 1:
                p.drawPoint(QPointF(*stroke[0]))
                continue
            path = QPainterPath(QPointF(*stroke[0]))
            for x, y in stroke[1:]:
                path.lineTo(x, y)
            p.drawPath(path)
        if self._picture is None and len(self.boxes) > 1:
            pad = self._pen_width / 2 + 4
            for i, (x0, y0, x1, y1) in enumerate(self.boxes):
                chosen = i == self.selected_box
                p.setPen(
                    QPen(
                        QColor(theme.ACCENT) if chosen else theme.faint(),
                        2 if chosen else 1,
                        Qt.PenStyle.SolidLine if chosen else Qt.PenStyle.DashLine,
                    )
                )
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRoundedRect(QRectF(x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), 6, 6)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if self.drop_hover:
            p.setPen(QPen(QColor(theme.ACCENT), 4, Qt.PenStyle.DashLine))
            p.drawRect(self.rect().adjusted(2, 2, -3, -3))
        else:
            p.setPen(QPen(theme.faint(), 1))
            p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()


def _fit(size: QSize, box: QRect) -> QRect:
    """The largest rectangle of `size`'s aspect ratio centred in `box`."""
    if size.width() <= 0 or size.height() <= 0:
        return box
    scale = min(box.width() / size.width(), box.height() / size.height())
    w, h = int(size.width() * scale), int(size.height() * scale)
    return QRect(box.x() + (box.width() - w) // 2, box.y() + (box.height() - h) // 2, w, h)
