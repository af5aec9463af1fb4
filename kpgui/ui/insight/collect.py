"""Collecting the person's handwriting: after drawing, a digit key (0-9) or a "This is a …"
button saves the drawing with its label (strokes, pen, canvas size, 28x28 image) to the store,
confirms in the status bar, and clears the canvas for the next one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget


class Collector(QObject):
    """Saves the canvas as a labelled sample. `image_source()` gives the current 28x28 image."""

    saved = Signal(int, int)  # sample id, label
    message = Signal(str)

    def __init__(self, store: Any, canvas: Any, image_source: Callable[[], Any] | None = None,
                 parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.canvas = canvas
        self.image_source = image_source
        self.image: np.ndarray | None = None
        self.canvas_clear: Callable[[], None] = canvas.clear
        self.shortcuts: list[QShortcut] = []

    def on_image(self, image: Any) -> None:
        self.image = None if image is None else np.asarray(image, np.float32).reshape(28, 28)

    def current_image(self, strokes: list, pen_width: float) -> np.ndarray | None:
        """The 28x28 network input of these strokes, rendered now exactly as the window does
        (so a key pressed right after the last pen move cannot save a stale picture)."""
        img = None
        if strokes:
            from kpgui.core.preprocess import strokes_to_mnist

            img = strokes_to_mnist(strokes, pen_width)
        elif self.image_source is not None:
            img = self.image_source()
        else:
            img = self.image
        return None if img is None else np.asarray(img, np.float32).reshape(28, 28)

    def install_shortcuts(self, host: QWidget) -> None:
        """Digit keys 0-9 anywhere in `host`'s window (keypad too; text fields keep typing)."""
        for d in range(10):
            sc = QShortcut(QKeySequence(str(d)), host)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(lambda d=d: self.save(d))
            self.shortcuts.append(sc)

    def save(self, label: int) -> int | None:
        """Save the current drawing as `label`; returns the sample id (None if nothing saved)."""
        if self.store is None:
            self.message.emit("Samples cannot be saved: the database is unavailable.")
            return None
        strokes = [np.asarray(s, np.float64).reshape(-1, 2) for s in (self.canvas.strokes or [])]
        strokes = [s for s in strokes if len(s)]
        if not strokes:
            self.message.emit(f"Draw a {label} first, then press {label} to keep it.")
            return None
        pen = float(self.canvas.pen_width)
        image = self.current_image(strokes, pen)
        if image is None or not np.any(image > 0):
            self.message.emit("The drawing is empty; nothing saved.")
            return None
        w, h = self.canvas.canvas_size()
        try:
            sid = self.store.add_sample(int(label), strokes, pen, (int(w), int(h)), image)
            count = self.store.sample_counts().get(int(label), 0)
        except Exception as exc:  # StoreError etc.: say it, keep the drawing
            self.message.emit(f"Not saved: {exc}")
            return None
        self.message.emit(f"Saved as {label} ({count} sample{'s' if count != 1 else ''} "
                          f"of {label})")
        self.saved.emit(sid, int(label))
        self.canvas_clear()
        return sid


class CollectBar(QWidget):
    """“This is a …” followed by ten digit buttons."""

    def __init__(self, collector: Collector, parent=None) -> None:
        super().__init__(parent)
        self.collector = collector
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        label = QLabel("This is a …")
        label.setToolTip("Keep the drawing as a sample of your handwriting (or press its key)")
        layout.addWidget(label)
        self.buttons: list[QToolButton] = []
        for d in range(10):
            b = QToolButton()
            b.setText(str(d))
            b.setToolTip(f"Save this drawing as a {d} (key {d})")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _c=False, d=d: collector.save(d))
            layout.addWidget(b)
            self.buttons.append(b)
        layout.addStretch(1)
