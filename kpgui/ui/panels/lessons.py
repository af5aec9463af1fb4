"""The Lessons tab: a lesson's steps, the chosen step's text and its "try this" task.

It renders a `LessonView` (kpgui.core.lessons.progress) handed to `show` and only emits what
the person asks for: another lesson, another step, arrange the window again, the next step,
open a lesson file. Arranging the window and watching for the task is the controller's
(kpgui.ui.controllers.lessons).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kpgui.core.lessons.progress import LessonView

DONE_MARK = "✓ "


class LessonsPanel(QWidget):
    """Intents: `lesson_chosen(index)`, `step_chosen(index)`, `apply_requested()`,
    `next_requested()`, `open_requested()`."""

    lesson_chosen = Signal(int)
    step_chosen = Signal(int)
    apply_requested = Signal()
    next_requested = Signal()
    open_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view: LessonView | None = None
        self.lesson_combo = QComboBox()
        self.lesson_combo.setToolTip("The lesson to follow (File → Open lesson… adds your own)")
        self.lesson_combo.activated.connect(self.lesson_chosen.emit)
        self.open_button = QPushButton("Open lesson file…")
        self.open_button.setToolTip("Follow a lesson a teacher wrote (a .json lesson file)")
        self.open_button.clicked.connect(self.open_requested.emit)
        self.steps = QListWidget()
        self.steps.setMaximumHeight(170)
        self.steps.itemClicked.connect(lambda item: self.step_chosen.emit(self.steps.row(item)))
        self.title = QLabel()
        self.title.setObjectName("lesson-step-title")
        self.title.setStyleSheet("font-weight: bold; font-size: 120%;")
        self.title.setWordWrap(True)
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.task = QLabel()
        self.task.setTextFormat(Qt.TextFormat.RichText)
        self.task.setWordWrap(True)
        self.task_status = QLabel()
        self.task_status.setWordWrap(True)
        task_box = QFrame()
        task_box.setFrameShape(QFrame.Shape.StyledPanel)
        task_layout = QVBoxLayout(task_box)
        task_layout.addWidget(self.task)
        task_layout.addWidget(self.task_status)
        self.task_box = task_box
        self.apply_button = QPushButton("Arrange the window again")
        self.apply_button.setToolTip("Open this step's tab, fill the form and point at its controls")
        self.apply_button.clicked.connect(self.apply_requested.emit)
        self.next_button = QPushButton("Next step →")
        self.next_button.clicked.connect(self.next_requested.emit)

        top = QHBoxLayout()
        top.addWidget(self.lesson_combo, 1)
        top.addWidget(self.open_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.steps)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        layout.addWidget(task_box)
        layout.addLayout(buttons)

    def show_view(self, view: LessonView) -> None:
        """Render the lessons, the chosen step and whether its task is done."""
        self.view = view
        lesson = view.current
        self.lesson_combo.blockSignals(True)
        self.lesson_combo.clear()
        for item in view.lessons:
            self.lesson_combo.addItem(item.title)
        self.lesson_combo.setCurrentIndex(view.lesson)
        self.lesson_combo.blockSignals(False)
        self.steps.clear()
        for i, step in enumerate(lesson.steps):
            mark = DONE_MARK if i in view.done else "   "
            self.steps.addItem(QListWidgetItem(f"{mark}{i + 1}. {step.title}"))
        self.steps.setCurrentRow(view.step)
        step = lesson.steps[view.step]
        self.title.setText(f"Step {view.step + 1} of {len(lesson.steps)}: {step.title}")
        self.text.setText(step.text)
        task = step.task
        self.task_box.setVisible(task is not None)
        if task is not None:
            self.task.setText(f"<b>Try this:</b> {task.text}")
            if view.task_done:
                self.task_status.setText(
                    "Done ✓ — "
                    + (
                        "on to the next step when you are ready."
                        if view.has_next
                        else "that was the last step."
                    )
                )
                self.task_status.setStyleSheet("color: #2e7d32; font-weight: bold;")
            else:
                self.task_status.setText(f"kpgui notices when {task.needs}.")
                self.task_status.setStyleSheet("")
        self.next_button.setEnabled(view.has_next)
        self.next_button.setDefault(view.task_done and view.has_next)
