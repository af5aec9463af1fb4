"""Where MNIST is, decided once for the whole window: the file the person located (remembered),
else $KPGUI_MNIST, else the Keras cache. Training, evaluation, the candidate's measurement,
fine-tuning and Inside all get MNIST from here; nothing here downloads unless the person asks
(the MNIST dialog's Download button). Locating a file checks it on a thread first."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QProgressDialog, QWidget

from kpgui.core.data.mnist import DatasetError
from kpgui.core.state import AppState
from kpgui.ui import dialogs
from kpgui.ui.tasks import Task, Tasks

NOT_FOUND = "kpgui could not find the MNIST digits (mnist.npz) on this computer."


class DataController(QObject):
    """`find()` / `require()` say which file to use; `test_set()` reads its test half (any
    thread, kept for the next caller); `ask(text)` offers to locate or download it."""

    def __init__(self, state: AppState, tasks: Tasks, settings: Any, window: QWidget | None = None) -> None:
        super().__init__(window)
        self.state = state
        self.tasks = tasks
        self.settings = settings
        self.window = window
        self.located = ""  # the MNIST file the person located ("" = the usual search)
        self._lock = threading.Lock()
        self._test: tuple[Path, tuple[np.ndarray, np.ndarray]] | None = None  # (file, its test half)

    def path(self) -> str | None:
        """The file the person located, or None (for the Keras code kpgui writes)."""
        return self.located or None

    def find(self) -> Path | None:
        """The MNIST file to use, or None when there is none on this computer. A located file
        (or $KPGUI_MNIST) that is gone is a DatasetError: the person asked for that file."""
        from kpgui.core.data.mnist import find_mnist

        return find_mnist(self.located or None)

    def require(self) -> Path:
        """The MNIST file to use; a DatasetError saying how to get one when there is none."""
        found = self.find()
        if found is None:
            raise DatasetError(f"{NOT_FOUND} Locate the file, or download it.")
        return found

    def test_set(self) -> tuple[np.ndarray, np.ndarray]:
        """(x_test, y_test) of the file to use: only the test half is read, once per file
        (evaluation, the candidate's measurement and Inside share it). Any thread."""
        from kpgui.core.data.mnist import load_mnist_test

        found = self.require()
        with self._lock:
            if self._test is not None and self._test[0] == found:
                return self._test[1]
        arrays = load_mnist_test(found)
        with self._lock:
            self._test = (found, arrays)
        return arrays

    def ask(self, text: str) -> None:
        """MNIST is missing or unusable: offer to locate it or download it."""
        # The window's words: a command-line flag means nothing here.
        text = text.replace(" (or --data)", "").replace("--data", "File → Locate mnist.npz")
        choice = dialogs.ask_mnist(self.window, text)
        if choice == "locate":
            self.locate()
        elif choice == "download":
            self.download()

    def locate(self, path: str | None = None) -> Task | None:
        """Point kpgui at an mnist.npz (remembered); it is checked on a thread first."""
        if path is None:
            path = dialogs.ask_open_path(self.window, "Locate mnist.npz", dialogs.MNIST_FILTER)
            if not path:
                return None
        chosen = path

        def check(_task: Task) -> str:
            from kpgui.core.data.mnist import load_mnist

            load_mnist(chosen)  # an explicit file: read and checked, never a download
            return chosen

        task = self.tasks.run(check, key="mnist", doing="Reading MNIST")
        task.done.connect(self._located)
        task.failed.connect(lambda _title, text: dialogs.show_error(self.window, "Not an MNIST file", text))
        return task

    def _located(self, path: str) -> None:
        self.located = path
        if self.settings is not None:
            self.settings.setValue("data/mnist_path", path)
        self.state.say(f"MNIST found at {path}: training and evaluation will use it.", 8000)

    def download(self) -> Task:
        """Download MNIST into the Keras cache with a progress dialog (cancellable)."""
        from kpgui.core.data.download import download_mnist

        box = QProgressDialog("Downloading MNIST (11 MB)…", "Cancel", 0, 100, self.window)
        box.setWindowTitle("Downloading MNIST")
        box.setMinimumDuration(0)
        task = self.tasks.run(
            lambda t: str(
                download_mnist(
                    progress=lambda done, total: t.report((done, total)), cancelled=lambda: t.cancelled
                )
            ),
            key="mnist",
            doing="Downloading MNIST",
        )

        def progress(value: tuple[int, int]) -> None:
            done, total = value
            box.setValue(int(100 * done / total) if total else 0)

        task.progress.connect(progress)

        def done(path: str) -> None:
            box.close()
            self._located(path)

        def failed(_title: str, text: str) -> None:
            box.close()
            dialogs.show_error(self.window, "Download failed", text)

        task.done.connect(done)
        task.failed.connect(failed)
        box.canceled.connect(task.cancel)
        return task
