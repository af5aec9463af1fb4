"""Where MNIST is: the file the person located (remembered), or the usual search; locating it
(checked on a thread) and downloading it with a progress dialog when it is missing."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QProgressDialog, QWidget

from kpgui.core.state import AppState
from kpgui.ui import dialogs


class DataController(QObject):
    def __init__(self, state: AppState, tasks, settings: Any, window: QWidget) -> None:
        super().__init__(window)
        self.state = state
        self.tasks = tasks
        self.settings = settings
        self.window = window
        self.located = ""  # the MNIST file the person located ("" = the usual search)

    def path(self) -> str | None:
        return self.located or None

    def ask(self, text: str) -> None:
        """MNIST is missing or unusable: offer to locate it or download it."""
        # The window's words: a command-line flag means nothing here.
        text = text.replace(" (or --data)", "").replace("--data", "File → Locate mnist.npz")
        choice = dialogs.ask_mnist(self.window, text)
        if choice == "locate":
            self.locate()
        elif choice == "download":
            self.download()

    def locate(self, path: str | None = None) -> Any:
        """Point kpgui at an mnist.npz (remembered); it is checked on a thread first."""
        if path is None:
            path = dialogs.ask_open_path(self.window, "Locate mnist.npz", dialogs.MNIST_FILTER)
            if not path:
                return None

        def check(_t):
            from kpgui.core.data.mnist import load_mnist

            load_mnist(path)
            return path

        task = self.tasks.run(check, key="mnist", doing="Reading MNIST")
        task.done.connect(self._located)
        task.failed.connect(lambda _title, text: dialogs.show_error(self.window, "Not an MNIST file", text))
        return task

    def _located(self, path: str) -> None:
        self.located = path
        if self.settings is not None:
            self.settings.setValue("data/mnist_path", path)
        self.state.say(f"MNIST found at {path}: training and evaluation will use it.", 8000)

    def download(self) -> Any:
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
        task.done.connect(lambda path: (box.close(), self._located(path)))
        task.failed.connect(
            lambda _t, text: (box.close(), dialogs.show_error(self.window, "Download failed", text))
        )
        box.canceled.connect(task.cancel)
        return task
