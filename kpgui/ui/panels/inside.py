"""The Inside tab: every layer of the network, live on the drawing (or the selected digit of a
number), and "Fool it".

Top to bottom: the 28x28 input, each hidden layer as a grid of cells (512 units -> 16 x 32;
colour = the unit's activation; zero for this drawing = striped; dead on every MNIST test image
= grey), and the ten outputs. The units that carried the answer (kpgui.core.reading.inside
`contributions`) are outlined with their share listed below. Click a unit: its incoming weights
and the test images that excite it most. The whole map is one QPainter pass over small QImages
built with NumPy, so it follows the pen within a frame; while the tab is hidden nothing is
computed (it catches up when shown).

Observes the state; emits intents (`excitement_wanted`, `fool_requested`, `back_requested`);
kpgui.ui.controllers.inside does the background work and hands results to the slots.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from kpgui.core.display.words import answer_averages
from kpgui.core.reading.inside import InsideView, NotDense, dense_layers, grid_shape, incoming, look_inside
from kpgui.core.state import AppState
from kpgui.ui import theme
from kpgui.ui.images import diverging_qimage, ink_qimage

ACTIVE = np.array([0, 105, 140], np.float32)  # a fully active unit (positive)
NEGATIVE = np.array([120, 60, 170], np.float32)  # negative activations (tanh, elu, ...)
DEAD = np.array([128, 128, 128], np.float32)  # never active on the test set
STRIPE = np.array([175, 175, 175], np.float32)  # the stripes of a unit that is zero now
MARGIN = 4
LEGEND = (
    "Colour = how active a unit is on your drawing (darker = more); striped = zero now; "
    "grey = dead (zero on every MNIST test digit, known once they have been run). "
    "Click a unit to see what it listens to."
)


def _rgb(c: QColor) -> np.ndarray:
    return np.array([c.red(), c.green(), c.blue()], np.float32)


def cell_index(rows: int, cols: int, cell: int, units: int) -> np.ndarray:
    """For a layer's grid picture ((rows*cell, cols*cell) pixels): which colour-table entry
    each pixel takes. Entry u is unit u plain, units + 1 + u is unit u's stripe colour, `units`
    is the paper (gaps between cells, cells without a unit). Made once per layout, so a new
    drawing costs one table look-up per pixel."""
    yy, xx = np.mgrid[0 : rows * cell, 0 : cols * cell]
    unit = (yy // cell) * cols + (xx // cell)
    unit = np.where(unit < units, unit, units)
    stripe = ((xx + yy) % 4) < 2
    index = np.where(stripe & (unit < units), unit + units + 1, unit)
    if cell >= 4:  # a gap between cells, so single units stay visible
        gap = ((xx % cell) == cell - 1) | ((yy % cell) == cell - 1)
        index = np.where(gap, units, index)
    return index.astype(np.int32)


def _argb(rgb: np.ndarray) -> np.ndarray:
    c = np.round(np.clip(rgb, 0, 255)).astype(np.uint32)
    return (0xFF000000 | (c[..., 0] << 16) | (c[..., 1] << 8) | c[..., 2]).astype(np.uint32)


def layer_image(
    a: np.ndarray, index: np.ndarray, zero: np.ndarray, dead: np.ndarray | None, paper: np.ndarray
) -> QImage:
    """One hidden layer as a picture (see cell_index): colour = activation (scaled to the
    layer's largest |activation|), striped = zero for this image, grey = dead on the test set."""
    n = len(a)
    peak = float(np.max(np.abs(a))) if n else 0.0
    t = (a / peak if peak > 0 else np.zeros_like(a)).astype(np.float32)[:, None]
    colours = np.where(t >= 0, paper + t * (ACTIVE - paper), paper - t * (NEGATIVE - paper))
    plain = _argb(colours)
    striped = np.where(zero, _argb(STRIPE), plain)
    if dead is not None and len(dead) == n:
        plain = np.where(dead, _argb(DEAD), plain)
        striped = np.where(dead, _argb(DEAD), striped)
    table = np.concatenate([plain, _argb(paper)[None], striped])
    pix = np.ascontiguousarray(table[index])
    h, w = pix.shape
    return QImage(pix.data, w, h, 4 * w, QImage.Format.Format_RGB32).copy()


class InsideMap(QWidget):
    """The picture of the whole network on one image; `unit_clicked(layer, unit)` on a click."""

    unit_clicked = Signal(int, int)
    digit_clicked = Signal(int)  # an output: show the path to that digit

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view: InsideView | None = None
        self.dead: list[np.ndarray | None] = []
        self.lines: list[str] = []  # the summary painted under the outputs
        self.selected: tuple[int, int] | None = None
        self.blocks: list[tuple[QRect, int, int, int]] = []  # per hidden layer: rect, rows, cols, cell
        self._input_rect = QRect()
        self._output_rect = QRect()
        self._images: list[QImage] | None = None
        self._input: QImage | None = None
        self._index: dict[tuple[int, int, int, int], np.ndarray] = {}  # cell_index per layout
        self.paints = 0
        self.setMinimumSize(300, 360)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip(
            "Each hidden unit's activation on your drawing (darker = more active; "
            "striped = zero now; grey = never active on MNIST test digits). Outlined: "
            "the units that carried the answer. Click a unit to see what it listens to."
        )

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, 470)

    def set_view(
        self,
        view: InsideView | None,
        dead: list[np.ndarray | None] | None = None,
        lines: list[str] | None = None,
    ) -> None:
        self.view = view
        self.lines = list(lines or [])
        if dead is not None:
            self.dead = dead
        self._images = None
        self._place()
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._images = None
        self._place()

    # -- geometry -------------------------------------------------------------------------------

    def _place(self) -> None:
        """Where the input, each layer and the outputs go in the current size."""
        self.blocks = []
        if self.view is None:
            return
        w, h = self.width() - 2 * MARGIN, self.height() - 2 * MARGIN
        label = self.fontMetrics().height() + 2
        side = 28 * max(2, min(4, h // 8 // 28))
        out_cell = max(14, min(32, w // 10))
        text = max(len(self.lines), len(self.view.layers) + 1) * label  # the summary lines
        rest = h - (label + side + MARGIN) - (label + out_cell + MARGIN) - text
        n = max(1, len(self.view.layers))
        per = rest // n - label - MARGIN
        y = MARGIN
        self._input_rect = QRect(MARGIN, y + label, side, side)
        y += label + side + MARGIN
        for lv in self.view.layers:
            rows, cols = grid_shape(len(lv.activations))
            cell = max(2, min(w // cols, per // rows, 24))
            self.blocks.append((QRect(MARGIN, y + label, cols * cell, rows * cell), rows, cols, cell))
            y += label + rows * cell + MARGIN
        self._output_rect = QRect(MARGIN, y + label, 10 * out_cell, out_cell)

    def unit_at(self, pos: QPoint) -> tuple[int, int] | None:
        """(layer, unit) under a point of this widget, or None."""
        for li, (rect, _rows, cols, cell) in enumerate(self.blocks):
            if rect.contains(pos):
                col, row = (pos.x() - rect.x()) // cell, (pos.y() - rect.y()) // cell
                unit = row * cols + col
                if self.view is not None and unit < len(self.view.layers[li].activations):
                    return li, unit
        return None

    def digit_at(self, pos: QPoint) -> int | None:
        """The output digit under a point of this widget, or None."""
        r = self._output_rect
        if self.view is None or not r.contains(pos):
            return None
        d = (pos.x() - r.x()) // max(1, r.height())
        return int(d) if 0 <= d <= 9 else None

    def event(self, event) -> bool:  # noqa: D102 - a unit's numbers under the pointer
        if event.type() == QEvent.Type.ToolTip and self.view is not None:
            hit = self.unit_at(event.pos())
            if hit is not None:
                li, u = hit
                lv = self.view.layers[li]
                dead = self.dead[li] if li < len(self.dead) else None
                state = (
                    " — dead: zero on every test digit"
                    if dead is not None and dead[u]
                    else " — zero now"
                    if lv.zero[u]
                    else ""
                )
                QToolTip.showText(
                    event.globalPos(),
                    f"layer {li + 1}, unit #{u}: activation "
                    f"{lv.activations[u]:.3g}, share of the answer "
                    f"{100 * lv.share[u]:.1f} %{state}",
                    self,
                )
                return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position().toPoint()
        hit = self.unit_at(pos)
        digit = self.digit_at(pos)
        if event.button() != Qt.MouseButton.LeftButton or (hit is None and digit is None):
            super().mousePressEvent(event)
        elif hit is not None:
            self.selected = hit
            self.update()
            self.unit_clicked.emit(*hit)
        else:
            self.digit_clicked.emit(digit)

    # -- painting -------------------------------------------------------------------------------

    def _build(self, view: InsideView) -> list[QImage]:
        paper = _rgb(theme.paper())
        out = []
        for li, (lv, (_rect, rows, cols, cell)) in enumerate(zip(view.layers, self.blocks, strict=True)):
            dead = self.dead[li] if li < len(self.dead) else None
            key = (rows, cols, cell, len(lv.activations))
            if key not in self._index:
                self._index[key] = cell_index(*key)
            out.append(layer_image(lv.activations, self._index[key], lv.zero, dead, paper))
        return out

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        self.paints += 1
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        view = self.view
        if view is None:
            p.end()
            return
        if self._images is None or self._input is None:
            self._images = self._build(view)
            self._input = ink_qimage(view.image).convertToFormat(QImage.Format.Format_RGB32)
        ink, faint = theme.ink(), theme.faint()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.setPen(ink)
        r = self._input_rect
        p.drawText(r.x(), r.y() - 4, "input (28 x 28)")
        p.drawImage(r, self._input)
        p.setPen(faint)
        p.drawRect(r.adjusted(0, 0, -1, -1))
        accent = QColor(theme.ACCENT)
        for li, ((rect, _rows, cols, cell), lv, img) in enumerate(
            zip(self.blocks, view.layers, self._images, strict=True)
        ):
            p.setPen(ink)
            zero = int(lv.zero.sum())
            dead = self.dead[li] if li < len(self.dead) else None
            dead_text = "" if dead is None else f", {int(dead.sum())} dead"
            p.drawText(
                rect.x(),
                rect.y() - 4,
                f"hidden layer {li + 1}: {len(lv.activations)} "
                f"{lv.activation} units, {zero} zero now{dead_text}",
            )
            p.drawImage(rect.topLeft(), img)
            pen = QPen(accent, 2)
            p.setPen(pen)
            for rank, unit in enumerate(lv.top):
                row, col = divmod(unit, cols)
                cr = QRect(rect.x() + col * cell - 1, rect.y() + row * cell - 1, cell + 1, cell + 1)
                p.drawRect(cr)
                if rank == 0 and cell >= 10:
                    p.drawText(cr, Qt.AlignmentFlag.AlignCenter, "1")
            if self.selected is not None and self.selected[0] == li:
                row, col = divmod(self.selected[1], cols)
                p.setPen(QPen(ink, 2, Qt.PenStyle.DotLine))
                p.drawRect(rect.x() + col * cell - 2, rect.y() + row * cell - 2, cell + 3, cell + 3)
        r = self._output_rect
        cell = r.height()
        p.setPen(ink)
        p.drawText(r.x(), r.y() - 4, "outputs (probability; click one for its path)")
        paper = theme.paper()
        for d in range(10):
            q = float(view.probabilities[d])
            c = QColor(
                int(paper.red() + q * (ACTIVE[0] - paper.red())),
                int(paper.green() + q * (ACTIVE[1] - paper.green())),
                int(paper.blue() + q * (ACTIVE[2] - paper.blue())),
            )
            cr = QRect(r.x() + d * cell, r.y(), cell - 2, cell - 2)
            p.fillRect(cr, c)
            p.setPen(QColor("white") if q > 0.5 else ink)
            p.drawText(cr, Qt.AlignmentFlag.AlignCenter, str(d))
            if d == view.winner:
                p.setPen(QPen(accent, 2))
                p.drawRect(cr)
        p.setPen(ink)
        fm = self.fontMetrics()
        y = r.bottom() + MARGIN + fm.ascent()
        for line in self.lines:
            p.drawText(MARGIN, y, fm.elidedText(line, Qt.TextElideMode.ElideRight, self.width() - 2 * MARGIN))
            y += fm.height() + 2
        p.end()


class InsidePanel(QWidget):
    """The Inside tab (see the module docstring)."""

    excitement_wanted = Signal(object)  # the predictor whose exciting test images are needed
    fool_requested = Signal(int, bool)  # target digit, until sure
    back_requested = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.view: InsideView | None = None
        self.layers: list | None = None
        self.excitement: Any = None
        self.test_images: np.ndarray | None = None
        self.selected: tuple[int, int] | None = None
        self.incoming: Any = None
        self.exciting: np.ndarray = np.zeros(0, np.int64)  # test image indices of the selected unit
        self.refreshes = 0
        self._dirty = True

        self.map = InsideMap()
        self.map.unit_clicked.connect(self.select_unit)
        self.map.digit_clicked.connect(self.explain_digit)
        self.explained: int | None = None  # the digit whose path is shown (None: the answer)
        self.summary_lines: list[str] = []
        self._message = ""
        self.summary = QLabel(LEGEND)  # changes only for a message (no model, a Keras model)
        self.summary.setWordWrap(True)

        self.unit_title = QLabel("Click a unit in a layer to see what it listens to.")
        self.unit_title.setWordWrap(True)
        self.weights_label = QLabel()
        self.weights_label.setToolTip("Its incoming weights: red = ink there excites it, blue = inhibits it")
        self.weights_text = QLabel("")
        self.weights_text.setWordWrap(True)
        self.exciting_label = QLabel()
        self.exciting_label.setToolTip("The MNIST test images that make this unit most active")
        self.exciting_text = QLabel("")
        self.exciting_text.setWordWrap(True)
        unit_box = QGroupBox("The unit you clicked")
        ub = QVBoxLayout(unit_box)
        ub.addWidget(self.unit_title)
        ub.addWidget(self.weights_label)
        ub.addWidget(self.weights_text)
        ub.addWidget(self.exciting_text)
        ub.addWidget(self.exciting_label)

        self.target = QSpinBox()
        self.target.setRange(0, 9)
        self.target.setValue(3)
        self.target.setPrefix("make it read ")
        self.target.setToolTip("The digit the network should be fooled into reading")
        self.until_sure = QCheckBox("until it is sure")
        self.until_sure.setToolTip(
            "Keep pushing until the calibrated reading is sure of the target, not only leaning to it"
        )
        self.fool_button = QPushButton("Fool it")
        self.fool_button.setToolTip(
            "Find a small change to the 28x28 input that makes the network read the chosen digit"
        )
        self.fool_button.clicked.connect(
            lambda: self.fool_requested.emit(self.target.value(), self.until_sure.isChecked())
        )
        self.back_button = QPushButton("Back to my drawing")
        self.back_button.setEnabled(False)
        self.back_button.clicked.connect(self.back_requested.emit)
        self.fool_pictures = QLabel()
        self.fool_pictures.setToolTip(
            "Your digit, the changed image the network now reads, and the "
            "difference (red = ink added, blue = ink taken away)"
        )
        self.fool_text = QLabel("Change your digit a little so that the network reads another one.")
        self.fool_text.setWordWrap(True)
        fool_box = QGroupBox("Fool it")
        fb = QVBoxLayout(fool_box)
        row = QHBoxLayout()
        row.addWidget(self.target)
        row.addWidget(self.until_sure)
        row.addWidget(self.fool_button)
        row.addWidget(self.back_button)
        row.addStretch(1)
        fb.addLayout(row)
        fb.addWidget(self.fool_pictures)
        self.fool_legend = QLabel(
            "your digit · what the network now reads · the difference (red = ink added, blue = taken away)"
        )
        self.fool_legend.setWordWrap(True)
        self.fool_legend.setVisible(False)
        fb.addWidget(self.fool_legend)
        fb.addWidget(self.fool_text)

        layout = QVBoxLayout(self)
        layout.addWidget(fool_box)
        layout.addWidget(self.map, 1)
        layout.addWidget(self.summary)
        layout.addWidget(unit_box)
        state.events.reading.connect(lambda _r: self.changed())
        state.events.model.connect(lambda _m: self._model_changed())

    # -- following the state ------------------------------------------------------------------

    def changed(self) -> None:
        """The image or the model changed: redraw now if visible, else when next shown."""
        if not self.isVisible():
            self._dirty = True
            return
        self.refresh()

    def _model_changed(self) -> None:
        self.explained = None
        self.excitement = None
        self.selected = None
        self.map.selected = None
        self.incoming = None
        self.exciting = np.zeros(0, np.int64)
        self._show_unit()
        if self.isVisible():
            self.excitement_wanted.emit(self.state.predictor)
        self.changed()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._dirty:
            self.refresh()
        if self.excitement is None and self.layers:
            self.excitement_wanted.emit(self.state.predictor)

    def refresh(self) -> None:
        """Recompute every layer for the image on show (the selected digit of a number)."""
        self._dirty = False
        self.refreshes += 1
        predictor = self.state.predictor
        image = self.state.view_image
        try:
            self.layers = None if predictor is None else dense_layers(predictor)
        except NotDense as exc:
            self.layers = None
            self._blank(str(exc)[0].upper() + str(exc)[1:] + ".")
            return
        if self.layers is None:
            self._blank("No model loaded.")
            return
        if image is None:
            image = np.zeros((28, 28), np.float32)
        self.view = view = look_inside(self.layers, image, winner=self.explained)
        dead = None
        if self.excitement is not None:
            dead = [self.excitement.dead(i) for i in range(len(view.layers))]
        self.summary_lines = self._summary(view)
        self.map.set_view(self.view, dead, self.summary_lines)
        if self._message:
            self._message = ""
            self.summary.setText(LEGEND)
        self.fool_button.setEnabled(bool(np.any(image)))

    def _blank(self, text: str) -> None:
        self.view = None
        self.summary_lines = []
        self.map.set_view(None)
        self._message = text
        self.summary.setText(text)
        self.fool_button.setEnabled(False)

    def _summary(self, v: InsideView) -> list[str]:
        """The lines under the map: what it reads and the units that carried it (plain text,
        painted by the map: a label's relayout would cost more than the whole frame)."""
        if not np.any(v.image):
            return ["Blank input: draw a digit to see each layer light up."]
        top = int(np.argmax(v.logits))
        if v.winner == top:
            lines = [
                f"It reads {top}. The units that carried it (outlined), with their share "
                f"of the push towards {top}:"
            ]
        else:
            lines = [
                f"It reads {top}; shown: the units that pushed towards {v.winner} (click "
                f"{top} to go back to the answer), with their share:"
            ]
        for li in range(len(v.layers) - 1, -1, -1):
            lv = v.layers[li]
            tops = ", ".join(f"#{u} {100 * lv.share[u]:.0f} %" for u in lv.top) or "none"
            lines.append(f"  layer {li + 1}: {tops}")
        answer = self.state.reading
        if answer is not None and answer.digit != top:  # rare: the moved views outvote the picture
            lines.append(answer_averages(top, answer.digit))
        return lines

    # -- a unit ---------------------------------------------------------------------------------

    def explain_digit(self, digit: int) -> None:
        """Show the path to `digit` instead of the answer (clicking the answer goes back)."""
        answer = None if self.view is None else int(np.argmax(self.view.logits))
        self.explained = None if digit == answer else int(digit)
        self.refresh()

    def select_unit(self, layer: int, unit: int) -> None:
        """Show what hidden unit `unit` of layer `layer` (0 = first) listens to and likes."""
        if not self.layers:
            return
        self.selected = (layer, unit)
        self.map.selected = (layer, unit)
        self.incoming = incoming(self.layers, layer, unit)
        self._show_unit()
        self.map.update()

    def _show_unit(self) -> None:
        if self.selected is None or self.incoming is None:
            self.unit_title.setText("Click a unit in a layer to see what it listens to.")
            for label in (self.weights_label, self.exciting_label):
                label.clear()
            self.weights_text.setText("")
            self.exciting_text.setText("")
            return
        layer, unit = self.selected
        self.unit_title.setText(
            f"<b>Layer {layer + 1}, unit #{unit}</b> (point at it in the map for its activation now)"
        )
        inc = self.incoming
        if inc.picture is not None:
            self.weights_label.setPixmap(_scaled(diverging_qimage(inc.picture), 4))
            self.weights_text.setText(
                "Its 784 incoming weights as a 28x28 picture: red = ink there excites it, blue = inhibits it."
            )
        else:
            tiles = [pic / (np.abs(pic).max() or 1.0) * np.sign(w) for _u, w, pic in inc.via]
            self.weights_label.setPixmap(_scaled(diverging_qimage(_strip(tiles), 1.0), 2))
            names = ", ".join(f"#{u} ({w:+.2f})" for u, w, _p in inc.via)
            self.weights_text.setText(
                f"It listens most to these first-layer units: {names} — each "
                "drawn as its own weight picture, flipped when it counts "
                "against this unit (weights chained through the layers)."
            )
        self._show_exciting()

    def _show_exciting(self) -> None:
        if self.selected is None:
            return
        if self.excitement is None or self.test_images is None:
            self.exciting = np.zeros(0, np.int64)
            self.exciting_label.clear()
            self.exciting_text.setText("The test images it likes most appear here once they are found.")
            return
        layer, unit = self.selected
        self.exciting = np.asarray(self.excitement.top[layer][unit])
        share = 100 * float(self.excitement.active[layer][unit])
        tiles = [self.test_images[i] / 255.0 for i in self.exciting]
        rows = [_strip(tiles[i : i + 3]) for i in range(0, len(tiles), 3)]
        width = max(r.shape[1] for r in rows)
        grid = np.zeros((len(rows) * 30 - 2, width), np.float32)
        for i, r in enumerate(rows):
            grid[i * 30 : i * 30 + 28, : r.shape[1]] = r
        self.exciting_label.setPixmap(_scaled(ink_qimage(grid), 2))
        never = " It is dead: zero on every test digit." if share == 0 else ""
        self.exciting_text.setText(
            f"The MNIST test digits that excite it most (it is active on {share:.0f} % of them).{never}"
        )

    # -- from the controller ----------------------------------------------------------------------

    def set_excitement(self, predictor: Any, excitement: Any, images: np.ndarray) -> None:
        if predictor is not self.state.predictor:
            return
        self.excitement = excitement
        self.test_images = images
        self._show_exciting()
        if self.isVisible():
            self.refresh()
        else:
            self._dirty = True

    def set_excitement_status(self, text: str) -> None:
        if text:
            self.exciting_text.setText(text)
        elif self.selected is not None:
            self._show_exciting()

    def show_fool(self, result: Any) -> None:
        """A FoolResult on show (the window now reads the changed image), or None (back)."""
        self.back_button.setEnabled(result is not None)
        self.fool_legend.setVisible(result is not None)
        if result is None:
            self.fool_pictures.clear()
            return
        original = ink_qimage(result.original)
        changed = ink_qimage(result.image)
        diff = diverging_qimage(result.difference)
        both = QImage(28 * 3 + 8, 28, QImage.Format.Format_RGB888)
        both.fill(theme.paper())
        p = QPainter(both)
        for i, img in enumerate((original, changed, diff)):
            p.drawImage(i * 32, 0, img)
        p.end()
        self.fool_pictures.setPixmap(_scaled(both, 3))
        self.fool_pictures.setToolTip(
            "Left: your digit. Middle: the changed image the network now "
            "reads. Right: the difference (red = ink added, blue = taken "
            "away)"
        )

    def set_fool_status(self, text: str) -> None:
        self.fool_text.setText(text or "Change your digit a little so that the network reads another one.")


def _strip(tiles: list[np.ndarray], fill: float = 0.0) -> np.ndarray:
    """28x28 tiles side by side with a 2-pixel gap."""
    if not tiles:
        return np.full((28, 28), fill, np.float32)
    out = np.full((28, len(tiles) * 30 - 2), fill, np.float32)
    for i, t in enumerate(tiles):
        out[:, i * 30 : i * 30 + 28] = np.asarray(t, np.float32).reshape(28, 28)
    return out


def _scaled(image: QImage, k: int) -> QPixmap:
    return QPixmap.fromImage(image).scaled(
        image.width() * k,
        image.height() * k,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )
