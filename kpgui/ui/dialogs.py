"""Every dialog the window shows goes through these helpers, so tests can patch them.

Errors are for people: the text names the cause and what to do about it (the words come from
kpgui.core.display.errors or from the error itself).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

import kpgui
from kpgui.ui import settings as app_settings

MODEL_FILTER = "Keras models (*.keras);;All files (*)"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.npy);;All files (*)"
NPZ_FILTER = "Sample files (*.npz);;All files (*)"
MNIST_FILTER = "MNIST (mnist.npz *.npz);;All files (*)"
EXPERIMENT_FILTER = "kpgui experiments (*.json);;All files (*)"


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    """A modal warning; the app keeps running afterwards."""
    QMessageBox.warning(parent, title, text)


def show_info(parent: QWidget | None, title: str, text: str) -> None:
    """A modal information box (About)."""
    QMessageBox.about(parent, title, text)


def ask_yes_no(parent: QWidget | None, title: str, text: str, yes: str = "Yes") -> bool:
    """True when the person answers yes (the default button is No: nothing happens by accident)."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    yes_button = box.addButton(yes, QMessageBox.ButtonRole.YesRole)
    no_button = box.addButton(QMessageBox.StandardButton.No)
    box.setDefaultButton(no_button)
    box.exec()
    return box.clickedButton() is yes_button


def ask_mnist(parent: QWidget | None, text: str) -> str | None:
    """MNIST is missing or unreadable: "locate" (pick the file), "download" or None."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, "MNIST needed", text, QMessageBox.StandardButton.NoButton, parent
    )
    box.setInformativeText("Training and evaluation need the MNIST digits (mnist.npz, 11 MB).")
    locate = box.addButton("Locate mnist.npz…", QMessageBox.ButtonRole.AcceptRole)
    download = box.addButton("Download it", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(locate)
    box.exec()
    clicked = box.clickedButton()
    return "locate" if clicked is locate else "download" if clicked is download else None


def show_html(parent: QWidget | None, title: str, html: str, size: tuple[int, int] = (560, 420)) -> None:
    """A read-only, scrollable, copyable rich-text window (model info, help)."""
    dlg = QDialog(parent)
    dlg.setWindowTitle(title)
    box = QTextBrowser()
    box.setOpenExternalLinks(True)
    box.setHtml(html)
    box.setMinimumSize(*size)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dlg.reject)
    layout = QVBoxLayout(dlg)
    layout.addWidget(box)
    layout.addWidget(buttons)
    dlg.exec()


_folders = None  # the QSettings that remember the last folder used (kpgui.ui.app sets it)


def remember_folders(store) -> None:
    """Every file dialog opens in the folder of the last file chosen (kept in `store`)."""
    global _folders
    _folders = store


def _start_in(start: str) -> str:
    """A bare file name (a suggestion) goes in the last folder used; "" is that folder."""
    folder = app_settings.last_folder(_folders)
    if not folder or (start and os.path.dirname(start)):
        return start
    return os.path.join(folder, start) if start else folder


def ask_open_path(parent: QWidget | None, title: str, filters: str, start: str = "") -> str:
    """A file to open, or "" when the person cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, title, _start_in(start), filters)
    app_settings.remember_folder(_folders, path)
    return path


def ask_save_path(
    parent: QWidget | None, title: str, filters: str, start: str = "", confirm: bool = True
) -> str:
    """A file to write, or "" when the person cancelled. With `confirm=False` the dialog does not
    ask about replacing the name typed: the caller asks about the files really written
    (ask_save_target)."""
    options = QFileDialog.Option(0) if confirm else QFileDialog.Option.DontConfirmOverwrite
    path, _ = QFileDialog.getSaveFileName(parent, title, _start_in(start), filters, "", options)
    app_settings.remember_folder(_folders, path)
    return path


def ask_save_target(
    parent: QWidget | None,
    title: str,
    filters: str,
    targets: Callable[[str], Sequence[Path]],
    start: str = "",
) -> str:
    """Where to save, as the first of `targets(typed name)` — the files a save really writes
    (a suffix added, a card beside it) — or "" when cancelled. When any of them exists, the
    question names every one that would be replaced (and says when one is not kpgui's, like
    a .json of notes where a model card goes); the default answer keeps them."""
    typed = ask_save_path(parent, title, filters, start, False)
    if not typed:
        return ""
    files = [Path(t) for t in targets(typed)]
    existing = [f for f in files if f.exists()]
    if existing:
        from kpgui.core.storage.saving import is_model_card

        lines = "\n".join(
            f"  {f}"
            + (
                "  (not a kpgui model card)"
                if f.suffix == ".json" and f != files[0] and not is_model_card(f)
                else ""
            )
            for f in existing
        )
        if not ask_yes_no(
            parent,
            "Replace files?",
            f"Saving as {files[0].name} writes {len(files)} file(s); these exist "
            f"already and would be replaced:\n\n{lines}\n\nReplace them?",
            yes="Replace",
        ):
            return ""
    return str(files[0])


