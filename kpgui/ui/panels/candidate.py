"""A finished run's model beside the current one, to keep or discard.

Shown above the canvas while a candidate waits (state.candidate): MNIST test accuracy of both,
both on the person's held-out digits (with how many, or that there are too few to judge), and
what each reads in the drawing on the canvas, live (state.reading and state.candidate_reading).
"Keep" is the suggested button only when the new model is not worse; the shipped model is always
one click away (Model → Reset).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kpgui.core.display.numbers import MISSING, percent
from kpgui.core.display.words import not_sure
from kpgui.core.reading.confidence import Reading
from kpgui.core.state import AppState
from kpgui.core.training.personal import MIN_HELD_OUT

LOSES_NOT_SURE = 0.25  # a candidate this much less often "not sure" on non-digits is worth a warning


def _reading_text(reading: Reading | None) -> str:
    if reading is None:
        return MISSING
    return str(reading.digit) if reading.sure else not_sure(reading.digit, reading.runner_up)


class CandidateBar(QFrame):
    keep_requested = Signal()
    discard_requested = Signal()

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.setObjectName("candidate-bar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.numbers = QLabel()
        self.numbers.setWordWrap(True)
        self.numbers.setTextFormat(Qt.TextFormat.RichText)
        self.keep_button = QPushButton("Keep new model")
        self.keep_button.setToolTip("Read your drawings with the new model from now on")
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Keep the current model; the run stays in History")
        self.keep_button.clicked.connect(self.keep_requested.emit)
        self.discard_button.clicked.connect(self.discard_requested.emit)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title)
        text.addWidget(self.numbers)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addLayout(text, 1)
        row.addWidget(self.keep_button)
        row.addWidget(self.discard_button)
        # Nothing moves under the pen (issue 24): its height never changes with its text (a
        # title line and up to three of numbers), and CandidateSlot keeps its place.
        line = self.fontMetrics().lineSpacing()
        self.setFixedHeight(4 * line + 2 + 8 + 2 * self.frameWidth() + 4)
        self.numbers.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        state.events.candidate.connect(self._show)
        state.events.candidate_reading.connect(lambda _r: self._show(state.candidate))
        self._show(state.candidate)

    def _show(self, cand) -> None:
        self.setVisible(cand is not None)
        if cand is None:
            return
        o = cand.outcome
        what = "fine-tuned model" if o.kind == "finetune" else "model"
        run = f"run {o.id}" if o.id is not None else "the last run"
        self.title.setText(f"<b>New {what} from {run}</b>: use it instead of the current one?")
        self.title.setToolTip(o.summary)
        c = cand.comparison
        if c is None:
            self.numbers.setText("Measuring it beside the current model…")
            self.keep_button.setDefault(False)
            self.discard_button.setDefault(False)
            return
        parts = [f"MNIST test: <b>{percent(c.mnist[1], 1)}</b> (current {percent(c.mnist[0], 1)})"]
        if c.personal_count == 0:
            parts.append("your digits: none saved yet")
        elif c.personal_enough:
            parts.append(
                f"your {c.personal_count} held-out digits: <b>{percent(c.personal[1], 1)}</b> "
                f"(current {percent(c.personal[0], 1)})"
            )
        else:
            parts.append(f"your digits: too few to judge ({c.personal_count}; {MIN_HELD_OUT} needed)")
        cur_ns, new_ns = c.not_sure
        if new_ns is not None:
            text = f"“not sure” on non-digits: <b>{percent(new_ns, 1)}</b> (current {percent(cur_ns, 1)})"
            if cur_ns is not None and cur_ns - new_ns >= LOSES_NOT_SURE:
                text += " — <b>keeping it loses</b> most of it"
                self.numbers.setToolTip(
                    "How often each model answers “not sure” to the same 200 drawings that are "
                    "not digits (letters, symbols, scribbles). Train with Non-digits in the "
                    "form to keep that ability."
                )
            parts.append(text)
        image = self.state.view_image
        if image is not None and image.any():  # read once per change by the reading controller
            new = self.state.candidate_reading
            parts.append(
                f"your drawing: <b>{_reading_text(new)}</b> (current {_reading_text(self.state.reading)})"
            )
        self.numbers.setText(" · ".join(parts))
        keep = c.candidate_not_worse
        self.keep_button.setDefault(keep)
        self.discard_button.setDefault(not keep)
        self.keep_button.setText("Keep new model" if keep else "Keep anyway")


class CandidateSlot(QWidget):
    """The candidate bar's place above the canvas, kept when there is no candidate (a quiet
    hint says what will appear there), so the canvas never moves when one arrives."""

    HINT = (
        "Train a network (Training tab, F5) or fine-tune on your digits: the new model is "
        "offered here, beside the current one, to keep or discard."
    )

    def __init__(self, bar: CandidateBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = bar
        self.hint = QLabel(self.HINT)
        self.hint.setWordWrap(True)
        self.hint.setEnabled(False)  # the palette's disabled text: faint on light and dark
        self.hint.setContentsMargins(10, 0, 10, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(bar)
        layout.addWidget(self.hint)
        self.setFixedHeight(bar.minimumHeight())
        bar.state.events.candidate.connect(lambda cand: self.hint.setVisible(cand is None))
        self.hint.setVisible(bar.state.candidate is None)
