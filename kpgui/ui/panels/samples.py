"""My digits: the person's own samples as thumbnails grouped by digit with counts; relabel,
delete (after asking), export to / import from one `.npz` file. The panel reads the store to
show the samples and forwards every change to the sample controller (intents)."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kpgui.core.state import AppState
from kpgui.core.words import count
from kpgui.ui import dialogs
from kpgui.ui.images import thumbnail_icon, thumbnail_list

ALL = -1


class SamplesPanel(QWidget):
    """Intents: `relabel_requested(ids, label)`, `delete_requested(ids)` (already confirmed),
    `export_requested(path)`, `import_requested(path)`, `image_chosen(img28, caption)`."""

    relabel_requested = Signal(object, int)
    delete_requested = Signal(object)
    export_requested = Signal(str)
    import_requested = Signal(str)
    image_chosen = Signal(object, str)

    def __init__(self, state: AppState, store: Any, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.store = store
        self.counts: dict[int, int] = dict.fromkeys(range(10), 0)
        self.records: list[Any] = []

        self.groups = QListWidget()
        self.groups.setFixedWidth(120)
        self.groups.currentRowChanged.connect(lambda _r: self._fill_grid())
        self.grid = thumbnail_list(QSize(70, 80))
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.grid.customContextMenuRequested.connect(self._context_menu)
        self.grid.itemDoubleClicked.connect(self._open_item)
        self.grid.itemSelectionChanged.connect(self._update_buttons)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.relabel_combo = QComboBox()
        self.relabel_combo.addItems([str(d) for d in range(10)])
        self.relabel_button = QPushButton("Relabel as")
        self.delete_button = QPushButton("Delete…")
        self.export_button = QPushButton("Export…")
        self.import_button = QPushButton("Import…")
        self.relabel_button.clicked.connect(
            lambda: self.relabel_selected(int(self.relabel_combo.currentText())))
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
        state.events.samples.connect(self.refresh)
        self.refresh()

    # -- reading -------------------------------------------------------------------------------

    @property
    def current_label(self) -> int:
        row = self.groups.currentRow()
        return ALL if row <= 0 else row - 1

    def refresh(self) -> None:
        """Re-read samples and counts from the store, keeping the chosen group."""
        keep = self.current_label
        try:
            self.counts = self.store.sample_counts()
            self.records = self.store.list_samples()
        except Exception as exc:
            self.summary.setText(f"Could not read your samples: {exc}")
            return
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
            self.summary.setText(f"{total} sample{'s' if total != 1 else ''} of your handwriting."
                                 f"{gap} Right-click a picture to relabel or delete it; "
                                 "double-click shows it in the canvas.")
        else:
            self.summary.setText("No samples yet: draw a digit and press its key (0-9) or click "
                                 "“This is a …” to keep it here.")
        skipped = self.store.skipped
        if skipped:
            self.summary.setText(self.summary.text() + f" {count(len(skipped), 'damaged sample')} could "
                                 "not be read and are left out.")
        self._fill_grid()

    def _fill_grid(self) -> None:
        label = self.current_label
        records = [r for r in self.records if label == ALL or r.label == label]
        records.sort(key=lambda r: (r.label, r.id))
        self.grid.setUpdatesEnabled(False)
        self.grid.clear()
        for r in records:
            item = QListWidgetItem(thumbnail_icon(r.image, 2), str(r.label))
            item.setData(Qt.ItemDataRole.UserRole, int(r.id))
            item.setToolTip(f"sample #{r.id}: {r.label}, drawn {r.created_at}")
            self.grid.addItem(item)
        self.grid.setUpdatesEnabled(True)
        self._update_buttons()

    def shown_ids(self) -> list[int]:
        return [int(self.grid.item(i).data(Qt.ItemDataRole.UserRole))
                for i in range(self.grid.count())]

    def selected_ids(self) -> list[int]:
        return [int(i.data(Qt.ItemDataRole.UserRole)) for i in self.grid.selectedItems()]

    def select_ids(self, ids: list[int]) -> None:
        wanted = set(ids)
        for i in range(self.grid.count()):
            item = self.grid.item(i)
            item.setSelected(int(item.data(Qt.ItemDataRole.UserRole)) in wanted)

    def _update_buttons(self) -> None:
        has = bool(self.grid.selectedItems())
        self.relabel_button.setEnabled(has)
        self.delete_button.setEnabled(has)
        self.export_button.setEnabled(bool(self.records))

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
            self, "Delete samples",
            ("Delete this sample?" if len(ids) == 1 else f"Delete {len(ids)} of your samples?")
            + " This cannot be "
            "undone (export them first to keep a copy).", yes="Delete",
        ):
            return
        self.delete_requested.emit(ids)

    def export_to(self, path: str | None = None) -> None:
        if path is None:
            from kpgui.core.sample_io import samples_targets

            # backup -> backup.npz: the question names the file really written.
            path = dialogs.ask_save_target(self, "Export your samples", dialogs.NPZ_FILTER,
                                           samples_targets)
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
        item = self.grid.itemAt(pos)
        if item is None:
            return
        if not item.isSelected():
            self.grid.clearSelection()
            item.setSelected(True)
        menu = self.build_context_menu()
        menu.exec(self.grid.viewport().mapToGlobal(pos))

    def build_context_menu(self) -> QMenu:
        menu = QMenu(self)
        if len(self.selected_ids()) == 1:
            menu.addAction("Show in the canvas",
                           lambda: self._open_item(self.grid.selectedItems()[0]))
        sub = menu.addMenu("Relabel as")
        for d in range(10):
            sub.addAction(str(d), lambda d=d: self.relabel_selected(d))
        menu.addAction("Delete…", self.delete_selected)
        return menu

    def _open_item(self, item: QListWidgetItem) -> None:
        sid = int(item.data(Qt.ItemDataRole.UserRole))
        rec = next((r for r in self.records if r.id == sid), None)
        if rec is not None:
            self.image_chosen.emit(np.asarray(rec.image, np.float32),
                                   f"your sample #{rec.id}: labelled {rec.label}")
