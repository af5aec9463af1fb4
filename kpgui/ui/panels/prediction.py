"""What the network sees and what it thinks: the 28x28 input, the answer, ten bars, saliency.

It observes the state (`drawing` for the preview and caption, `reading` for the answer and
bars, `model` for saliency) and changes nothing. The answer is calibrated (kpgui.core.reading.confidence):
a confident reading shows the digit in big type with "98.3 % sure"; an unsure one shows
"Not sure — 1 or 7?" instead of one big confident digit, while the bars still show every
probability.

The bar chart is pyqtgraph, whose import alone takes ~0.4 s, so the composition root builds it
(`build_chart()`) in the second start-up step, after the window's first paint; the rest shows at
once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from kpgui.core.display.numbers import percent
from kpgui.core.display.words import not_sure
from kpgui.core.state import AppState
from kpgui.ui import theme
from kpgui.ui.images import heat_qimage, ink_qimage
from kpgui.ui.panels.saliency import SaliencyBar

UNSURE_COLOUR = "#b06000"
TIE = 0.8  # the best two digits hold this much of the belief: a tie, not "maybe not a digit"


class PixelPreview(QWidget):
    """The 28x28 network input, enlarged with crisp (nearest-neighbour) pixels."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._array = np.zeros((28, 28), np.float32)
        self._image = ink_qimage(self._array)
        self._overlay: QImage | None = None
        self.setMinimumSize(112, 112)
        self.setMaximumSize(252, 252)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setToolTip(
            "The 28x28 image the network actually sees, made from your drawing "
            "the way MNIST digits were made (20x20 box, centre of mass in the middle)."
        )

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return width

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(196, 196)

    def set_image(self, img28: np.ndarray) -> None:
        self._array = np.asarray(img28, np.float32).reshape(28, 28)
        self._image = ink_qimage(self._array)
        self.update()

    def set_overlay(self, heat: np.ndarray | None) -> None:
        self._overlay = None if heat is None else heat_qimage(heat)
        self.update()

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self.set_image(self._array)
        super().changeEvent(event)

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
        p.setPen(theme.faint())
        p.drawRect(target.adjusted(0, 0, -1, -1))
        p.end()


