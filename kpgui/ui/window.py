"""The main window: layout, menus and shortcuts, and nothing else.

It is handed its panels by the composition root (kpgui.ui.app), which also connects every menu
action to the controller that does the work. Layout: the candidate bar across the top (only
while a finished run waits to be kept or discarded); the drawing panel (it grows with the
window) beside the prediction panel; the tabs (Training, History, Evaluation, Weights, My
digits) in a dock on the right. Fits a 1366×768 laptop: minimum size ≤ 1024×640.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QMainWindow,
    QMenu,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

TITLE = "Handwritten digits"  # Qt appends " — kpgui" (the application display name)
MIN_SIZE = (1000, 620)
MENUS = ("File", "Edit", "Model", "View", "Help")
DOCK_SHARE = 0.42


class MainWindow(QMainWindow):
    """`add_action(menu, text, slot, shortcut, tip)`, `add_tab(widget, title, shortcut)`,
    `show_tab(title)`; `close_guard()` (set by the root) may refuse a close."""

    def __init__(self, drawing: QWidget, prediction: QWidget, candidate: QWidget) -> None:
        super().__init__()
        self.setWindowTitle(TITLE)
        self.setObjectName("kpgui-main-window")
        self.close_guard: Callable[[], bool] = lambda: True
        self.on_close: Callable[[], None] = lambda: None
        self.menus: dict[str, QMenu] = {name: self.menuBar().addMenu(f"&{name}") for name in MENUS}
        self.tab_actions: dict[str, QAction] = {}

        prediction.setFixedWidth(250)  # a fixed column: answers of any length never move the canvas
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(drawing, 1)
        row.addWidget(prediction, 0)
        central = QWidget()
        central.setMaximumWidth(drawing.maximumWidth() + prediction.maximumWidth())
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(candidate)
        column.addLayout(row, 1)
        self.setCentralWidget(central)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.dock = QDockWidget("Train and explore", self)
        self.dock.setObjectName("training-dock")
        self.dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.dock.setWidget(self.tabs)
        self.dock.setMinimumWidth(360)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.setMinimumSize(*MIN_SIZE)
        self.dock_share = DOCK_SHARE  # the dock's share of the width; a drag on its edge sets it
        self._width_seen = 0
        self.dock.installEventFilter(self)
        self._fit_screen()

    def _fit_screen(self) -> None:
        """A first size that uses a laptop's screen without spilling off it."""
        screen = QGuiApplication.primaryScreen()
        width, height = 1400, 860
        if screen is not None:
            avail = screen.availableGeometry()
            width = max(MIN_SIZE[0], min(width, int(avail.width() * 0.96)))
            height = max(MIN_SIZE[1], min(height, int(avail.height() * 0.94)))
        self.resize(width, height)
        self.resizeDocks([self.dock], [int(width * self.dock_share)], Qt.Orientation.Horizontal)

    def fit_dock(self) -> None:
        """Give the dock its share of the width again, now that its tabs exist (their minimum
        widths are known only then; settling later would move the canvas under the pen)."""
        self.resizeDocks([self.dock], [self._dock_width()], Qt.Orientation.Horizontal)
        layout = self.layout()
        if layout is not None:
            layout.activate()

    def _dock_width(self) -> int:
        """The dock's width for the window's: its share (the person's last drag, else 42 %), at
        least its minimum, and all the room the drawing side cannot use (its maximum width)."""
        width = self.width()
        centre = self.centralWidget()
        central = centre.maximumWidth() if centre is not None else width
        want = max(int(width * self.dock_share), width - central - 8)
        return max(self.dock.minimumSizeHint().width(), want)

    def resizeEvent(self, event) -> None:  # noqa: N802
        """After the window is resized the dock gets its share again (Qt would give every new
        pixel to the canvas side and leave the tabs squeezed)."""
        super().resizeEvent(event)
        self._width_seen = self.width()
        if not self.dock.isFloating() and self.dock.isVisible():
            QTimer.singleShot(
                0, lambda: self.resizeDocks([self.dock], [self._dock_width()], Qt.Orientation.Horizontal)
            )

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        """A dock resized while the window keeps its width: the person dragged its edge."""
        if (
            obj is self.dock
            and event.type() == QEvent.Type.Resize
            and self.isVisible()
            and self.width() == self._width_seen
            and self.width() > 0
            and not self.dock.isFloating()
        ):
            self.dock_share = min(max(self.dock.width() / self.width(), 0.2), 0.8)
        return False

    # -- building blocks for the root ----------------------------------------------------------

    def add_action(
        self,
        menu: str,
        text: str,
        slot: Callable[..., object],
        shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None,
        tip: str = "",
        checkable: bool = False,
    ) -> QAction:
        """A menu entry (and its shortcut, which works even when the menu bar is hidden). `slot()`
        is called when it is chosen; `slot(on)` when it is `checkable` and toggled."""
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.setCheckable(checkable)
        if checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _checked=False: slot())
        self.menus[menu].addAction(action)
        self.addAction(action)
        return action

    def add_tab(
        self, widget: QWidget, title: str, shortcut: str | None = None, scroll: bool = False
    ) -> QWidget:
        """A tab in the dock, and a View-menu entry with the same name that shows it."""
        page: QWidget = widget
        if scroll:
            area = QScrollArea()
            area.setWidgetResizable(True)
            area.setFrameShape(QScrollArea.Shape.NoFrame)
            area.setWidget(widget)
            page = area
        self.tabs.addTab(page, title)

        def show() -> None:
            self.show_tab(title)

        self.tab_actions[title] = self.add_action("View", title, show, shortcut, f"Show the {title} tab")
        return page

    def tab_titles(self) -> list[str]:
        return [self.tabs.tabText(i) for i in range(self.tabs.count())]

    def show_tab(self, title: str) -> None:
        """Bring a tab (and its dock) to the front."""
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i) == title:
                self.tabs.setCurrentIndex(i)
        self.dock.show()
        self.dock.raise_()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Ask the root first (a run is going?); then let it stop everything and save."""
        if not self.close_guard():
            event.ignore()
            return
        self.on_close()
        event.accept()
