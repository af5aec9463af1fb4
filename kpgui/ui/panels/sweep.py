"""Compare values (a sweep): one option, several values, one run each, one after another in the
training process — the tuning loop of the Keras primer in one click.

The panel holds the option and its values, a button for the primer's own experiment (SGD at
learning rates 1e-6, 0.01 and 1), and a table of the runs as they finish (final loss and
validation loss, validation and test accuracy, time), the best one (lowest validation loss)
starred. It observes the state's `sweep`; the runs' curves are in the plots, one colour each.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
)

from kpgui.core.display.numbers import MISSING
from kpgui.core.display.runnames import final_numbers
from kpgui.core.model.options import BY_NAME, SWEEPABLE
from kpgui.core.state import AppState
from kpgui.core.training.sweep import DYING_RELUS, PRESETS

SEEDS_PRESET = "Compare learning rates (SGD: 1e-6, 0.01, 1)"
COLUMNS = ["Run", "Loss", "Val loss", "Val acc.", "Test acc.", "Time"]


def _seconds(v: float | None) -> str:
    return MISSING if v is None else f"{v:.0f} s"


class SweepPanel(QGroupBox):
    """Intents: `sweep_requested(option, values text)`, `preset_requested(name)`."""

    sweep_requested = Signal(str, str)
    preset_requested = Signal(str)

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__("Compare values (sweep)", parent)
        self.state = state
        self.option_combo = QComboBox()
        for name in SWEEPABLE:
            self.option_combo.addItem(BY_NAME[name].label, name)
        self.option_combo.setToolTip(
            "The option that changes from run to run; everything else comes from the form above"
        )
        self.values_edit = QLineEdit()
        self.values_edit.setPlaceholderText("e.g. 0.1, 0.01, 0.001")
        self.values_edit.setToolTip(
            "The values to try, separated by commas (hidden layers: by '/', e.g. 32/64/128,128)"
        )
        self.start_button = QPushButton("Start sweep")
        self.start_button.clicked.connect(self._request)
        self.preset_button = QPushButton("Compare learning rates")
        self.preset_button.setToolTip(
            f"{SEEDS_PRESET}: the Keras primer's experiment, the same "
            "network with SGD at three learning rates, compared by "
            "validation loss"
        )
        self.preset_button.clicked.connect(lambda: self.preset_requested.emit(SEEDS_PRESET))
        self.dying_button = QPushButton("Dying ReLUs vs healthy")
        self.dying_button.setToolTip(
            "Two short SGD runs (learning rate 0.01 and 0.5) on 6 000 "
            "images: watch the dead ReLU share under the plots climb in "
            "one and stay low in the other"
        )
        self.dying_button.clicked.connect(lambda: self.preset_requested.emit(DYING_RELUS))
        # A button with a menu, not a combo box: only a click on a menu entry starts a sweep
        # (a combo's `activated` also fires on the mouse wheel).
        self.presets = QToolButton()
        self.presets.setText("More presets")
        self.presets.setToolTip("Other one-click comparisons: each fills the form and the sweep, then starts")
        self.presets.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.presets)
        for name in PRESETS:
            if name not in (SEEDS_PRESET, DYING_RELUS):
                menu.addAction(name, partial(self.preset_requested.emit, name))
        self.presets.setMenu(menu)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(110)
        self.status = QLabel(
            "Try one option at several values; the runs' curves are drawn in the "
            "plots in their own colours, and the best (lowest validation loss) is "
            "starred."
        )
        self.status.setWordWrap(True)
        # Two short rows rather than one long one: the dock is ~550 px wide on a 1366x768 laptop.
        row = QHBoxLayout()
        row.addWidget(QLabel("Vary"))
        row.addWidget(self.option_combo, 1)
        row.addWidget(QLabel("values"))
        row.addWidget(self.values_edit, 2)
        start = QHBoxLayout()
        start.addWidget(self.start_button)
        start.addStretch(1)
        start.addWidget(self.presets)
        presets = QHBoxLayout()  # the one-click demonstrations
        presets.addWidget(self.preset_button)
        presets.addWidget(self.dying_button)
        presets.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(start)
        layout.addLayout(presets)
        layout.addWidget(self.table)
        layout.addWidget(self.status)
        state.events.sweep.connect(self._show)
        state.events.training.connect(lambda t: self._update_buttons())
        self._update_buttons()

    # -- the fields --------------------------------------------------------------------------

    @property
    def option(self) -> str:
        return self.option_combo.currentData()

    def set_fields(self, option: str, values: tuple) -> None:
        """Show a sweep's option and values (a preset, an opened experiment)."""
        self.option_combo.setCurrentIndex(self.option_combo.findData(option))
        opt = BY_NAME[option]
        sep = " / " if option == "hidden" else ", "
        self.values_edit.setText(sep.join(opt.format(v) for v in values))

    def values(self) -> tuple[str, str]:
        """(option, the values as typed): what a sweep, an export or its code would use."""
        return self.option, self.values_edit.text()

    def _request(self) -> None:
        self.sweep_requested.emit(*self.values())

    def _update_buttons(self) -> None:
        busy = self.state.training.busy
        for w in (self.start_button, self.preset_button, self.dying_button, self.presets):
            w.setEnabled(not busy)

    # -- the runs --------------------------------------------------------------------------------

    def _show(self, progress) -> None:
        if progress is None:
            return
        sweep = progress.sweep
        self.table.setRowCount(len(sweep.values))
        best = progress.best if progress.done else None
        for i, value in enumerate(sweep.values):
            o = progress.outcomes[i]
            name = sweep.label(value) + (" ★" if i == best else "")
            if o is None:
                state = (
                    "running…"
                    if i == progress.index and not progress.done
                    else "cancelled"
                    if progress.done
                    else "waiting"
                )
                cells = [name, state, "", "", "", ""]
            elif o.status == "diverged":
                cells = [name, "diverged", "", "", "", _seconds(o.wall_time)]
            else:
                n = final_numbers(o)
                cells = [
                    name,
                    n["loss"],
                    n["val_loss"],
                    n["val_accuracy"],
                    n["test_accuracy"],
                    _seconds(o.wall_time),
                ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setForeground(QBrush(QColor(progress.colours[i])))
                if i == best:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                if c > 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, c, item)
        if progress.done:
            self.status.setText(
                "Cancelled: the runs not started were skipped."
                if progress.cancelled and best is None
                else f"Best: {sweep.label(sweep.values[best])} (lowest validation loss); offered "
                "above the canvas."
                if best is not None
                else "No run finished usefully."
            )
        else:
            self.status.setText(
                f"Run {progress.index + 1} of {len(sweep.values)}: "
                f"{sweep.label(sweep.values[progress.index])}…"
            )

    @property
    def best_row(self) -> int | None:
        """The starred row, if any."""
        for i in range(self.table.rowCount()):
            item = self.table.item(i, 0)
            if item is not None and item.text().endswith("★"):
                return i
        return None