class PredictionPanel(QWidget):
    """Preview, answer, probability bars and the saliency switch; observes `state`.

    `probabilities` is what the bars show (zeros when blank); `predicted` the best guess or
    None; `digit_label` shows the big line ("7" or "Not sure — 1 or 7?")."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.probabilities = np.zeros(10, np.float32)
        self.predicted: int | None = None
        self.sure = False

        self.preview = PixelPreview()
        self.caption = QLabel("")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        self.saliency = SaliencyBar(state, self.preview.set_overlay)

        self.digit_label = QLabel("")
        self._big_font = QFont(self.font())
        self._big_font.setPointSize(52)
        self._big_font.setBold(True)
        self._unsure_font = QFont(self.font())
        self._unsure_font.setPointSize(20)
        self._unsure_font.setBold(True)
        self.digit_label.setFont(self._big_font)
        self.digit_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit_label.setMinimumHeight(self.digit_label.sizeHint().height())  # no jumps
        self.digit_label.setWordWrap(True)
        self.digit_label.setTextFormat(Qt.TextFormat.RichText)
        self.digit_label.linkActivated.connect(self._select)
        self.digit_label.linkHovered.connect(self._select)
        self.digit_label.setToolTip(
            "What the network reads (or its two best guesses when it is "
            "not sure). For a number, click or point at a digit to see it"
        )
        self.confidence_label = QLabel("Draw a digit")
        cfont = QFont(self.font())
        cfont.setPointSize(14)
        self.confidence_label.setFont(cfont)
        self.confidence_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.confidence_label.setWordWrap(True)
        self.confidence_label.setToolTip(
            "How sure the network is: its probability, calibrated so that '90 % sure' is right "
            "about 9 times in 10. Below the model's threshold it says 'not sure'."
        )

        self.plot: Any = None  # the pyqtgraph chart (a PlotWidget), built by build_chart()
        self.bars: Any = None
        self._chart_slot = QWidget()
        self._chart_slot.setMinimumSize(200, 150)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption)
        layout.addWidget(self.saliency, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.digit_label)
        layout.addWidget(self.confidence_label)
        layout.addWidget(self._chart_slot, 1)
        self._layout = layout

        state.events.drawing.connect(self._show_drawing)
        state.events.reading.connect(self._show_reading)
        self._show_drawing(state.drawing)
        self._show_reading(state.reading)

    # -- the chart ---------------------------------------------------------------------------------

    def build_chart(self) -> None:
        """Create the probability bar chart (once) in place of its placeholder."""
        if self.plot is not None:
            return
        from kpgui.ui.charts import pyqtgraph

        pg = pyqtgraph()
        self.plot = pg.PlotWidget()
        self.plot.setMinimumSize(200, 150)
        self.plot.setToolTip("The network's (calibrated) probability for each digit")
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
        self.bars = pg.BarGraphItem(
            x=np.arange(10),
            height=np.zeros(10),
            width=0.7,
            brushes=[theme.bar_colour()] * 10,
            pen=pg.mkPen(None),
        )
        item.addItem(self.bars)
        self._apply_chart_theme()
        self._layout.replaceWidget(self._chart_slot, self.plot)
        self._chart_slot.deleteLater()
        self._set_bars()

    def _apply_chart_theme(self) -> None:
        if self.plot is None:
            return
        from kpgui.ui.charts import style_plot

        style_plot(self.plot)
        self._set_bars()

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_chart_theme()
            self.caption.setStyleSheet(f"color: {theme.faint().name()};")
        super().changeEvent(event)

    def _set_bars(self) -> None:
        if self.bars is None:
            return
        top = self.predicted
        brushes = [QColor(theme.ACCENT) if i == top else theme.bar_colour() for i in range(10)]
        self.bars.setOpts(height=self.probabilities, brushes=brushes)

    # -- showing the state -------------------------------------------------------------------------

    def _show_drawing(self, drawing) -> None:
        self.caption.setText(drawing.caption)

    def _number_html(self, number) -> str:
        """The whole number, each digit a link (click or hover shows it); unsure digits '?'."""
        parts = []
        for i, r in enumerate(number.readings):
            text = str(r.digit) if r.sure else "?"
            colour = UNSURE_COLOUR if not r.sure else theme.ink().name()
            weight = "900" if i == self.state.selected else "400"
            line = "underline" if i == self.state.selected else "none"
            parts.append(
                f"<a href='{i}' style='color:{colour}; text-decoration:{line}; "
                f"font-weight:{weight}'>{text}</a>"
            )
        return "".join(parts)

    def _select(self, link: str) -> None:
        if link.isdigit():
            self.state.select(int(link))

    def _show_reading(self, reading) -> None:
        image = self.state.view_image
        self.preview.set_image(image if image is not None else np.zeros((28, 28), np.float32))
        drawing = self.state.drawing
        number = self.state.number
        if number is not None and reading is not None:
            self.probabilities = np.asarray(reading.probabilities, np.float32)
            self.predicted = reading.digit
            self.sure = number.sure
            self.digit_label.setFont(self._big_font if len(number.readings) <= 4 else self._unsure_font)
            self.digit_label.setStyleSheet("")
            self.digit_label.setText(self._number_html(number))
            i = self.state.selected
            what = (
                f"{reading.digit}, {percent(reading.confidence, 0)} sure"
                if reading.sure
                else not_sure(reading.digit, reading.runner_up)
            )
            self.confidence_label.setText(f"digit {i + 1} of {len(number.readings)}: {what}")
            self._set_bars()
            return
        if reading is None:
            self.probabilities = np.zeros(10, np.float32)
            self.predicted = None
            self.sure = False
            self.digit_label.setFont(self._big_font)
            if drawing.blank:
                self.digit_label.setText("")
                self.confidence_label.setText(
                    "Draw a digit" if drawing.image is None else "No digit found in this picture"
                )
            elif self.state.model is None:
                self.digit_label.setText("?")
                self.confidence_label.setText("No model loaded (Model → Reset to default)")
            else:
                self.digit_label.setText("?")
                self.confidence_label.setText(self.state.last_error or "No answer")
            self._set_bars()
            return
        self.probabilities = np.asarray(reading.probabilities, np.float32)
        self.predicted = reading.digit
        self.sure = reading.sure
        if reading.sure:
            self.digit_label.setFont(self._big_font)
            self.digit_label.setStyleSheet("")
            self.digit_label.setText(str(reading.digit))
            self.confidence_label.setText(f"{percent(reading.confidence, 1)} sure")
        else:
            self.digit_label.setFont(self._unsure_font)
            self.digit_label.setStyleSheet(f"color: {UNSURE_COLOUR};")
            self.digit_label.setText(not_sure(reading.digit, reading.runner_up))
            second = float(reading.probabilities[reading.runner_up])
            if reading.shaky and reading.as_drawn is not None:  # surely as drawn, not when moved
                self.confidence_label.setText(
                    f"best guess {reading.digit}: {percent(reading.as_drawn, 0)} as drawn, but moved a "
                    "pixel or turned a little it reads less surely: an unusual way to write it?"
                )
            elif reading.confidence + second >= TIE:  # two digits share the belief: say so
                self.confidence_label.setText(
                    f"{reading.digit} at {percent(reading.confidence, 0)}, {reading.runner_up} at "
                    f"{percent(second, 0)}: it could be either"
                )
            else:
                self.confidence_label.setText(
                    f"best guess {reading.digit} at {percent(reading.confidence, 0)}: "
                    "maybe not a digit, or an unusual one"
                )
        self._set_bars()
