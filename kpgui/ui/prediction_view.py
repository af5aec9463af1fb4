"""What the network sees and what it thinks: the 28x28 input, ten bars, the answer in big type.

A passive view: the window hands it an image and probabilities (`show_result`) or nothing
(`show_blank`). Public hook for live saliency: `set_overlay(heat)`.

The bar chart is pyqtgraph, whose import alone takes ~0.45 s (its Qt shim makes PySide6 build
hundreds of enum classes). So the view shows at once with the preview and the answer in big
type, and builds the chart on the event loop's next turn after it is first shown (or when
`build_chart()` is called); bars set before that are drawn as soon as it exists.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

BAR_COLOR = QColor(150, 170, 200)
TOP_COLOR = QColor(230, 120, 30)


def gray_qimage(img28: np.ndarray) -> QImage:
    """A grayscale QImage (owning its pixels) from a float image in [0, 1], ink white on black."""
    a = np.ascontiguousarray(np.clip(np.nan_to_num(img28), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    h, w = a.shape
    return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def heat_qimage(heat: np.ndarray, opacity: float = 0.65) -> QImage:
    """A red-yellow, semi-transparent RGBA QImage of a non-negative heat map (normalised to max)."""
    h = np.nan_to_num(np.asarray(heat, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    h = np.clip(h, 0.0, None)
    peak = float(h.max()) if h.size else 0.0
    h = h / peak if peak > 0 else np.zeros_like(h)
    rgba = np.empty(h.shape + (4,), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 1] = np.clip(h * 2.0 - 0.5, 0.0, 1.0) * 230
    rgba[..., 2] = 0
    rgba[..., 3] = np.clip(h * opacity * 255.0, 0, 255)
    rgba = np.ascontiguousarray(rgba)
    rows, cols = h.shape
    return QImage(rgba.data, cols, rows, cols * 4, QImage.Format.Format_RGBA8888).copy()


class PixelPreview(QWidget):
    """The 28x28 network input, enlarged with crisp (nearest-neighbour) pixels."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = gray_qimage(np.zeros((28, 28), np.float32))
        self._overlay: QImage | None = None
        self.setMinimumSize(140, 140)
        self.setMaximumSize(252, 252)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setToolTip("The 28x28 image the network actually sees, made from your drawing "
                        "the way MNIST digits were made.")

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return width

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(224, 224)

    def set_image(self, img28: np.ndarray) -> None:
        self._image = gray_qimage(img28)
        self.update()

    def set_overlay(self, heat: np.ndarray | None) -> None:
        self._overlay = None if heat is None else heat_qimage(heat)
        self.update()

    @property
    def has_overlay(self) -> bool:
        return self._overlay is not None

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        side = min(self.width(), self.height())
        side -= side % 28 if side >= 56 else 0  # whole screen pixels per image pixel: crisp
        target = QRect((self.width() - side) // 2, (self.height() - side) // 2, side, side)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.drawImage(target, self._image)
        if self._overlay is not None:
            p.drawImage(target, self._overlay)
        p.setPen(QColor(120, 120, 120))
        p.drawRect(target.adjusted(0, 0, -1, -1))
        p.end()


class PredictionView(QWidget):
    """Preview + probability bars + predicted digit and confidence.

    `probabilities` holds what the bars show (zeros when blank); `predicted` is the top class
    or None.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.probabilities = np.zeros(10, np.float32)
        self.image: np.ndarray | None = None
        self.predicted: int | None = None

        self.preview = PixelPreview()
        self.caption = QLabel("")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setStyleSheet("color: #666;")
        self.caption.setWordWrap(True)

        self.digit_label = QLabel("0")
        font = QFont(self.font())
        font.setPointSize(56)
        font.setBold(True)
        self.digit_label.setFont(font)
        self.digit_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit_label.setMinimumHeight(self.digit_label.sizeHint().height())  # no jumps
        self.digit_label.setToolTip("The digit the network thinks you drew")
        self.confidence_label = QLabel("Draw a digit")
        cfont = QFont(self.font())
        cfont.setPointSize(15)
        self.confidence_label.setFont(cfont)
        self.confidence_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.confidence_label.setToolTip("How sure the network is (its softmax probability)")

        self.plot = None  # the pyqtgraph chart, built by build_chart()
        self.bars = None
        self._heights = np.zeros(10, np.float32)
        self._top: int | None = None
        self._chart_slot = QWidget()
        self._chart_slot.setMinimumSize(240, 170)
        self._chart_slot.setToolTip("The network's probability for each digit")

        answer = QVBoxLayout()
        answer.setSpacing(0)
        answer.addWidget(self.digit_label)
        answer.addWidget(self.confidence_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption)
        layout.addLayout(answer)
        layout.addWidget(self._chart_slot, 1)
        self._layout = layout
        self.show_blank()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self.plot is None:
            from PySide6.QtCore import QTimer

            QTimer.singleShot(0, self.build_chart)

    def build_chart(self) -> None:
        """Create the probability bar chart (once) in place of its placeholder."""
        if self.plot is not None:
            return
        import pyqtgraph as pg

        from kpgui.ui.plot_style import configure_pyqtgraph

        configure_pyqtgraph()
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumSize(240, 170)
        self.plot.setToolTip("The network's probability for each digit")
        item = self.plot.getPlotItem()
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.setMenuEnabled(False)
        item.setXRange(-0.6, 9.6, padding=0)
        item.setYRange(-0.01, 1.04, padding=0)
        item.setLabel("left", "probability")
        item.setLabel("bottom", "digit")
        item.showGrid(y=True, alpha=0.25)
        item.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)]])
        item.getAxis("left").setTicks([[(v, f"{v:g}") for v in (0, 0.25, 0.5, 0.75, 1.0)]])
        self.bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7,
                                    brushes=[BAR_COLOR] * 10, pen=pg.mkPen(None))
        item.addItem(self.bars)
        self._layout.replaceWidget(self._chart_slot, self.plot)
        self._chart_slot.deleteLater()
        self._set_bars(self._heights, self._top)

    def _set_bars(self, heights: np.ndarray, top: int | None) -> None:
        """Bar heights with the top class highlighted; kept until the chart exists."""
        self._heights, self._top = heights, top
        if self.bars is not None:
            brushes = [TOP_COLOR if i == top else BAR_COLOR for i in range(10)]
            self.bars.setOpts(height=heights, brushes=brushes)

    def show_blank(self, hint: str = "Draw a digit") -> None:
        """Nothing to read: empty bars and a hint."""
        self.image = None
        self.predicted = None
        self.probabilities = np.zeros(10, np.float32)
        self.preview.set_image(np.zeros((28, 28), np.float32))
        self._set_bars(self.probabilities, None)
        self.digit_label.setText("")
        self.confidence_label.setText(hint)

    def show_result(self, img28: np.ndarray, probs: np.ndarray | None) -> None:
        """Show the network input and its probabilities (None: no model, input only)."""
        self.image = img28
        self.preview.set_image(img28)
        if probs is None:
            self.show_no_model()
            return
        p = np.asarray(probs, np.float32).reshape(10)
        top = int(np.argmax(p))
        self.probabilities = p
        self.predicted = top
        self._set_bars(p, top)
        self.digit_label.setText(str(top))
        self.confidence_label.setText(f"{100.0 * float(p[top]):.1f} % sure")

    def show_no_model(self) -> None:
        self.predicted = None
        self.probabilities = np.zeros(10, np.float32)
        self._set_bars(self.probabilities, None)
        self.digit_label.setText("?")
        self.confidence_label.setText("No model loaded (Model → Reset to default)")

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)

    def set_overlay(self, heat: np.ndarray | None) -> None:
        """Draw a 28x28 heat map (values >= 0, normalised to its max) over the enlarged preview,
        semi-transparent, e.g. for live saliency; None removes it."""
        if heat is not None:
            heat = np.asarray(heat, np.float32)
            if heat.shape != (28, 28):
                heat = heat.reshape(28, 28)
        self.preview.set_overlay(heat)
