"""Run history: a sortable table of every training run kept in the store.

Ticking a run overlays its curves in the training plots (`plots.add_overlay`), one colour per
run; "Load model" puts a past run's model into the predictor; "Delete" removes runs.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kpgui.ui.insight import dialogs
from kpgui.ui.insight.images import RUN_COLOURS

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2

COLUMNS = ["Run", "Test acc.", "Hidden", "Activation", "Optimizer", "LR", "Batch", "Epochs",
           "Dropout", "Augment", "Time", "Kind", "Status", "Date"]
NUMERIC = {"Test acc.", "LR", "Batch", "Epochs", "Dropout", "Time"}


def _spec_value(spec: Any, name: str, default: Any = None) -> Any:
    return getattr(spec, name, default) if spec is not None else default


def _date(text: Any) -> str:
    if not text:
        return ""
    try:
        return _dt.datetime.fromisoformat(str(text)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(text)


def _cell(run: Any, column: str) -> tuple[str, Any]:
    """(display text, sort key) of one cell."""
    spec = getattr(run, "spec", None)
    if column == "Run":
        name = run.name or f"run {run.id}"
        return name, name.lower()
    if column == "Date":
        return _date(run.created_at), f"{run.created_at or ''}|{run.id:09d}"
    if column in ("Kind", "Status"):
        v = str((run.kind if column == "Kind" else run.status) or "")
        return v, v
    if column == "Hidden":
        hidden = tuple(_spec_value(spec, "hidden", ()) or ())
        return "-".join(str(h) for h in hidden), f"{len(hidden):02d}|{sum(hidden):09d}"
    if column in ("Activation", "Optimizer"):
        v = str(_spec_value(spec, column.lower(), "") or "")
        return v, v
    if column == "LR":
        v = _spec_value(spec, "learning_rate")
        return ("" if v is None else f"{v:g}"), (v if v is not None else -1.0)
    if column == "Batch":
        v = _spec_value(spec, "batch_size")
        return ("" if v is None else str(v)), (v if v is not None else -1)
    if column == "Epochs":
        planned = _spec_value(spec, "epochs")
        ran = run.epochs_run
        text = f"{ran}" if planned in (None, ran) else f"{ran}/{planned}"
        return text, ran or 0
    if column == "Dropout":
        v = _spec_value(spec, "dropout", 0.0) or 0.0
        return (f"{v:g}" if v else "–"), v
    if column == "Augment":
        v = bool(_spec_value(spec, "augment", False))
        return ("yes" if v else "no"), int(v)
    if column == "Test acc.":
        v = run.test_accuracy
        return ("–" if v is None else f"{100 * v:.2f} %"), (-1.0 if v is None else v)
    if column == "Time":
        v = run.wall_time
        if v is None:
            return "–", -1.0
        text = f"{v:.0f} s" if v < 120 else f"{v / 60:.1f} min"
        return text, v
    return "", ""


class RunsTableModel(QAbstractTableModel):
    """The store's runs as rows; the first column is checkable (overlay on/off)."""

    check_changed = Signal(int, bool)  # run id, ticked

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.runs: list[Any] = []
        self.checked: set[int] = set()
        self.colours: dict[int, str] = {}

    def set_runs(self, runs: list[Any]) -> None:
        self.beginResetModel()
        self.runs = list(runs)
        self.endResetModel()

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
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell(run, COLUMNS[col])[0]
        if role == SORT_ROLE:
            return _cell(run, COLUMNS[col])[1]
        if role == ID_ROLE:
            return run.id
        if role == Qt.ItemDataRole.CheckStateRole and col == 0:
            return Qt.CheckState.Checked if run.id in self.checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and run.id in self.colours:
            return QColor(self.colours[run.id])
        if role == Qt.ItemDataRole.ToolTipRole:
            spec = getattr(run, "spec", None)
            parts = [spec.describe()] if hasattr(spec, "describe") else []
            if run.model_path:
                parts.append(f"model: {run.model_path}")
            if run.notes:
                parts.append(str(run.notes))
            return "\n".join(parts) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[col] in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):  # noqa: N802
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != 0:
            return False
        run = self.runs[index.row()]
        ticked = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(
            value, bool) else value
        if ticked == (run.id in self.checked):
            return True
        if ticked:
            self.checked.add(run.id)
            used = set(self.colours.values())
            free = [c for c in RUN_COLOURS if c not in used]
            self.colours[run.id] = (free or RUN_COLOURS)[0 if free else run.id % len(RUN_COLOURS)]
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


