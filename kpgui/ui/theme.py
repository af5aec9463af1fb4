"""Light and dark: the colours of the canvas, charts, thumbnails and preview follow the desktop.

The palette decides (a dark desktop theme gives a dark Base colour); View → Theme can force
Light or Dark (Qt's Fusion style with a light or dark palette) where the desktop gives none.
Views ask here for their colours when they paint, and repaint on `QEvent.PaletteChange`.
"""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle

from kpgui.core.display.runnames import RUN_COLOURS as _RUN_PALETTE

THEMES = ("system", "light", "dark")
RUN_COLOURS = list(_RUN_PALETTE)  # declared once, in kpgui.core.display.runnames (see RunColours)
LIVE_TRAIN = "#1f6fd1"
LIVE_VAL = "#e06a10"
ACCENT = "#e6781e"


def palette() -> QPalette:
    app = QGuiApplication.instance()
    return app.palette() if isinstance(app, QGuiApplication) else QPalette()


def is_dark() -> bool:
    """The window background is dark (by the desktop theme or View → Theme)."""
    return palette().color(QPalette.ColorRole.Window).lightness() < 128


def paper() -> QColor:
    """The canvas and thumbnails' background."""
    return palette().color(QPalette.ColorRole.Base)


def ink() -> QColor:
    """Strokes on the canvas and digits in thumbnails."""
    return palette().color(QPalette.ColorRole.Text)


def faint() -> QColor:
    """Hints and frames: between paper and ink."""
    p, i = paper(), ink()
    return QColor(
        (2 * p.red() + i.red()) // 3, (2 * p.green() + i.green()) // 3, (2 * p.blue() + i.blue()) // 3
    )


def chart_background() -> QColor:
    return palette().color(QPalette.ColorRole.Base)


def chart_foreground() -> QColor:
    return palette().color(QPalette.ColorRole.Text)


def bar_colour() -> QColor:
    return QColor(110, 130, 165) if is_dark() else QColor(150, 170, 200)


def _dark_palette() -> QPalette:
    p = QPalette()
    roles = QPalette.ColorRole
    colours = {
        roles.Window: (45, 45, 48),
        roles.WindowText: (230, 230, 230),
        roles.Base: (30, 30, 32),
        roles.AlternateBase: (45, 45, 48),
        roles.ToolTipBase: (60, 60, 64),
        roles.ToolTipText: (230, 230, 230),
        roles.Text: (230, 230, 230),
        roles.Button: (55, 55, 58),
        roles.ButtonText: (230, 230, 230),
        roles.BrightText: (255, 80, 80),
        roles.Highlight: (42, 130, 218),
        roles.HighlightedText: (255, 255, 255),
        roles.Link: (100, 170, 255),
        roles.PlaceholderText: (140, 140, 140),
    }
    for role, rgb in colours.items():
        p.setColor(role, QColor(*rgb))
    for role in (roles.Text, roles.ButtonText, roles.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    return p


class _OutlinedFusion(QProxyStyle):
    """Fusion whose check boxes keep a visible frame on the dark palette (Fusion draws it a
    shade darker than the window: on dark grey an unticked box was nearly invisible)."""

    _BOXES = (
        QStyle.PrimitiveElement.PE_IndicatorCheckBox,
        QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
    )

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawPrimitive(self, element, option, painter, widget=None) -> None:  # noqa: N802
        super().drawPrimitive(element, option, painter, widget)
        if element in self._BOXES and is_dark():
            painter.save()
            painter.setPen(QColor(150, 150, 150))
            painter.setBrush(QColor(0, 0, 0, 0))
            side = min(option.rect.width(), option.rect.height()) - 1
            box = QRect(0, 0, side, side)
            box.moveCenter(option.rect.center())
            painter.drawRect(box)
            painter.restore()


_system_palette: QPalette | None = None
_system_style: str | None = None


def apply_theme(name: str) -> None:
    """ "system" keeps the desktop's look; "light" and "dark" use Fusion with that palette."""
    global _system_palette, _system_style
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    if _system_palette is None:
        _system_palette = QPalette(app.palette())
        _system_style = app.style().name()
    if name == "dark":
        app.setStyle(_OutlinedFusion())
        app.setPalette(_dark_palette())
    elif name == "light":
        app.setStyle("Fusion")
        app.setPalette(app.style().standardPalette())
    else:
        if _system_style:
            app.setStyle(_system_style)
        app.setPalette(_system_palette)
