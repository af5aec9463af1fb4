"""My digits: the person's own samples as thumbnails grouped by digit with counts; relabel,
delete (after asking), export to / import from one `.npz` file.

A model/view that stays quick with 100,000 samples: the list is the state's `sample_index`
(ids and labels, read on a thread by the sample controller), the view asks only for the rows
on screen, and their pictures come from the controller's `Thumbnails` (read and drawn on a
thread, kept). The panel never touches the store; every change is an intent."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QItemSelectionModel,
    QModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kpgui.core.display.words import count
from kpgui.core.state import AppState, SampleIndex
from kpgui.ui import dialogs
from kpgui.ui.images import thumbnail_list

ALL = -1
ID_ROLE = Qt.ItemDataRole.UserRole


class SamplesModel(QAbstractListModel):
    """The samples of one digit (or all) as rows: id and label arrays, pictures on demand."""

    def __init__(self, thumbnails: Any, parent=None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.ids = np.zeros(0, np.int64)
        self.labels = np.zeros(0, np.uint8)
        if thumbnails is not None:
            thumbnails.ready.connect(self._pictures_arrived)

    def set_rows(self, ids: np.ndarray, labels: np.ndarray) -> None:
        self.beginResetModel()
        self.ids, self.labels = ids, labels
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.ids)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.ids):
            return None
        sid, label = int(self.ids[index.row()]), int(self.labels[index.row()])
        if role == Qt.ItemDataRole.DisplayRole:
            return str(label)
        if role == ID_ROLE:
            return sid
        if role in (Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole):
            picture = self.thumbnails.get(sid) if self.thumbnails is not None else None
            if role == Qt.ItemDataRole.DecorationRole:
                return None if picture is None else picture[0]
            if picture is None:
                return f"sample #{sid}: {label}"
            if picture[0] is None:
                return f"sample #{sid}: {label} — its stored picture is damaged (delete it)"
            return f"sample #{sid}: {label}, drawn {picture[1]}"
        return None

    def _pictures_arrived(self) -> None:
        if len(self.ids):
            self.dataChanged.emit(
                self.index(0), self.index(len(self.ids) - 1), [Qt.ItemDataRole.DecorationRole]
            )


class SamplesPanel(QWidget):
    """Intents: `relabel_requested(ids, label)`, `delete_requested(ids)` (already confirmed),
    `export_requested(path)`, `import_requested(path)`, `open_requested(id)`."""

    relabel_requested = Signal(object, int)
    delete_requested = Signal(object)
    export_requested = Signal(str)
    import_requested = Signal(str)
    open_requested = Signal(int)

    def __init__(self, state: AppState, thumbnails: Any, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.counts: dict[int, int] = dict.fromkeys(range(10), 0)
        self.index = SampleIndex()

        self.groups = QListWidget()
        self.groups.setFixedWidth(120)
        self.groups.currentRowChanged.connect(lambda _r: self._fill_grid())
        self.model = SamplesModel(thumbnails, self)
        self.grid = thumbnail_list(QSize(70, 80), kind=QListView)
        self.grid.setModel(self.model)
        self.grid.setLayoutMode(QListView.LayoutMode.Batched)  # 100,000 rows: laid out in steps
        self.grid.setBatchSize(500)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.grid.customContextMenuRequested.connect(self._context_menu)
        self.grid.doubleClicked.connect(lambda index: self._open(index))
        self.grid.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.relabel_combo = QComboBox()
        self.relabel_combo.addItems([str(d) for d in range(10)])
        self.relabel_button = QPushButton("Relabel as")
        self.delete_button = QPushButton("Delete…")
        self.export_button = QPushButton("Export…")
        self.import_button = QPushButton("Import…")
        self.relabel_button.clicked.connect(
            lambda: self.relabel_selected(int(self.relabel_combo.currentText()))
        )
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        self.export_button.clicked.connect(lambda: self.export_to())
        self.import_button.clicked.connect(lambda: self.import_from())
        buttons = QHBoxLayout()
        buttons.addWidget(self.relabel_button)
        buttons.addWidget(self.relabel_combo)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.import_button)

        body = QHBoxLayout()
        body.addWidget(self.groups)
        body.addWidget(self.grid, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(body, 1)
        layout.addLayout(buttons)
        state.events.sample_index.connect(self.show_index)
        self.show_index(state.sample_index)

    # -- reading -------------------------------------------------------------------------------

    @property
    def current_label(self) -> int:
        row = self.groups.currentRow()
        return ALL if row <= 0 else row - 1

    def show_index(self, index: SampleIndex) -> None:
        """Show the samples the controller read, keeping the chosen group."""
        if index.error:
            self.summary.setText(f"Could not read your samples: {index.error}")
            return
        keep = self.current_label
        self.index = index
        self.counts = index.counts
        total = sum(self.counts.values())
        self.groups.blockSignals(True)
        self.groups.clear()
        self.groups.addItem(f"All digits ({total})")
        for d in range(10):
            self.groups.addItem(f"{d}   ({self.counts.get(d, 0)})")
        self.groups.setCurrentRow(0 if keep == ALL else keep + 1)
        self.groups.blockSignals(False)
        if total:
            missing = [str(d) for d in range(10) if not self.counts.get(d)]
            gap = f" No samples of {', '.join(missing)} yet." if missing else ""
            self.summary.setText(
                f"{total} sample{'s' if total != 1 else ''} of your handwriting."
                f"{gap} Right-click a picture to relabel or delete it; "
                "double-click shows it in the canvas."
            )
        else:
            self.summary.setText(
                "No samples yet: draw a digit and press its key (0-9) or click “This is a …” to keep it here."
            )
        if index.skipped:
            self.summary.setText(
                self.summary.text() + f" {count(index.skipped, 'damaged sample')} "
                "could not be read and are left out."
            )
        self._fill_grid()

    def _fill_grid(self) -> None:
        label = self.current_label
        ids, labels = self.index.ids, self.index.labels
        if label != ALL:  # the index is sorted by label: one digit is one slice
            lo, hi = np.searchsorted(labels, [label, label + 1])
            ids, labels = ids[lo:hi], labels[lo:hi]
        self.model.set_rows(ids, labels)
        self._update_buttons()

    def selected_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        return [int(self.model.ids[r]) for r in rows if r < len(self.model.ids)]

    def _update_buttons(self) -> None:
        has = self.grid.selectionModel().hasSelection()
        self.relabel_button.setEnabled(has)
        self.delete_button.setEnabled(has)
        self.export_button.setEnabled(bool(len(self.index.ids)))

    # -- changing (intents) --------------------------------------------------------------------

    def relabel_selected(self, label: int) -> None:
        ids = self.selected_ids()
        if ids:
            self.relabel_requested.emit(ids, int(label))

    def delete_selected(self) -> None:
        """Ask, then ask the controller to delete the selected samples."""
        ids = self.selected_ids()
        if not ids:
            return
        if not dialogs.ask_yes_no(
            self,
            "Delete samples",
            ("Delete this sample?" if len(ids) == 1 else f"Delete {len(ids)} of your samples?")
            + " This cannot be "
            "undone (export them first to keep a copy).",
            yes="Delete",
        ):
            return
        self.delete_requested.emit(ids)

    def export_to(self, path: str | None = None) -> None:
        if path is None:
            from kpgui.core.storage.samplefiles import samples_targets

            # backup -> backup.npz: the question names the file really written.
            path = dialogs.ask_save_target(self, "Export your samples", dialogs.NPZ_FILTER, samples_targets)
            if not path:
                return
        self.export_requested.emit(path)

    def import_from(self, path: str | None = None) -> None:
        if path is None:
            path = dialogs.ask_open_path(self, "Import samples", dialogs.NPZ_FILTER)
            if not path:
                return
        self.import_requested.emit(path)

    # -- menus ---------------------------------------------------------------------------------

    def _context_menu(self, pos) -> None:
        index = self.grid.indexAt(pos)
        if not index.isValid():
            return
        if not self.grid.selectionModel().isSelected(index):
            self.grid.selectionModel().select(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        menu = self.build_context_menu()
        menu.exec(self.grid.viewport().mapToGlobal(pos))

    def build_context_menu(self) -> QMenu:
        menu = QMenu(self)
        ids = self.selected_ids()
        if len(ids) == 1:
            menu.addAction("Show in the canvas", lambda: self.open_requested.emit(ids[0]))
        sub = menu.addMenu("Relabel as")
        for d in range(10):
            sub.addAction(str(d), partial(self.relabel_selected, d))
        menu.addAction("Delete…", self.delete_selected)
        return menu

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_requested.emit(int(index.data(ID_ROLE)))