class RunsView(QWidget):
    """The run-history panel. `plots` has add_overlay/remove_overlay; `load_model(predictor,
    label)` receives a loaded model (e.g. MainWindow.set_predictor)."""

    run_loaded = Signal(object)  # RunRecord

    def __init__(self, store: Any, plots: Any = None,
                 load_model: Callable[[Any, str], None] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.plots = plots
        self.load_model = load_model
        self.model = RunsTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COLUMNS.index("Date"), Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _i: self.load_selected())
        self.model.check_changed.connect(self._on_check)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.load_button = QPushButton("Load model")
        self.load_button.setToolTip("Use the selected run's model for predictions")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete…")
        self.clear_button = QPushButton("Untick all")
        self.refresh_button = QPushButton("Refresh")
        self.load_button.clicked.connect(self.load_selected)
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.clear_button.clicked.connect(self.untick_all)
        self.refresh_button.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        for b in (self.load_button, self.rename_button, self.delete_button, self.clear_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        hint = QLabel("Every training run is kept here. Tick runs to overlay their loss and "
                      "accuracy curves in the Training tab's plots (one colour each); "
                      "double-click a run to use its model.")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.refresh()

    # -- data ----------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the runs from the store, keeping ticks (and overlays) of runs that remain."""
        try:
            runs = self.store.list_runs()
        except Exception as exc:  # a database gone bad mid-session: say so, keep working
            self.summary.setText(f"Could not read the run history: {exc}")
            return
        ids = {r.id for r in runs}
        for run_id in list(self.model.checked):
            if run_id not in ids:
                self.model.checked.discard(run_id)
                self.model.colours.pop(run_id, None)
                self._remove_overlay(run_id)
        self.model.set_runs(runs)
        n = len(runs)
        best = max((r.test_accuracy for r in runs if r.test_accuracy is not None), default=None)
        text = f"{n} run{'s' if n != 1 else ''} kept."
        if best is not None:
            text += f" Best test accuracy {100 * best:.2f} %."
        self.summary.setText(text)
        self._update_buttons()

    def selected_ids(self) -> list[int]:
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.runs[r].id for r in sorted(rows)]

    def select_run(self, run_id: int) -> None:
        row = self.model.row_of(run_id)
        if row >= 0:
            self.table.selectRow(self.proxy.mapFromSource(self.model.index(row, 0)).row())

    def set_ticked(self, run_id: int, ticked: bool = True) -> bool:
        row = self.model.row_of(run_id)
        if row < 0:
            return False
        state = Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked
        return self.model.setData(self.model.index(row, 0), state.value,
                                  Qt.ItemDataRole.CheckStateRole)

    def untick_all(self) -> None:
        for run_id in list(self.model.checked):
            self.set_ticked(run_id, False)

    def _update_buttons(self) -> None:
        ids = self.selected_ids()
        self.load_button.setEnabled(len(ids) == 1)
        self.rename_button.setEnabled(len(ids) == 1)
        self.delete_button.setEnabled(bool(ids))
        self.clear_button.setEnabled(bool(self.model.checked))

    # -- overlays ------------------------------------------------------------------------------

    @staticmethod
    def overlay_key(run_id: int) -> str:
        return f"run-{run_id}"

    def _on_check(self, run_id: int, ticked: bool) -> None:
        self._update_buttons()
        if self.plots is None:
            return
        if not ticked:
            self._remove_overlay(run_id)
            return
        run = self.model.run_by_id(run_id)
        if run is None:
            return
        label = run.name or f"run {run.id}"
        if run.test_accuracy is not None:
            label += f" ({100 * run.test_accuracy:.1f} %)"
        self.plots.add_overlay(self.overlay_key(run_id), label, dict(run.history or {}),
                               self.model.colours.get(run_id, RUN_COLOURS[0]))

    def _remove_overlay(self, run_id: int) -> None:
        if self.plots is not None:
            self.plots.remove_overlay(self.overlay_key(run_id))

    # -- actions -------------------------------------------------------------------------------

    def load_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 1:
            return
        run = self.model.run_by_id(ids[0])
        if not run.model_path:
            dialogs.show_error(self, "No model file",
                               f"Run {run.name or run.id} has no saved model file (it was stopped "
                               "before its model was saved).")
            return
        from kpgui.core.inference import ModelLoadError, Predictor

        try:
            predictor = Predictor.load(run.model_path)
        except ModelLoadError as exc:
            dialogs.show_error(self, "Cannot load this run's model",
                               f"{exc}\n\nThe file may have been moved or deleted; you can delete "
                               "this run from the history.")
            return
        predictor.name = run.name or predictor.name
        if self.load_model is not None:
            self.load_model(predictor, f"run: {run.name or run.id}")
        self.run_loaded.emit(run)

    def rename_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 1:
            return
        run = self.model.run_by_id(ids[0])
        name, ok = QInputDialog.getText(self, "Rename run", "Name:", text=run.name or "")
        if ok and name.strip():
            self._guard("Rename failed", lambda: self.store.rename_run(run.id, name.strip()))
            self.refresh()

    def delete_selected(self, confirm: bool = True) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        names = ", ".join(self.model.run_by_id(i).name or str(i) for i in ids[:5])
        if len(ids) > 5:
            names += f" and {len(ids) - 5} more"
        if confirm and not dialogs.ask_yes_no(
            self, "Delete runs",
            f"Delete {len(ids)} run{'s' if len(ids) > 1 else ''} ({names}) and their saved "
            "model files? This cannot be undone.",
        ):
            return
        for run_id in ids:
            self._remove_overlay(run_id)
            self.model.checked.discard(run_id)
            self.model.colours.pop(run_id, None)
            self._guard("Delete failed", lambda i=run_id: self.store.delete_run(i))
        self.refresh()

    def _guard(self, title: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except Exception as exc:  # the store explains itself (StoreError, sqlite3 errors)
            dialogs.show_error(self, title, str(exc))
            return None
