"""The One weight tab: the primer's smallest network, learned by hand.

One input, one weight, one goal: Step runs one pass of the loop (prediction, error, derivative,
update), Play steps on a timer, Reset starts again from the values set. The plot is the error
against the weight — a parabola with its bottom at goal / input — with the weight's path going
down it (or climbing out of it); the table is every iteration to full precision, the same
numbers a plain Python run of the loop prints (kpgui.core.lessons.one_weight computes them);
the line below says what happens and why (|1 − alpha·input²|).

The panel is self-contained: its state is a core `Stepper`, nothing else in the window changes.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kpgui.core.lessons import one_weight as ow
from kpgui.ui import theme
from kpgui.ui.charts import pyqtgraph, style_plot

COLUMNS = ("iteration", "prediction", "error", "derivative", "weight")
PLAY_INTERVAL_MS = 400

INTRO = (
    "The primer's smallest network: <b>prediction = input × weight</b>, <b>error = "
    "(prediction − goal)²</b>, <b>derivative = input × (prediction − goal)</b>, and the "
    "weight moves against the derivative: <b>weight −= alpha × derivative</b>. Step through "
    "it, then try alpha = 1 or input = 0."
)


class OneWeightPanel(QWidget):
    """Controls, the parabola with the weight's path, the table and the verdict.
    `stepped(Row)` is emitted after every step (a lesson can listen for it)."""

    stepped = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.stepper = ow.Stepper()
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)

        self.spins: dict[str, QDoubleSpinBox] = {}
        form = QFormLayout()
        for name, label, low, high, tip in (
            ("weight", "Weight", -100.0, 100.0, "the weight the loop starts from"),
            ("input", "Input", -100.0, 100.0, "the input: 0 means no correlation"),
            ("goal", "Goal", -100.0, 100.0, "the prediction the loop wants"),
            ("alpha", "Alpha", 0.0001, 100.0, "the learning rate: how far each step goes"),
        ):
            spin = QDoubleSpinBox()
            spin.setDecimals(4)
            spin.setRange(low, high)
            spin.setSingleStep(0.1 if name != "alpha" else 0.05)
            spin.setValue(ow.START[name])
            spin.setToolTip(tip)
            spin.valueChanged.connect(lambda _v: self.reset())
            self.spins[name] = spin
            form.addRow(label, spin)
        self.iterations = QSpinBox()
        self.iterations.setRange(1, ow.MAX_ITERATIONS)
        self.iterations.setValue(int(ow.START["iterations"]))
        self.iterations.setToolTip("Play stops after this many iterations")
        form.addRow("Iterations", self.iterations)

        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("One pass of the loop")
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Step on its own, until the iterations are done")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Start again from the values above")
        self.step_button.clicked.connect(lambda: self.step())
        self.play_button.toggled.connect(self.play)
        self.reset_button.clicked.connect(lambda: self.reset())
        buttons = QHBoxLayout()
        for b in (self.step_button, self.play_button, self.reset_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        pg = pyqtgraph()
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(180)
        self.plot.setLabel("bottom", "weight")
        self.plot.setLabel("left", "error")
        for axis in ("bottom", "left"):  # "weight (x0.001)" would hide the numbers learners read
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        style_plot(self.plot)
        colour = theme.RUN_COLOURS[0]
        self.parabola = self.plot.plot([], [], pen=pg.mkPen(theme.chart_foreground(), width=1))
        self.path = self.plot.plot(
            [],
            [],
            pen=pg.mkPen(colour, width=2),
            symbol="o",
            symbolSize=7,
            symbolBrush=colour,
            symbolPen=colour,
        )
        self.now = self.plot.plot(
            [], [], pen=None, symbol="o", symbolSize=11, symbolBrush=None, symbolPen=pg.mkPen(colour, width=2)
        )

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()  # full precision: columns as wide as their numbers
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setMinimumHeight(140)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.timer = QTimer(self)
        self.timer.setInterval(PLAY_INTERVAL_MS)
        self.timer.timeout.connect(self._tick)

        top = QHBoxLayout()
        top.addLayout(form)
        top.addWidget(self.plot, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(top, 2)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.verdict)
        self.reset()

    # -- the loop -------------------------------------------------------------------------------

    def settings(self) -> ow.Settings:
        """The starting values the controls hold."""
        values = {name: float(spin.value()) for name, spin in self.spins.items()}
        return ow.Settings(iterations=int(self.iterations.value()), **values)

    def reset(self) -> None:
        """Back to iteration 0 with the values in the controls."""
        self.play_button.setChecked(False)
        self.stepper = ow.Stepper(self.settings())
        self.table.setRowCount(0)
        self._redraw()

    def step(self) -> ow.Row | None:
        """One iteration: a row in the table, a point on the path."""
        row = self.stepper.step()
        if row is not None:
            self._add_row(row)
            self.stepped.emit(row)
        self._redraw()
        return row

    def play(self, on: bool) -> None:
        """Step every PLAY_INTERVAL_MS until the iterations are done (or Pause)."""
        self.play_button.setText("Pause" if on else "Play")
        if on and not self._done():
            self.timer.start()
        else:
            self.timer.stop()
            if on:  # nothing left to play: the button goes back up
                self.play_button.setChecked(False)

    def _done(self) -> bool:
        return self.stepper.overflowed or len(self.stepper.rows) >= self.iterations.value()

    def _tick(self) -> None:
        self.step()
        if self._done():
            self.play_button.setChecked(False)

    # -- drawing ----------------------------------------------------------------------------------

    def _add_row(self, row: ow.Row) -> None:
        i = self.table.rowCount()
        self.table.insertRow(i)
        for col, value in enumerate((row.iteration, row.prediction, row.error, row.derivative, row.weight)):
            item = QTableWidgetItem(str(value) if col == 0 else repr(value))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(i, col, item)
        self.table.scrollToBottom()

    def _redraw(self) -> None:
        s, rows = self.stepper.settings, self.stepper.rows
        path_w = [r.weight_before for r in rows]
        path_e = [r.error for r in rows]
        now_e = self.stepper.error_now()
        if now_e is not None and not math.isfinite(now_e):
            now_e = None
        ws = [*path_w, self.stepper.weight] if now_e is not None else path_w or [s.weight]
        best = s.goal / s.input if s.input else s.weight
        finite = [w for w in (*ws, best) if math.isfinite(w)]
        lo, hi = min(finite), max(finite)
        margin = max((hi - lo) * 0.15, 0.25)
        grid = np.linspace(lo - margin, hi + margin, 201)
        with np.errstate(over="ignore", invalid="ignore"):
            self.parabola.setData(grid, (s.input * grid - s.goal) ** 2)
        self.path.setData(
            path_w + ([self.stepper.weight] if now_e is not None and rows else []),
            path_e + ([now_e] if now_e is not None and rows else []),
        )
        if now_e is not None:
            self.now.setData([self.stepper.weight], [now_e])
        else:
            self.now.setData([], [])
        self.step_button.setEnabled(not self.stepper.overflowed)
        self.verdict.setText(self.stepper.verdict())
