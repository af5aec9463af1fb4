"""Every dialog the window shows goes through these helpers, so tests can patch them.

Errors are for people: the text names the cause and what to do about it.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

import kpgui

MODEL_FILTER = "Keras models (*.keras);;All files (*)"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.npy);;All files (*)"


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    """A modal warning; the app keeps running afterwards."""
    QMessageBox.warning(parent, title, text)


def show_info(parent: QWidget | None, title: str, text: str) -> None:
    """A modal information box (About)."""
    QMessageBox.about(parent, title, text)


def show_text(parent: QWidget | None, title: str, text: str) -> None:
    """A read-only, copyable text window for longer content (model info)."""
    dlg = QDialog(parent)
    dlg.setWindowTitle(title)
    box = QPlainTextEdit(text)
    box.setReadOnly(True)
    box.setMinimumSize(560, 420)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dlg.reject)
    layout = QVBoxLayout(dlg)
    layout.addWidget(box)
    layout.addWidget(buttons)
    dlg.exec()


def ask_open_path(parent: QWidget | None, title: str, filters: str, start: str = "") -> str:
    """A file to open, or "" when the person cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, title, start, filters)
    return path


def ask_save_path(parent: QWidget | None, title: str, filters: str, start: str = "") -> str:
    """A file to write, or "" when the person cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, title, start, filters)
    return path


def versions_text() -> str:
    """Versions of kpgui and its libraries; TensorFlow/Keras only if already loaded."""
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
    tf = sys.modules.get("tensorflow")
    keras = sys.modules.get("keras")
    rows.append(("TensorFlow", getattr(tf, "__version__", "?") if tf else "not loaded yet"))
    rows.append(("Keras", getattr(keras, "__version__", "?") if keras else "not loaded yet"))
    return "\n".join(f"{name}: {version}" for name, version in rows)


def about_html() -> str:
    """The About box: what kpgui is and the versions in use."""
    lines = versions_text().replace("\n", "<br>")
    return (
        "<h3>kpgui</h3><p>Draw a digit and watch a dense neural network read it live; "
        "train that network on MNIST from the same window.</p>"
        f"<p>{lines}</p>"
    )
