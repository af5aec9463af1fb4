"""The mouse wheel scrolls what is under it, and never changes a field the person did not click.

Qt gives every combo box and spin box the wheel even without focus: scrolling a form over one
silently turns relu into tanh. One application-wide event filter (installed by
`kpgui.ui.app.make_qapp`) covers every such field in every panel, present and future: without
focus the field lets the wheel pass on to its parent (the scroll area scrolls); a field takes
focus only by click or Tab, never by the wheel.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QWidget

FIELDS = (QComboBox, QAbstractSpinBox)


class WheelGuard(QObject):
    """Fields without focus ignore the wheel (it propagates to the parent that scrolls)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind == QEvent.Type.Wheel and isinstance(obj, FIELDS) and not obj.hasFocus():
            area = _scroll_area(obj)
            if area is not None:  # the form scrolls, as if the field were not there
                QApplication.sendEvent(area.viewport(), event)
                event.accept()
            else:
                event.ignore()  # ignored + filtered: Qt offers the wheel to the parent widget
            return True
        if kind == QEvent.Type.Polish and isinstance(obj, FIELDS):
            widget: QWidget = obj
            if widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel never focuses it
        return False


def _scroll_area(widget: QWidget) -> QAbstractScrollArea | None:
    """The nearest scroll area around `widget` (its own view, e.g. a combo's list, is not)."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return parent
        if parent.isWindow():
            return None
        parent = parent.parentWidget()
    return None


def install(app: QApplication) -> WheelGuard:
    """Install the guard once on `app` (again is a no-op); returns it."""
    guard = app.findChild(WheelGuard)
    if guard is None:
        guard = WheelGuard(app)
        app.installEventFilter(guard)
    return guard
