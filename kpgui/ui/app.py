"""Starting the window: QApplication set-up (name/organisation "kpgui", icon) and the event loop."""

from __future__ import annotations

import signal
import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from kpgui.paths import APP_NAME


def app_icon() -> QIcon:
    """The app icon from resources/icons (an empty icon if the file is missing)."""
    try:
        from kpgui.core.resources import resource_path

        path = resource_path("icons", "kpgui.svg")
    except FileNotFoundError:
        return QIcon()
    return QIcon(str(path)) if path.is_file() else QIcon()


def make_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), named so QSettings/QStandardPaths use "kpgui"."""
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName("kpgui")
    app.setWindowIcon(app_icon())
    return app


def show_main_window():
    """Build and show the main window with the shipped model; the insight panels (history,
    evaluation, saliency, weights, your samples, fine-tuning) are added on the event loop's next
    turn, after the window has painted: drawing and predicting work from the first moment.
    (Measured in benchmarks/bench_startup.py, which starts the window through this function.)"""
    from kpgui.ui.main_window import MainWindow

    window = MainWindow()
    window.show()

    def add_insight() -> None:
        from kpgui.ui.insight import install  # imports pyqtgraph: not before the first paint

        install(window)

    QTimer.singleShot(0, add_insight)
    return window


def run_app(argv: list[str] | None = None) -> int:
    """Open the main window with the shipped model and run until it is closed; exit code."""
    app = make_app(argv)
    window = show_main_window()
    # Ctrl+C in the terminal closes the window the normal way (stopping any run); the timer
    # gives Python a moment now and then to notice the signal while Qt's loop runs.
    try:
        signal.signal(signal.SIGINT, lambda *_: window.close())
    except ValueError:  # not the main thread (embedded use): keep the default handler
        pass
    wakeup = QTimer()
    wakeup.timeout.connect(lambda: None)
    wakeup.start(250)
    code = app.exec()
    wakeup.stop()
    session = window.training_session
    if session is not None and session.is_running():  # closed some other way: never orphan it
        session.stop(abort=True)
        session.wait(30000)
    return int(code)
