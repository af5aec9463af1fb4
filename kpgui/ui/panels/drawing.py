"""The drawing side of the window: pen and edit tools, the canvas, and right under it the
"This is a …" row that keeps the drawing as a sample of the person's handwriting."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QToolButton, QVBoxLayout, QWidget

from kpgui.ui.panels.canvas import DrawingCanvas

DEFAULT_PEN = 18
# No bigger than useful (issue 24): wide enough for a number of several digits, not so tall
# that the arm travels for nothing; a bigger window gives its room to the tabs instead.
MAX_CANVAS = (720, 520)


class SampleBar(QWidget):
    """“This is a …” and ten digit buttons. Intent: `label_chosen(digit)`."""

    label_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        label = QLabel("This is a …")
        label.setToolTip("Keep the drawing as a sample of your handwriting (or press its key)")
        layout.addWidget(label)
        self.buttons: list[QToolButton] = []
        for d in range(10):
            b = QToolButton()
            b.setText(str(d))
            b.setToolTip(f"Save this drawing as a {d} (key {d})")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _c=False, d=d: self.label_chosen.emit(d))
            layout.addWidget(b)
            self.buttons.append(b)
        layout.addStretch(1)


class DrawingPanel(QWidget):
    """Tools row, canvas (it grows with the window), sample row. Intents: `undo_requested`,
    `clear_requested`, `import_requested`; the pen width goes straight to the canvas."""

    undo_requested = Signal()
    clear_requested = Signal()
    import_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = DrawingCanvas(pen_width=DEFAULT_PEN)
        self.pen_spin = QSpinBox()
        self.pen_spin.setRange(2, 60)
        self.pen_spin.setSuffix(" px")
        self.pen_spin.setValue(DEFAULT_PEN)
        self.pen_spin.setToolTip("Pen width on the canvas")
        self.pen_spin.valueChanged.connect(self.canvas.set_pen_width)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Remove the last stroke (Ctrl+Z)")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Start again with an empty canvas (Esc)")
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("Read a picture of a digit (Ctrl+I), or drop it on the canvas")
        for button in (self.undo_button, self.clear_button, self.import_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.undo_button.clicked.connect(self.undo_requested.emit)
        self.clear_button.clicked.connect(self.clear_requested.emit)
        self.import_button.clicked.connect(self.import_requested.emit)
        tools = QHBoxLayout()
        tools.addWidget(QLabel("Pen"))
        tools.addWidget(self.pen_spin)
        tools.addStretch(1)
        tools.addWidget(self.undo_button)
        tools.addWidget(self.clear_button)
        tools.addWidget(self.import_button)
        self.sample_bar = SampleBar()
        self.canvas.setMaximumSize(*MAX_CANVAS)
        self.setMaximumWidth(MAX_CANVAS[0] + 12)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(tools)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.sample_bar)
        layout.addStretch(0)  # room beyond the canvas's largest size stays below the samples row
