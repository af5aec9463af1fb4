"""The training form, built from the one declaration of the options (kpgui.core.model.options), with
Start / Stop / Save, progress and the run's result.

Every field's widget, range, tooltip and error text come from its `Option`; the panel validates
with `ModelSpec.errors()` and shows each reason in red next to its field; Start is disabled
while anything is invalid or a run is going. It observes the state's `training` (running or
not, what it is doing), `batch` (progress, shown twice a second) and `run_ended` (the result),
and only emits what the person asks for.
"""

from __future__ import annotations

import math
import time
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kpgui.core.model.options import OPTIMIZER_NAMES, OPTIONS, Option
from kpgui.core.model.run import RunRecord
from kpgui.core.model.spec import ModelSpec
from kpgui.core.state import IDLE, STARTING, STOPPING, AppState

KEEP_HINT = " Keep or discard the new model above the canvas."
PROGRESS_S = 0.5  # each progress-bar repaint costs ~4 ms; twice a second is enough
GROUPS = (("network", "Network"), ("data", "Data"), ("training", "Training"))


def format_eta(seconds: float) -> str:
    """12 -> '0:12', 3725 -> '1:02:05'."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _widget(opt: Option) -> tuple[QWidget, Any]:
    """The input widget an option asks for, and its signal that the value changed."""
    if opt.kind is bool:
        box = QCheckBox("shift, rotate, scale, shear" if opt.name == "augment" else "")
        w: QWidget = box
        changed = box.toggled
    elif opt.kind is str:
        w = QComboBox()
        for choice in opt.choices:
            w.addItem(OPTIMIZER_NAMES.get(choice, choice), choice)
        changed = w.currentIndexChanged
    elif opt.kind is int:
        w = QSpinBox()
        changed = w.valueChanged
        w.setRange(int(opt.low or 0), int(opt.high or 10**9))
        w.setSingleStep(int(opt.step))
        if opt.zero:
            w.setSpecialValueText(opt.zero)
    elif opt.kind is float and opt.decimals <= 3:
        w = QDoubleSpinBox()
        changed = w.valueChanged
        w.setDecimals(opt.decimals)
        w.setSingleStep(opt.step)
        # The spin box allows the closed range; open ends are refused by validation, in words.
        w.setRange(float(opt.low or 0.0), float(opt.high if opt.high is not None else 1e9))
        if opt.zero:
            w.setSpecialValueText(opt.zero)
    else:  # hidden layers, learning rate: free text, parsed by the option
        w = QLineEdit()
        w.setPlaceholderText("e.g. 512, 512" if opt.kind is tuple else "e.g. 0.001 or 1e-3")
        changed = w.textChanged
    w.setToolTip(opt.help_text())
    return w, changed


class TrainingPanel(QWidget):
    """Form + Start/Stop/Save + progress. Hooks: `spec()`, `set_spec(spec)`, `errors()`,
    `fields` (option name -> widget)."""

    start_requested = Signal(object)  # ModelSpec
    stop_requested = Signal()
    save_requested = Signal()
    spec_changed = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._base = ModelSpec()
        self._can_save = False
        self._last_progress = 0.0
        self.fields: dict[str, QWidget] = {}
        self._error_labels: dict[str, QLabel] = {}

        # One column of groups: the dock is narrow on a laptop, and a form read top to bottom
        # (network, data, training) is how the choices are explained anyway.
        columns = QVBoxLayout()
        for key, title in GROUPS:
            box = QGroupBox(title)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            for opt in OPTIONS:
                if opt.group == key and opt.in_form:
                    self._add_row(form, opt)
            columns.addWidget(box)

        self.start_button = QPushButton("Start training")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End training after the current batch (keeps what it learnt)")
        self.save_button = QPushButton("Save model…")
        self.save_button.setToolTip("Save the network from the last run, with its model card")
        self.start_button.clicked.connect(lambda: self.start_requested.emit(self.spec()))
        self.stop_button.clicked.connect(self.stop_requested.emit)
        self.save_button.clicked.connect(self.save_requested.emit)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("Ready")
        self.result_label = QLabel("No run yet.")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(columns)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.result_label)

        self.set_spec(ModelSpec())
        state.events.training.connect(self._show_training)
        state.events.batch.connect(self._show_batch)
        state.events.run_ended.connect(self._show_outcome)
        state.events.sweep.connect(self._show_sweep)
        state.events.candidate.connect(self._candidate_changed)
        self._show_training(state.training)

    # -- the form ------------------------------------------------------------------------------

    def _add_row(self, form: QFormLayout, opt: Option) -> None:
        widget, changed = _widget(opt)
        self.fields[opt.name] = widget
        error = QLabel()
        error.setStyleSheet("color: #c62828;")
        error.setWordWrap(True)
        error.setVisible(False)
        self._error_labels[opt.name] = error
        column = QVBoxLayout()
        column.setSpacing(1)
        column.addWidget(widget)
        column.addWidget(error)
        label = QLabel(opt.label)
        label.setToolTip(opt.help_text())
        form.addRow(label, column)
        changed.connect(self._changed)

    def set_spec(self, spec: ModelSpec) -> None:
        """Fill the form from `spec` (options not in the form are kept as they are)."""
        self._base = spec
        widgets = list(self.fields.values())
        for w in widgets:
            w.blockSignals(True)
        try:
            for name, w in self.fields.items():
                opt, value = next(o for o in OPTIONS if o.name == name), getattr(spec, name)
                if isinstance(w, QCheckBox):
                    w.setChecked(bool(value))
                elif isinstance(w, QComboBox):
                    index = w.findData(value)
                    if index >= 0:
                        w.setCurrentIndex(index)
                elif isinstance(w, QSpinBox | QDoubleSpinBox):
                    w.setValue(value)
                elif isinstance(w, QLineEdit):
                    w.setText(
                        opt.format(value) if opt.kind is not tuple else ", ".join(str(v) for v in value)
                    )
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._changed()

    def _parse(self) -> tuple[ModelSpec, dict[str, str]]:
        values: dict[str, Any] = {}
        parse_errors: dict[str, str] = {}
        for name, w in self.fields.items():
            opt = next(o for o in OPTIONS if o.name == name)
            if isinstance(w, QCheckBox):
                values[name] = w.isChecked()
            elif isinstance(w, QComboBox):
                values[name] = w.currentData()
            elif isinstance(w, QDoubleSpinBox):
                values[name] = round(w.value(), opt.decimals)
            elif isinstance(w, QSpinBox):
                values[name] = w.value()
            elif isinstance(w, QLineEdit):
                try:
                    values[name] = opt.parse(w.text())
                except ValueError as exc:
                    values[name] = getattr(self._base, name)
                    parse_errors[name] = str(exc) if opt.kind is tuple else f"{opt.label.lower()} {exc}"
        return self._base.replace(**values), parse_errors

    def spec(self) -> ModelSpec:
        """The ModelSpec the form describes (may be invalid: check `errors()`)."""
        return self._parse()[0]

    def errors(self) -> dict[str, str]:
        """Field -> reason for every invalid value in the form (empty when Start is allowed)."""
        spec, parse_errors = self._parse()
        errs = spec.errors()
        errs.update(parse_errors)
        return errs

    def _changed(self, *_args) -> None:
        errs = self.errors()
        for key, label in self._error_labels.items():
            label.setText(errs.get(key, ""))
            label.setVisible(key in errs)
        self._update_buttons()
        self.spec_changed.emit()

    # -- run state -------------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        running = self.state.training.busy
        valid = not self.errors()
        self.start_button.setEnabled(valid and not running)
        self.stop_button.setEnabled(running and self.state.training.phase != STOPPING)
        self.save_button.setEnabled(self._can_save and not running)
        self.start_button.setToolTip(
            "Fix the values marked in red first"
            if not valid
            else "A run is going: stop it first"
            if running
            else "Train a new network with these settings (F5)"
        )

    def _show_training(self, training) -> None:
        if training.phase == STARTING:
            self.progress.setValue(0)
            self.result_label.setText("Training…")
        if training.busy and training.text:
            self.progress.setFormat(training.text)
        self._update_buttons()
        if training.phase == IDLE and training.text:
            self.progress.setFormat("Done")

    def _show_batch(self, u) -> None:
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_S and u.step != u.steps:
            return
        self._last_progress = now
        if self.state.training.phase == STOPPING:
            return
        self.progress.setValue(int(round(1000 * min(max(u.progress, 0.0), 1.0))))
        self.progress.setFormat(
            f"Epoch {u.epoch}/{u.epochs} · batch {u.step}/{u.steps} · ETA {format_eta(u.eta)}"
        )

    def _show_outcome(self, outcome: RunRecord, heading: str = "") -> None:
        """The run's result; `heading` names it when it is not simply the last run (a sweep's
        best, offered once the sweep is done)."""
        from kpgui.core.display.numbers import percent
        from kpgui.core.display.runnames import how_it_ran

        if outcome.status == "diverged":
            self.result_label.setText(f"<span style='color:#c62828'>Run {outcome.summary}.</span>")
        else:
            extra = ""
            if outcome.kind == "finetune" and outcome.personal:
                extra = " " + str(outcome.personal.get("summary", ""))
            self.result_label.setText(
                heading
                + f"Test accuracy: <b>{percent(outcome.test_accuracy)}</b> — {how_it_ran(outcome)}.{extra}"
                + (KEEP_HINT if outcome.usable else "")
            )
        self._can_save = outcome.usable
        self._update_buttons()

    def _candidate_changed(self, candidate) -> None:
        """Kept or discarded: the "Keep or discard" hint has done its job."""
        if candidate is None and KEEP_HINT in self.result_label.text():
            self.result_label.setText(self.result_label.text().replace(KEEP_HINT, ""))

    def _show_sweep(self, progress) -> None:
        """A finished sweep: describe the run it offers (the best), not the last one."""
        if progress is None or not progress.done or progress.best is None:
            return
        best = progress.outcomes[progress.best]
        name = progress.sweep.label(progress.sweep.values[progress.best])
        self._show_outcome(best, f"Sweep done; best run <b>{name}</b> (lowest validation loss). ")
