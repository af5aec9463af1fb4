"""The training form, bound to `ModelSpec`, with Start / Stop, progress and the run's result.

The panel validates with `ModelSpec.errors()` and shows each reason in red next to its field;
Start is disabled while anything is invalid. It emits intent signals; the window does the work.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, QTimer, Signal
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

from kpgui.core.spec import ACTIVATIONS, LR_SCHEDULES, OPTIMIZERS, ModelSpec, parse_hidden

OPTIMIZER_NAMES = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}


def format_eta(seconds: float) -> str:
    """12 -> '0:12', 3725 -> '1:02:05'."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class TrainingPanel(QWidget):
    """Form + Start/Stop/Save + progress. Hooks: `spec()`, `set_spec(spec)`, `errors()`."""

    start_requested = Signal()
    stop_requested = Signal()
    save_requested = Signal()
    spec_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = ModelSpec()
        self._running = False
        self._can_save = False
        self._error_labels: dict[str, QLabel] = {}

        self.hidden_edit = QLineEdit()
        self.hidden_edit.setPlaceholderText("e.g. 512, 512")
        self.hidden_edit.setToolTip("Units in each hidden Dense layer, comma-separated")
        self.activation_combo = QComboBox()
        self.activation_combo.addItems(list(ACTIVATIONS))
        self.activation_combo.setToolTip("Activation function of the hidden layers")
        self.dropout_spin = QDoubleSpinBox()
        self.dropout_spin.setRange(0.0, 0.95)
        self.dropout_spin.setSingleStep(0.05)
        self.dropout_spin.setToolTip("Fraction of hidden units dropped at random while training")
        self.optimizer_combo = QComboBox()
        for key in OPTIMIZERS:
            self.optimizer_combo.addItem(OPTIMIZER_NAMES.get(key, key), key)
        self.optimizer_combo.setToolTip("How the weights are updated from the gradients")
        self.lr_edit = QLineEdit()
        self.lr_edit.setToolTip("Step size of the optimizer, e.g. 0.001 or 1e-3")
        self.schedule_combo = QComboBox()
        self.schedule_combo.addItems(list(LR_SCHEDULES))
        self.schedule_combo.setToolTip("constant: the same rate throughout; cosine: decays to 0")
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 60000)
        self.batch_spin.setToolTip("Images per gradient step")
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setToolTip("Passes over the training images")
        self.val_spin = QDoubleSpinBox()
        self.val_spin.setRange(0.0, 0.85)
        self.val_spin.setSingleStep(0.05)
        self.val_spin.setToolTip("Fraction of the training images held out to measure val_loss")
        self.patience_spin = QSpinBox()
        self.patience_spin.setRange(0, 100)
        self.patience_spin.setSpecialValueText("off")
        self.patience_spin.setToolTip("Early stopping: stop after this many epochs without a "
                                      "better val_loss (needs a validation split); 0 = off")
        self.samples_spin = QSpinBox()
        self.samples_spin.setRange(0, 60000)
        self.samples_spin.setSingleStep(1000)
        self.samples_spin.setSpecialValueText("all (60 000)")
        self.samples_spin.setToolTip("Train on the first N MNIST images (0 = all), for quick "
                                     "experiments")
        self.augment_check = QCheckBox("shift, rotate and scale images")
        self.augment_check.setToolTip("Random small distortions of each training image")

        arch = QGroupBox("Network")
        arch_form = QFormLayout(arch)
        self._add_row(arch_form, "Hidden layers", self.hidden_edit, "hidden")
        self._add_row(arch_form, "Activation", self.activation_combo, "activation")
        self._add_row(arch_form, "Dropout", self.dropout_spin, "dropout")
        self._add_row(arch_form, "Training images", self.samples_spin, "train_samples")
        self._add_row(arch_form, "Augmentation", self.augment_check, "augment")
        train = QGroupBox("Training")
        train_form = QFormLayout(train)
        self._add_row(train_form, "Optimizer", self.optimizer_combo, "optimizer")
        self._add_row(train_form, "Learning rate", self.lr_edit, "learning_rate")
        self._add_row(train_form, "LR schedule", self.schedule_combo, "lr_schedule")
        self._add_row(train_form, "Batch size", self.batch_spin, "batch_size")
        self._add_row(train_form, "Epochs", self.epochs_spin, "epochs")
        self._add_row(train_form, "Validation split", self.val_spin, "validation_split")
        self._add_row(train_form, "Early stopping", self.patience_spin, "patience")

        self.start_button = QPushButton("Start training")
        self.start_button.setToolTip("Train a new network with these settings (F5)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End training after the current batch (keeps what it learnt)")
        self.save_button = QPushButton("Save model…")
        self.save_button.setToolTip("Save the network from the last run with its model card")
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
        forms = QHBoxLayout()
        forms.addWidget(arch, 1)
        forms.addWidget(train, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(forms)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.result_label)

        self.start_button.clicked.connect(self.start_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.save_button.clicked.connect(self.save_requested)
        for w in (self.hidden_edit, self.lr_edit):
            w.textChanged.connect(self._changed)
        for w in (self.activation_combo, self.optimizer_combo, self.schedule_combo):
            w.currentIndexChanged.connect(self._changed)
        for w in (self.dropout_spin, self.batch_spin, self.epochs_spin, self.val_spin,
                  self.patience_spin, self.samples_spin):
            w.valueChanged.connect(self._changed)
        self.augment_check.toggled.connect(self._changed)
        self.set_spec(ModelSpec())

    def _add_row(self, form: QFormLayout, label: str, widget: QWidget, key: str) -> None:
        error = QLabel()
        error.setStyleSheet("color: #c62828;")
        error.setWordWrap(True)
        error.setVisible(False)
        form.addRow(label, widget)
        form.addRow(error)  # the reason, in red, on its own full-width line under the field
        self._error_labels[key] = error

    # -- spec <-> form ---------------------------------------------------------------------

    def set_spec(self, spec: ModelSpec) -> None:
        """Fill the form from a spec (fields the form lacks, e.g. seed, are kept as they are)."""
        self._base = spec
        widgets = (self.hidden_edit, self.lr_edit, self.activation_combo, self.optimizer_combo,
                   self.schedule_combo, self.dropout_spin, self.batch_spin, self.epochs_spin,
                   self.val_spin, self.patience_spin, self.samples_spin, self.augment_check)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.hidden_edit.setText(", ".join(str(h) for h in spec.hidden))
            self.lr_edit.setText(f"{spec.learning_rate:g}")
            _select(self.activation_combo, self.activation_combo.findText(spec.activation))
            _select(self.optimizer_combo, self.optimizer_combo.findData(spec.optimizer))
            _select(self.schedule_combo, self.schedule_combo.findText(spec.lr_schedule))
            self.dropout_spin.setValue(spec.dropout)
            self.batch_spin.setValue(spec.batch_size)
            self.epochs_spin.setValue(spec.epochs)
            self.val_spin.setValue(spec.validation_split)
            self.patience_spin.setValue(spec.patience)
            self.samples_spin.setValue(spec.train_samples)
            self.augment_check.setChecked(spec.augment)
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._changed()

    def _parse(self) -> tuple[ModelSpec, dict[str, str]]:
        parse_errors: dict[str, str] = {}
        try:
            hidden = parse_hidden(self.hidden_edit.text())
        except ValueError as exc:
            hidden, parse_errors["hidden"] = (), str(exc)
        try:
            lr = float(self.lr_edit.text().strip().replace(",", "."))
            if not math.isfinite(lr):
                raise ValueError
        except ValueError:
            lr = 0.0
            parse_errors["learning_rate"] = "learning rate must be a number, e.g. 0.001"
        spec = self._base.replace(
            hidden=hidden,
            activation=self.activation_combo.currentText(),
            dropout=round(self.dropout_spin.value(), 4),
            optimizer=self.optimizer_combo.currentData(),
            learning_rate=lr,
            lr_schedule=self.schedule_combo.currentText(),
            batch_size=self.batch_spin.value(),
            epochs=self.epochs_spin.value(),
            validation_split=round(self.val_spin.value(), 4),
            patience=self.patience_spin.value(),
            augment=self.augment_check.isChecked(),
            train_samples=self.samples_spin.value(),
        )
        return spec, parse_errors

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
        QTimer.singleShot(0, self._fit_error_labels)
        self._update_buttons()
        self.spec_changed.emit()

    def _fit_error_labels(self) -> None:
        # QFormLayout does not give word-wrapped labels their height-for-width: once the labels
        # have their real width, reserve the height their wrapped text needs.
        for label in self._error_labels.values():
            if label.isVisible() and label.width() > 0:
                label.setMinimumHeight(label.heightForWidth(label.width()))

    # -- run state -------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        valid = not self.errors()
        self.start_button.setEnabled(valid and not self._running)
        self.stop_button.setEnabled(self._running)
        self.save_button.setEnabled(self._can_save and not self._running)
        if not valid:
            self.start_button.setToolTip("Fix the values marked in red first")
        else:
            self.start_button.setToolTip("Train a new network with these settings (F5)")

    def set_running(self, running: bool) -> None:
        self._running = running
        if running:
            self.progress.setValue(0)
            self.progress.setFormat("Loading TensorFlow and the data…")
            self.result_label.setText("Training…")
        self._update_buttons()

    def set_can_save(self, can: bool) -> None:
        self._can_save = can
        self._update_buttons()

    @property
    def running(self) -> bool:
        return self._running

    def show_progress(self, epoch: int, epochs: int, step: int, steps: int, fraction: float,
                      eta: float) -> None:
        """Epoch x/N, batch and ETA on the progress bar."""
        self.progress.setValue(int(round(1000 * min(max(fraction, 0.0), 1.0))))
        self.progress.setFormat(
            f"Epoch {epoch}/{epochs} · batch {step}/{steps} · ETA {format_eta(eta)}"
        )

    def show_stopping(self) -> None:
        self.progress.setFormat("Stopping after this batch…")
        self.stop_button.setEnabled(False)

    def show_result(self, text: str, finished_fraction: float | None = None) -> None:
        if finished_fraction is not None:
            self.progress.setValue(int(round(1000 * finished_fraction)))
        self.progress.setFormat("Done")
        self.result_label.setText(text)


def _select(combo: QComboBox, index: int) -> None:
    if index >= 0:
        combo.setCurrentIndex(index)
