"""Dialogs of the insight panels, all through these few patchable helpers.

Errors, file choosers go through `kpgui.ui.dialogs` (looked up at call time, so a test that
patches either module is obeyed); the yes/no question is ours.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from kpgui.ui import dialogs as _ui

NPZ_FILTER = "Sample files (*.npz);;All files (*)"


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    """A modal warning; the app keeps running afterwards."""
    _ui.show_error(parent, title, text)


def ask_yes_no(parent: QWidget | None, title: str, text: str) -> bool:
    """True when the person answers Yes (the default button is No)."""
    answer = QMessageBox.question(
        parent, title, text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_open_path(parent: QWidget | None, title: str, filters: str = NPZ_FILTER) -> str:
    return _ui.ask_open_path(parent, title, filters)


def ask_save_path(parent: QWidget | None, title: str, filters: str = NPZ_FILTER) -> str:
    return _ui.ask_save_path(parent, title, filters)
