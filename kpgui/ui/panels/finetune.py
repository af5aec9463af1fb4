"""Fine-tune on my digits: the current model trained further on MNIST plus the person's samples,
in the training process, with the same plots, progress and Stop as any run.

The work is kpgui.core.training.personal.finetune (through the training controller); this panel only
holds its settings, says how many samples there are and how many will be held out, and shows
the honest before/after when the run ends ("your digits: 82 % → 97 % (40 held out)", or that
too few were held out to judge).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout

from kpgui.core.state import AppState
from kpgui.core.training.personal import MIN_HELD_OUT, MIN_SAMPLES, held_out_split


class FineTunePanel(QGroupBox):
    """Intent: `finetune_requested(epochs, repeat or None, mnist images or 0 = all)`."""

    finetune_requested = Signal(int, object, int)

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__("Fine-tune on my digits", parent)
        self.state = state
        self.count = 0
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 50)
        self.epochs.setValue(2)
        self.repeat = QSpinBox()
        self.repeat.setRange(0, 100)
        self.repeat.setSpecialValueText("auto")
        self.repeat.setToolTip(
            "How often each of your samples is repeated per epoch, so a few "
            "hundred drawings matter against 60 000 MNIST images "
            "(auto: about 8 % of an epoch)"
        )
        self.mnist_samples = QSpinBox()
        self.mnist_samples.setRange(0, 60000)
        self.mnist_samples.setSingleStep(5000)
        self.mnist_samples.setSpecialValueText("all")
        self.mnist_samples.setToolTip("MNIST training images mixed in (all = 60 000)")
        form = QFormLayout()
        form.addRow("Epochs", self.epochs)
        form.addRow("Repeat my samples", self.repeat)
        form.addRow("MNIST images", self.mnist_samples)
        self.button = QPushButton("Fine-tune on my digits")
        self.button.clicked.connect(self._request)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        bold = self.result_label.font()  # a font, not a style sheet: it follows the theme
        bold.setBold(True)
        self.result_label.setFont(bold)
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.result_label)
        state.events.sample_index.connect(lambda _index: self.refresh())
        state.events.training.connect(lambda _t: self._update_button())
        state.events.run_ended.connect(self._show_outcome)
        self.refresh()

    def refresh(self) -> None:
        """The counts of the samples the sample controller last read (state.sample_index)."""
        index = self.state.sample_index
        if index.error:
            self.info.setText(f"Your samples cannot be read: {index.error}")
            self.count = 0
            self._update_button()
            return
        counts = index.counts
        self.count = sum(counts.values())
        labels = np.repeat(np.arange(10), [counts.get(d, 0) for d in range(10)])
        _train, held = held_out_split(labels)
        judge = (
            ""
            if len(held) >= MIN_HELD_OUT
            else f" That is too few to judge the result by ({MIN_HELD_OUT} needed): save more "
            "samples for an honest before/after."
        )
        self.info.setText(
            f"Trains the current model on MNIST plus your {self.count} sample"
            f"{'s' if self.count != 1 else ''} (repeated and augmented so they count). "
            f"{len(held)} of them (chosen per digit) are held out, never trained on, and "
            f"measured before and after.{judge}"
            + ("" if self.count >= MIN_SAMPLES else f" Save at least {MIN_SAMPLES} samples first.")
        )
        self._update_button()

    def _update_button(self) -> None:
        self.button.setEnabled(self.count >= MIN_SAMPLES and not self.state.training.busy)

    def _request(self) -> None:
        repeat = int(self.repeat.value()) or None
        self.result_label.setText("Fine-tuning… (progress and Stop in the Training tab)")
        self.finetune_requested.emit(int(self.epochs.value()), repeat, int(self.mnist_samples.value()))

    def _show_outcome(self, outcome) -> None:
        if outcome.kind != "finetune":
            return
        if outcome.status == "diverged":
            self.result_label.setText(f"The fine-tune {outcome.summary}.")
            return
        summary = (outcome.personal or {}).get("summary", outcome.summary)
        extra = f" (training {outcome.status})" if outcome.status != "finished" else ""
        self.result_label.setText(f"{summary}{extra}")
