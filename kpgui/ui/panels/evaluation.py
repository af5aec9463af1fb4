"""Evaluation of the current model on the 10 000 MNIST test images (the work is the evaluation
controller's, kpgui.ui.controllers.evaluation, off the GUI thread).

Shows test accuracy, per-class accuracy (bars), and a confusion-matrix heatmap with counts.
Clicking a cell fills a gallery with the test images of that (true, predicted) pair; clicking
a thumbnail loads that image into the canvas/preview with its prediction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSimpleTextItem,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kpgui.core.display.numbers import percent
from kpgui.core.state import AppState
from kpgui.ui import theme
from kpgui.ui.charts import pyqtgraph, style_plot
from kpgui.ui.images import thumbnail_icon, thumbnail_list

if TYPE_CHECKING:
    from kpgui.core.model.evaluation import Evaluation

GALLERY_LIMIT = 400


pg = pyqtgraph()


class Label(QGraphicsSimpleTextItem):
    """A text label at a data position, centred (or bottom-centred), unscaled by zooming.

    (pg.TextItem is avoided on purpose: a hundred of them crash PySide6 6.12 at garbage
    collection, "bool_dealloc"; plain Qt text items do not.)
    """

    def __init__(self, color: str = "k", bottom: bool = False) -> None:
        super().__init__()
        self.bottom = bottom
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.set_color(color)

    def set_color(self, color: str) -> None:
        self.setBrush(QBrush(pg.mkColor(color)))

    def set_text(self, text: str) -> None:
        self.setText(text)
        r = self.boundingRect()
        self.setTransform(
            QTransform.fromTranslate(-r.width() / 2, -r.height() if self.bottom else -r.height() / 2)
        )


_ImageItem: Any = pg.ImageItem  # pyqtgraph ships no types


class ConfusionImage(_ImageItem):
    """The heatmap; a click reports the (true, predicted) cell under the mouse."""

    cell_clicked = Signal(int, int)

    def mouseClickEvent(self, ev):  # noqa: N802
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        pos = ev.pos()
        col, row = int(np.floor(pos.x())), int(np.floor(pos.y()))
        if 0 <= row < 10 and 0 <= col < 10:
            ev.accept()
            self.cell_clicked.emit(row, col)


class EvaluationPanel(QWidget):
    """The Evaluation tab. Observes the state's model (the numbers go stale when it changes;
    re-measured when the tab is open). Intents: `evaluate_requested()` (the evaluation
    controller does it and answers through `show_started`, `show_progress`, `show_evaluation`,
    `show_failed`, `show_ended`), `image_chosen(img28, caption)` for a clicked test image."""

    evaluated = Signal(object)  # Evaluation
    image_chosen = Signal(object, str)
    evaluate_requested = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.busy = False  # an evaluation is under way (between show_started and show_ended)
        self.evaluation: Any = None
        self.images: np.ndarray | None = None
        self.labels: np.ndarray | None = None
        self.selected_cell: tuple[int, int] | None = None
        self.stale = True

        self.run_button = QPushButton("Evaluate current model")
        self.run_button.clicked.connect(self.evaluate)
        self.progress = QProgressBar()
        self.progress.setRange(0, 10000)
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        self.status = QLabel("Press “Evaluate” to test the current model on the 10 000 MNIST test images.")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.run_button)
        top.addWidget(self.progress, 1)

        # Confusion matrix: one ImageItem and 100 text labels, created once.
        self.matrix_plot = pg.PlotWidget()
        self.matrix_plot.setMenuEnabled(False)
        self.matrix_plot.setMouseEnabled(x=False, y=False)
        self.matrix_plot.hideButtons()
        self.matrix_plot.setAspectLocked(True)
        self.matrix_plot.invertY(True)
        pi = self.matrix_plot.getPlotItem()
        pi.setLabel("left", "true digit")
        pi.setLabel("bottom", "predicted digit")
        ticks = [[(i + 0.5, str(i)) for i in range(10)]]
        for name in ("left", "bottom"):
            pi.getAxis(name).setTicks(ticks)
        self.heat = ConfusionImage(axisOrder="row-major")
        self.heat.setImage(np.zeros((10, 10)), levels=(0, 1))
        self.heat.setColorMap(pg.colormap.get("viridis"))
        self.heat.setRect(0, 0, 10, 10)
        self.heat.cell_clicked.connect(self.select_cell)
        pi.addItem(self.heat)
        self.cell_texts: list[list[Label]] = []
        for r in range(10):
            row = []
            for c in range(10):
                t = Label("w")
                t.setPos(c + 0.5, r + 0.5)
                pi.addItem(t)
                row.append(t)
            self.cell_texts.append(row)
        self.marker = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.marker.setPen(pg.mkPen("#ff3030", width=3))
        self.marker.setVisible(False)
        pi.addItem(self.marker)
        pi.setXRange(0, 10, padding=0.02)
        pi.setYRange(0, 10, padding=0.02)
        pi.getViewBox().sigResized.connect(self._fit_cell_texts)

        # Per-class accuracy bars.
        self.class_plot = pg.PlotWidget()
        self.class_plot.setMenuEnabled(False)
        self.class_plot.setMouseEnabled(x=False, y=False)
        self.class_plot.hideButtons()
        cp = self.class_plot.getPlotItem()
        cp.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)]])
        self.bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7, brush="#4c72b0")
        cp.addItem(self.bars)
        self.bar_texts = []
        for _ in range(10):
            t = Label(theme.chart_foreground().name(), bottom=True)
            cp.addItem(t)
            self.bar_texts.append(t)
        cp.setXRange(-0.6, 9.6, padding=0)
        self.class_plot.setMaximumHeight(200)

        self.gallery_label = QLabel("Misclassified images appear here.")
        self.gallery_label.setWordWrap(True)
        self.gallery = cast(QListWidget, thumbnail_list(QSize(76, 84)))  # its default kind
        self.gallery.itemClicked.connect(self._gallery_clicked)
        self.gallery.itemActivated.connect(self._gallery_clicked)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.matrix_plot, 3)
        ll.addWidget(self.class_plot, 1)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.gallery_label)
        rl.addWidget(self.gallery, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([560, 320])
        self.gallery.setMinimumWidth(170)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)

        self._apply_theme()
        state.events.model.connect(lambda _m: self.mark_stale())

    def _apply_theme(self) -> None:
        style_plot(self.matrix_plot, "Confusion matrix (click a cell)")
        style_plot(self.class_plot, "Per-class accuracy (%)")
        for t in self.bar_texts:
            t.set_color(theme.chart_foreground().name())

    def changeEvent(self, event):  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_theme()
            if self.selected_cell is not None and self.evaluation is not None:
                self.select_cell(*self.selected_cell)  # thumbnails in the new ink and paper
        super().changeEvent(event)

    # -- running -------------------------------------------------------------------------------

    def mark_stale(self) -> None:
        """The model changed: the shown numbers belong to the previous one."""
        self.stale = True
        if self.evaluation is not None:
            self.status.setText(
                "The model changed; these numbers are for the previous model. "
                "Press “Evaluate” to test the current one."
            )
        if self.isVisible():
            self.evaluate()

    def showEvent(self, event):  # noqa: N802
        """Opening the tab evaluates the current model if the numbers are missing or old."""
        super().showEvent(event)
        if self.stale and not self.busy and self.state.predictor is not None:
            self.evaluate()

    def evaluate(self) -> None:
        """Ask for the current model to be evaluated (a newer request supersedes a running one)."""
        if self.state.predictor is None:
            self.status.setText("No model is loaded: load or train one first.")
            return
        self.stale = False
        self.evaluate_requested.emit()

    def show_started(self, name: str) -> None:
        self.busy = True
        self.run_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.status.setText(f"Evaluating {name} on the 10 000 MNIST test images…")

    def show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def show_failed(self, message: str) -> None:
        self.status.setText(message)

    def show_ended(self) -> None:
        self.busy = False
        self.run_button.setEnabled(True)
        self.progress.setVisible(False)

    # -- showing -------------------------------------------------------------------------------

    def _fit_cell_texts(self, *_args) -> None:
        """The counts' size follows the cells' (a "1135" fits its cell at 1024x640 too); in
        cells too small to read they are hidden rather than overlapping."""
        cell = self.matrix_plot.getPlotItem().getViewBox().width() / 10.2
        pixels = int(min(12.0, cell / 2.6))
        for row in self.cell_texts:
            for t in row:
                t.setVisible(pixels >= 6)
                if pixels >= 6 and t.font().pixelSize() != pixels:
                    font = t.font()
                    font.setPixelSize(pixels)
                    t.setFont(font)
                    t.set_text(t.text())  # re-centre with the new size

    def show_evaluation(self, evaluation: Evaluation, images: np.ndarray, labels: np.ndarray) -> None:
        self.evaluation, self.images, self.labels = evaluation, images, labels
        conf = np.asarray(evaluation.confusion)
        shade = np.log1p(conf.astype(np.float64))
        top = float(shade.max()) or 1.0
        self.heat.setImage(shade, levels=(0.0, top))
        for r in range(10):
            for c in range(10):
                t = self.cell_texts[r][c]
                t.set_text(str(int(conf[r, c])))
                t.set_color("k" if shade[r, c] > 0.6 * top else "w")
        per = 100 * np.asarray(evaluation.per_class_accuracy)
        self.bars.setOpts(height=per)
        lo = max(0.0, float(per.min()) - 5.0)
        self.class_plot.getPlotItem().setYRange(lo, 101.0, padding=0)
        for i, t in enumerate(self.bar_texts):
            t.set_text(f"{per[i]:.1f}")
            t.setPos(i, per[i])
        errors = int(conf.sum() - np.trace(conf))
        worst = int(np.argmin(per))
        off = conf - np.diag(np.diag(conf))
        true, pred = (int(i) for i in np.unravel_index(int(np.argmax(off)), off.shape))
        alone = evaluation.network_accuracy
        self.status.setText(
            f"Test accuracy {percent(evaluation.accuracy)} on {int(conf.sum())} images "
            f"({errors} wrong), read as the window reads a drawing"
            + ("" if alone is None else f" (the network alone on each picture: {percent(alone)})")
            + f". Hardest digit: {worst} ({per[worst]:.1f} %). Most common "
            f"confusion: {true} read as {pred} ({int(off[true, pred])}×)."
        )
        self.evaluated.emit(evaluation)
        if self.selected_cell is not None:
            self.select_cell(*self.selected_cell)
        elif off.max() > 0:
            self.select_cell(true, pred)

    def cell_indices(self, true: int, pred: int) -> np.ndarray:
        if self.evaluation is None:
            return np.zeros(0, int)
        return np.flatnonzero((self.labels == true) & (self.evaluation.predictions == pred))

    def select_cell(self, true: int, pred: int) -> None:
        """Fill the gallery with the test images of digit `true` that were read as `pred`."""
        self.selected_cell = (true, pred)
        self.marker.setRect(pred, true, 1, 1)
        self.marker.setVisible(True)
        self.gallery.clear()
        if self.evaluation is None or self.images is None:
            return
        idx = self.cell_indices(true, pred)
        what = "correctly read" if true == pred else f"read as {pred}"
        shown = idx[:GALLERY_LIMIT]
        more = f" (first {len(shown)} shown)" if len(idx) > len(shown) else ""
        self.gallery_label.setText(
            f"{len(idx)} test image{'s' if len(idx) != 1 else ''} of {true} {what}{more}. "
            "Click one to load it into the canvas."
        )
        probs = self.evaluation.probabilities
        self.gallery.setUpdatesEnabled(False)
        for i in shown:
            item = QListWidgetItem(
                thumbnail_icon(self.images[i], 2), f"{int(pred)} · {100 * probs[i, pred]:.0f}%"
            )
            item.setData(Qt.ItemDataRole.UserRole, int(i))
            item.setToolTip(f"test image #{int(i)}: true {true}, predicted {pred}")
            self.gallery.addItem(item)
        self.gallery.setUpdatesEnabled(True)

    def _gallery_clicked(self, item: QListWidgetItem) -> None:
        self.open_test_image(int(item.data(Qt.ItemDataRole.UserRole)))

    def open_test_image(self, index: int) -> None:
        if self.images is None or self.evaluation is None or self.labels is None:
            return
        img = self.images[index].astype(np.float32) / 255.0
        pred = int(self.evaluation.predictions[index])
        conf = 100 * float(self.evaluation.probabilities[index, pred])
        caption = f"MNIST test #{index}: a {int(self.labels[index])}, read as {pred} ({conf:.0f} %)"
        self.image_chosen.emit(img, caption)