def _input(parent: QWidget | None, title: str, label: str) -> QInputDialog:
    """An input dialog wide enough for its whole title (Qt appends " — kpgui" to it)."""
    dlg = QInputDialog(parent)
    dlg.setWindowTitle(title)
    dlg.setLabelText(label)
    dlg.setMinimumWidth(dlg.fontMetrics().horizontalAdvance(f"{title} — kpgui") + 160)
    return dlg


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> tuple[str, bool]:
    """(text, True) or ("", False) when the person cancelled."""
    dlg = _input(parent, title, label)
    dlg.setTextValue(text)
    ok = dlg.exec() == QDialog.DialogCode.Accepted
    return (dlg.textValue(), True) if ok else ("", False)


def ask_int(
    parent: QWidget | None, title: str, label: str, value: int, low: int, high: int
) -> tuple[int, bool]:
    """(number, True) or (value, False) when the person cancelled."""
    dlg = _input(parent, title, label)
    dlg.setInputMode(QInputDialog.InputMode.IntInput)
    dlg.setIntRange(low, high)
    dlg.setIntValue(value)
    ok = dlg.exec() == QDialog.DialogCode.Accepted
    return (dlg.intValue(), True) if ok else (value, False)


def versions_text() -> str:
    """Versions of kpgui and its libraries (TensorFlow runs in the training process, so the
    window reports the installed version without importing it)."""
    import numpy
    import pyqtgraph
    import PySide6
    from PySide6.QtCore import qVersion

    rows = [
        ("kpgui", kpgui.__version__),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("pyqtgraph", pyqtgraph.__version__),
        ("NumPy", numpy.__version__),
        ("Python", sys.version.split()[0]),
    ]
    from importlib.metadata import PackageNotFoundError, version

    for dist, label in (("tensorflow", "TensorFlow"), ("keras", "Keras")):
        try:
            rows.append((label, version(dist)))
        except PackageNotFoundError:
            rows.append((label, "not installed"))
    return "\n".join(f"{name}: {version}" for name, version in rows)


def about_html() -> str:
    """The About box: what kpgui is and the versions in use."""
    lines = versions_text().replace("\n", "<br>")
    return (
        "<h3>kpgui</h3><p>Draw a digit and watch a dense neural network read it live; "
        "train that network on MNIST from the same window.</p>"
        f"<p>{lines}</p>"
    )


PYTHON_FILTER = "Python scripts (*.py);;All files (*)"


class CodeDialog(QDialog):
    """A script to read, copy or save ("Show as Keras code…"). `save(path)` writes it; a
    failure is shown as a dialog naming cause and fix."""

    def __init__(self, parent: QWidget | None, title: str, code: str, suggestion: str, save) -> None:
        from PySide6.QtGui import QFontDatabase
        from PySide6.QtWidgets import QLabel, QPlainTextEdit, QPushButton

        super().__init__(parent)
        self.setWindowTitle(title)
        self.code, self.suggestion, self._save = code, suggestion, save
        self.text = QPlainTextEdit(code)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setMinimumSize(720, 480)
        self.note = QLabel("A plain Keras script: run it with `python` where Keras and NumPy are installed.")
        self.note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy")
        self.save_button = QPushButton("Save…")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self.copy_code)
        self.save_button.clicked.connect(lambda: self.ask_save())
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.note)
        layout.addWidget(buttons)

    def copy_code(self) -> None:
        from PySide6.QtGui import QGuiApplication

        QGuiApplication.clipboard().setText(self.code)
        self.note.setText("Copied to the clipboard.")

    def ask_save(self) -> None:
        path = ask_save_path(self, "Save the script", PYTHON_FILTER, self.suggestion)
        if not path:
            return
        try:
            saved = self._save(path)
        except OSError as exc:
            from kpgui.core.display.errors import describe

            show_error(self, *describe(exc, "Saving the script"))
            return
        self.note.setText(f"Saved to {saved or path}.")


def show_code(parent: QWidget | None, title: str, code: str, suggestion: str, save) -> None:
    """Show a script with Copy and Save… (modal)."""
    CodeDialog(parent, title, code, suggestion, save).exec()
