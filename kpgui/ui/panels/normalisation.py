"""How it sees: the drawing's way to the network's 28x28 input, step by step (for teaching).

A strip of four pictures — your drawing with its box, scaled into 20x20, MNIST's 2 px stroke,
centre of mass moved to (14, 14) — redrawn as you draw while the tab is open
(kpgui.core.reading.explain.steps).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from kpgui.core.state import AppState
from kpgui.ui import theme
from kpgui.ui.images import ink_qimage


class StepTile(QWidget):
    """One stage: its picture (crisp pixels), the marks (box, centre of mass), its words."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.step = None
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(150, 150)

    def set_step(self, step) -> None:
        self.step = step
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        if self.step is None:
            p.end()
            return
        img = self.step.image
        h, w = img.shape
        side = min(self.width(), self.height()) - 4
        k = side / max(h, w)
        target = QRectF((self.width() - w * k) / 2, (self.height() - h * k) / 2, w * k, h * k)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, h > 28)
        p.drawImage(target, ink_qimage(img))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        accent = QColor(theme.ACCENT)
        if self.step.box is not None:
            x0, y0, x1, y1 = self.step.box
            p.setPen(QPen(accent, 1.5, Qt.PenStyle.DashLine))
            p.drawRect(QRectF(target.x() + x0 * k, target.y() + y0 * k, (x1 - x0) * k, (y1 - y0) * k))
        if self.step.point is not None:
            x, y = self.step.point
            cx, cy = target.x() + (x + 0.5) * k, target.y() + (y + 0.5) * k
            p.setPen(QPen(accent, 2))
            p.drawLine(int(cx - 6), int(cy), int(cx + 6), int(cy))
            p.drawLine(int(cx), int(cy - 6), int(cx), int(cy + 6))
            p.setPen(QPen(theme.faint(), 1, Qt.PenStyle.DotLine))
            mid_x, mid_y = target.x() + 14.5 * k, target.y() + 14.5 * k
            p.drawLine(int(target.left()), int(mid_y), int(target.right()), int(mid_y))
            p.drawLine(int(mid_x), int(target.top()), int(mid_x), int(target.bottom()))
        p.setPen(theme.faint())
        p.drawRect(target)
        p.end()


class NormalisationPanel(QWidget):
    """The "How it sees" tab; observes the state's drawing, computes only while visible."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.steps: list = []
        self._dirty = True
        self.intro = QLabel(
            "Before the network reads a drawing it is made to look like an MNIST "
            "digit, the way MNIST itself was made. Draw, and watch each step."
        )
        self.intro.setWordWrap(True)
        self.tiles: list[StepTile] = []
        self.titles: list[QLabel] = []
        self.captions: list[QLabel] = []
        grid = QGridLayout()
        for i in range(4):
            tile = StepTile()
            title = QLabel()
            bold = title.font()  # a font, not a style sheet: the text follows the theme
            bold.setBold(True)
            title.setFont(bold)
            caption = QLabel()
            caption.setWordWrap(True)
            column = QVBoxLayout()
            column.addWidget(title)
            column.addWidget(tile, 1)
            column.addWidget(caption)
            grid.addLayout(column, i // 2, i % 2)
            self.tiles.append(tile)
            self.titles.append(title)
            self.captions.append(caption)
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(grid, 1)
        layout.addWidget(self.note)
        state.events.reading.connect(lambda _r: self._changed())

    def _changed(self) -> None:
        self._dirty = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            for tile in self.tiles:
                tile.update()
        super().changeEvent(event)

    def refresh(self) -> None:
        from kpgui.core.reading.explain import steps

        self._dirty = False
        d = self.state.drawing
        piece = self.state.view_piece  # for a number: the digit shown in the preview
        strokes = list(piece.strokes) if piece is not None and piece.strokes else list(d.strokes)
        self.steps = steps(strokes, d.pen_width) if d.drawn else []
        if not self.steps and d.image is not None and np.any(d.image):
            self.note.setText(
                "An imported picture goes through the same steps from its pixels; "
                "the last picture is what the network reads."
            )
        else:
            self.note.setText("" if self.steps else "Draw a digit on the canvas.")
        for i, tile in enumerate(self.tiles):
            step = self.steps[i] if i < len(self.steps) else None
            tile.set_step(step)
            self.titles[i].setText(step.title if step else "")
            self.captions[i].setText(step.caption if step else "")
