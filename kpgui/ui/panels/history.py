"""History: every training run, from the window or from `kpgui train`, in one sortable table.

The runs arrive through the state (`run_list`, read on a thread by the runs controller); this
tab never touches the store. With 3,000 runs nothing here grows with them on the GUI thread
beyond a plain sort: cells are formatted when they are shown (and kept), columns are sized
from the rows on screen, and sorting is one Python sort of the model's rows.

Ticking a run draws its curves over the training plots (the runs controller puts them in the
state's overlays), named by what differs between the ticked runs ("lr 0.01 · 97.2 %") unless
the person renamed it. "Load model" asks to read with a run's model; "Delete…" asks first, then
forgets the runs and their saved models. The table fits its tab: the settings are one column, in words.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kpgui.core.display.numbers import MISSING, percent
from kpgui.core.display.runnames import epochs_text, run_labels, settings_text
from kpgui.core.display.words import count
from kpgui.core.state import AppState, RunList
from kpgui.ui import dialogs, theme

if TYPE_CHECKING:
    from kpgui.core.model.run import RunRecord

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ["Run", "Test acc.", "Epochs", "Time", "Settings", "Date"]
NUMERIC = {"Test acc.", "Epochs", "Time"}


def _date(text: Any) -> str:
    if not text:
        return ""
    try:
        d = _dt.datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    # Not strftime: it imports `time` on every call, through PySide's Python import hook
    # (40 us a date: 120 ms to sort 3,000 runs by date).
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}"


def _epochs(run: RunRecord) -> tuple[str, Any]:
    ran = run.epochs_run
    return epochs_text(ran, run.spec.epochs, run.partial_epoch is not None, run.status), ran


def _cell(run: Any, column: str, label: str) -> tuple[str, Any]:
    """(display text, sort key) of one cell."""
    if column == "Run":
        return label, label.lower()
    if column == "Date":
        return _date(run.created_at), f"{run.created_at or ''}|{run.id:09d}"
    if column == "Epochs":
        return _epochs(run)
    if column == "Test acc.":
        if run.status == "diverged":
            return "diverged", -2.0
        v = run.test_accuracy
        return percent(v), (-1.0 if v is None else v)
    if column == "Time":
        v = run.wall_time
        if v is None:
            return MISSING, -1.0
        return (f"{v:.0f} s" if v < 120 else f"{v / 60:.1f} min"), v
    if column == "Settings":
        text = settings_text(run.spec)
        if run.kind == "finetune":
            text = "fine-tune: " + text
        return text, text
    return "", ""


class RunsTableModel(QAbstractTableModel):
    """The runs as rows, sorted by the model itself (no proxy: a proxy asks Python for every
    row's key n log n times); the first column is checkable (overlay on/off)."""

    check_changed = Signal(int, bool)  # run id, ticked

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.runs: list[Any] = []
        self.labels: dict[int, str] = {}
        self.checked: set[int] = set()
        self.colours: dict[int, str] = {}
        self.pick_colour = lambda run_id: theme.RUN_COLOURS[run_id % len(theme.RUN_COLOURS)]
        self.sort_column = COLUMNS.index("Date")
        self.sort_order = Qt.SortOrder.DescendingOrder
        self._cells: dict[tuple[int, int], tuple[str, Any]] = {}

    def set_runs(self, runs: list[Any], labels: dict[int, str] | None = None) -> None:
        self.beginResetModel()
        self.runs = list(runs)
        self.labels = dict(labels) if labels is not None else (run_labels(self.runs) if self.runs else {})
        self._cells.clear()
        self._apply_sort()
        self.endResetModel()

    def _cell(self, run: Any, column: int) -> tuple[str, Any]:
        key = (run.id, column)
        cell = self._cells.get(key)
        if cell is None:
            cell = _cell(run, COLUMNS[column], self.labels.get(run.id, f"run {run.id}"))
            self._cells[key] = cell
        return cell

    def _apply_sort(self) -> None:
        col = self.sort_column
        if COLUMNS[col] == "Date":  # the usual order, without formatting 3,000 dates

            def key(r: Any) -> Any:
                return f"{r.created_at or ''}|{r.id:09d}"
        else:

            def key(r: Any) -> Any:
                return self._cell(r, col)[1]

        self.runs.sort(key=key, reverse=self.sort_order == Qt.SortOrder.DescendingOrder)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the rows (the view calls this when a header is clicked); selections follow."""
        self.sort_column, self.sort_order = int(column), order
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        ids = [self.runs[i.row()].id if 0 <= i.row() < len(self.runs) else None for i in old]
        self._apply_sort()
        rows = {r.id: n for n, r in enumerate(self.runs)}
        self.changePersistentIndexList(
            old,
            [
                self.index(rows[i], idx.column()) if i in rows else QModelIndex()
                for i, idx in zip(ids, old, strict=True)
            ],
        )
        self.layoutChanged.emit()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.runs)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def flags(self, index):
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0:
            f |= Qt.ItemFlag.ItemIsUserCheckable
        return f

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        run = self.runs[index.row()]
        col = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(run, index.column())[0]
        if role == SORT_ROLE:
            return self._cell(run, index.column())[1]
        if role == Qt.ItemDataRole.CheckStateRole and index.column() == 0:
            return Qt.CheckState.Checked if run.id in self.checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0 and run.id in self.colours:
            return QColor(self.colours[run.id])
        if role == Qt.ItemDataRole.ToolTipRole:
            parts = [f"run {run.id} ({run.kind}, {run.status})", run.spec.describe()]
            if run.model_path:
                parts.append(f"model: {run.model_path}")
            if run.personal and run.personal.get("summary"):
                parts.append(str(run.personal["summary"]))
            if run.log_dir:
                parts.append(f"logs: {run.log_dir}")
            return "\n".join(parts)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):  # noqa: N802
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != 0:
            return False
        run = self.runs[index.row()]
        ticked = (Qt.CheckState(value) == Qt.CheckState.Checked) if not isinstance(value, bool) else value
        if ticked == (run.id in self.checked):
            return True
        if ticked:
            self.checked.add(run.id)
            self.colours[run.id] = self.pick_colour(run.id)  # one colour per run, everywhere
        else:
            self.checked.discard(run.id)
            self.colours.pop(run.id, None)
        self.dataChanged.emit(index, index, [role, Qt.ItemDataRole.DecorationRole])
        self.check_changed.emit(run.id, ticked)
        return True

    def run_by_id(self, run_id: int) -> Any:
        return next((r for r in self.runs if r.id == run_id), None)

    def row_of(self, run_id: int) -> int:
        return next((i for i, r in enumerate(self.runs) if r.id == run_id), -1)


class HistoryPanel(QWidget):
    """The run-history tab. Intents: `load_requested(RunRecord)`, `save_requested(RunRecord)`,
    `settings_requested(RunRecord)`, `rename_requested(run id, name or None)`,
    `delete_requested(run ids)` (already confirmed)."""

    load_requested = Signal(object)
    save_requested = Signal(object)
    settings_requested = Signal(object)
    code_requested = Signal(object)  # show the run as a plain Keras script
    rename_requested = Signal(int, object)
    delete_requested = Signal(object)
    refresh_requested = Signal()  # read the runs again (another process may have trained)
    overlays_requested = Signal(object)  # [(run id, colour)] of the ticked runs, in table order

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = RunsTableModel(self)
        self.model.pick_colour = state.run_colour
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COLUMNS.index("Date"), Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a cut name keeps its end (accuracy)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setResizeContentsPrecision(0)  # size columns from the rows on screen, not 1,000
        for i, col in enumerate(COLUMNS):
            mode = (
                QHeaderView.ResizeMode.Stretch
                if col in ("Run", "Settings")
                else QHeaderView.ResizeMode.ResizeToContents
            )
            header.setSectionResizeMode(i, mode)
        self.table.doubleClicked.connect(lambda _i: self.load_selected())
        self.model.check_changed.connect(self._on_check)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.load_button = QPushButton("Load model")
        self.load_button.setToolTip("Read your drawings with the selected run's model")
        self.save_button = QPushButton("Save model…")
        self.save_button.setToolTip("Save a copy of the selected run's model, with its card")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("Forget the selected runs and delete their saved models")
        self.clear_button = QPushButton("Untick all")
        self.settings_button = QPushButton("Use settings")
        self.settings_button.setToolTip(
            "Put the selected run's settings into the Training form "
            "(to run it again, change it, or export it)"
        )
        self.logs_button = QPushButton("Show logs…")
        self.logs_button.setToolTip(
            "Where the run's CSV history and TensorBoard logs are, and how to open them"
        )
        self.code_button = QPushButton("Keras code…")
        self.code_button.setToolTip(
            "The selected run as a plain, runnable Keras script (data, "
            "model, compile, fit), to read, copy or save"
        )
        self.code_button.clicked.connect(lambda: self._emit_one(self.code_requested))
        self.settings_button.clicked.connect(lambda: self._emit_one(self.settings_requested))
        self.logs_button.clicked.connect(lambda: self.show_logs())
        self.load_button.clicked.connect(lambda: self.load_selected())
        self.save_button.clicked.connect(lambda: self.save_selected())
        self.rename_button.clicked.connect(lambda: self.rename_selected())
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        self.clear_button.clicked.connect(lambda: self.untick_all())
        buttons = QGridLayout()  # two rows: the tab stays narrow enough for a laptop
        for i, b in enumerate(
            (
                self.load_button,
                self.save_button,
                self.settings_button,
                self.logs_button,
                self.rename_button,
                self.delete_button,
                self.clear_button,
                self.code_button,
            )
        ):
            buttons.addWidget(b, i // 3, i % 3)
        hint = QLabel(
            "Every run is kept here, from the window and from `kpgui train`. Tick runs "
            "to draw their curves over the Training plots; double-click to use a "
            "run's model."
        )
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        state.events.run_list.connect(self.show_runs)
        self.show_runs(state.run_list)

    def showEvent(self, event) -> None:  # noqa: N802
        """Opening the tab shows runs made meanwhile by `kpgui train` in another process (the
        runs controller reads them again on a thread)."""
        super().showEvent(event)
        self.refresh_requested.emit()

    # -- data ----------------------------------------------------------------------------------

    def show_runs(self, listing: RunList) -> None:
        """Show the runs read from the store, keeping ticks (and overlays) of runs that remain."""
        if listing.error:
            self.summary.setText(f"Could not read the run history: {listing.error}")
            return
        runs = listing.runs
        keep = self.selected_ids()
        ids = {r.id for r in runs}
        for run_id in list(self.model.checked):
            if run_id not in ids:
                self.model.checked.discard(run_id)
                self.model.colours.pop(run_id, None)
        self.model.set_runs(list(runs), listing.labels)
        for run_id in keep:
            self.select_run(run_id, add=True)
        self._update_overlays()
        n = len(runs)
        best = max((r.test_accuracy for r in runs if r.test_accuracy is not None), default=None)
        text = f"{n} run{'s' if n != 1 else ''} kept."
        if best is not None:
            text += f" Best test accuracy {percent(best)}."
        if listing.skipped:
            text += f" {count(listing.skipped, 'damaged record')} could not be read and are not shown."
        self.summary.setText(text)
        self._update_buttons()

    def selected_ids(self) -> list[int]:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.runs[r].id for r in sorted(rows) if r < len(self.model.runs)]

    def select_run(self, run_id: int, add: bool = False) -> None:
        row = self.model.row_of(run_id)
        if row < 0:
            return
        if not add:
            self.table.selectRow(row)
            return
        from PySide6.QtCore import QItemSelectionModel

        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().select(self.model.index(row, 0), flags)

    def set_ticked(self, run_id: int, ticked: bool = True) -> bool:
        row = self.model.row_of(run_id)
        if row < 0:
            return False
        state = Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked
        return self.model.setData(self.model.index(row, 0), state.value, Qt.ItemDataRole.CheckStateRole)

    def untick_all(self) -> None:
        for run_id in list(self.model.checked):
            self.set_ticked(run_id, False)

    def _update_buttons(self) -> None:
        ids = self.selected_ids()
        one = self.model.run_by_id(ids[0]) if len(ids) == 1 else None
        self.load_button.setEnabled(one is not None and bool(one.model_path))
        self.save_button.setEnabled(one is not None and bool(one.model_path))
        self.rename_button.setEnabled(one is not None)
        self.settings_button.setEnabled(one is not None)
        self.code_button.setEnabled(one is not None)
        self.logs_button.setEnabled(one is not None and bool(one.log_dir))
        self.delete_button.setEnabled(bool(ids))
        self.clear_button.setEnabled(bool(self.model.checked))

    # -- overlays ------------------------------------------------------------------------------

    def _on_check(self, _run_id: int, _ticked: bool) -> None:
        self._update_buttons()
        self._update_overlays()

    def _update_overlays(self) -> None:
        """Ask for the ticked runs to be drawn over the plots, each in its colour (the runs
        controller puts them in the state; a sweep's runs keep theirs)."""
        ticked = [r.id for r in self.model.runs if r.id in self.model.checked]
        self.overlays_requested.emit(
            [(run_id, self.model.colours.get(run_id, theme.RUN_COLOURS[0])) for run_id in ticked]
        )

    # -- actions -------------------------------------------------------------------------------

    def _one(self) -> Any:
        ids = self.selected_ids()
        return self.model.run_by_id(ids[0]) if len(ids) == 1 else None

    def load_selected(self) -> None:
        run = self._one()
        if run is not None:
            self.load_requested.emit(run)

    def save_selected(self) -> None:
        run = self._one()
        if run is not None:
            self.save_requested.emit(run)

    def _emit_one(self, signal) -> None:
        run = self._one()
        if run is not None:
            signal.emit(run)

    def logs_text(self, run: RunRecord) -> str:
        """Where a run's logs are and the command that opens them in TensorBoard."""
        from kpgui.core.storage.paths import runs_dir

        folder = run.log_dir or ""
        return (
            f"<p>Run {run.id}'s logs are in<br><code>{folder}</code></p>"
            "<p><b>history.csv</b>: the loss and accuracy of every epoch (Keras' CSVLogger); "
            "<b>tensorboard/</b>: event files for TensorBoard (Keras' TensorBoard callback)."
            "</p><p>To compare all your runs in TensorBoard, run in a terminal:<br>"
            f"<code>tensorboard --logdir {runs_dir()}</code><br>and open the address it "
            "prints (http://localhost:6006).</p>"
        )

    def show_logs(self) -> None:
        run = self._one()
        if run is None:
            return
        dialogs.show_html(self, f"Logs of run {run.id}", self.logs_text(run), (560, 260))

    def rename_selected(self) -> None:
        run = self._one()
        if run is None:
            return
        name, ok = dialogs.ask_text(
            self, "Rename run", "Name:", run.name or self.model.labels.get(run.id, "")
        )
        if ok:
            self.rename_requested.emit(run.id, name.strip() or None)

    def delete_selected(self) -> None:
        """Ask, then forget the selected runs and delete their saved models."""
        ids = self.selected_ids()
        if not ids:
            return
        names = ", ".join(self.model.labels.get(i, str(i)) for i in ids[:5])
        if len(ids) > 5:
            names += f" and {len(ids) - 5} more"
        if not dialogs.ask_yes_no(
            self,
            "Delete runs",
            f"Delete {len(ids)} run{'s' if len(ids) > 1 else ''} ({names}) and their saved "
            "model files? This cannot be undone.",
            yes="Delete",
        ):
            return
        for run_id in ids:
            self.set_ticked(run_id, False)
        self.delete_requested.emit(ids)
