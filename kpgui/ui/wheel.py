"""The mouse wheel scrolls what is under it, and never changes a field the person did not click.

Qt gives every combo box and spin box the wheel even without focus: scrolling a form over one
silently turns relu into tanh. The composition root calls `guard(window)` once each build step
is done (`kpgui.ui.app`), which covers every such field in every panel: without focus the field
lets the wheel pass on to its parent (the scroll area scrolls); a field takes focus only by
click or Tab, never by the wheel.

The guard sits on the fields themselves, not on the QApplication: an application-wide Python
event filter sees every event of every object, and PySide 6.11 crashed (a segfault in its lazy
type loading) when such a filter was handed an event for a widget still being constructed.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QWidget

FIELDS = (QComboBox, QAbstractSpinBox)


class WheelGuard(QObject):
    """Fields without focus ignore the wheel (it propagates to the parent that scrolls)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Wheel and isinstance(obj, FIELDS) and not obj.hasFocus():
            area = _scroll_area(obj)
            if area is not None:  # the form scrolls, as if the field were not there
                QApplication.sendEvent(area.viewport(), event)
                event.accept()
            else:
                event.ignore()  # ignored + filtered: Qt offers the wheel to the parent widget
            return True
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


def guard(root: QWidget) -> None:
    """Guard every combo box and spin box under `root` (again is harmless: Qt keeps one copy of
    a filter installed twice)."""
    app = QApplication.instance()
    shared = app.findChild(WheelGuard) if app is not None else None
    if shared is None:
        shared = WheelGuard(app)
    for kind in FIELDS:
        for field in root.findChildren(kind):
            field.installEventFilter(shared)
            if field.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel never focuses it
