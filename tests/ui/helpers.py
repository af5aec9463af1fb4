"""Drawing with the mouse in window tests: press / move / release strokes on the canvas."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt


def press(qtbot, canvas, x: float, y: float) -> None:
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))


def move(qtbot, canvas, x: float, y: float) -> None:
    qtbot.mouseMove(canvas, QPoint(round(x), round(y)))


def release(qtbot, canvas, x: float, y: float) -> None:
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))


def draw(qtbot, canvas, points: np.ndarray) -> None:
    """A whole stroke through canvas-pixel `points`: press, moves, release."""
    press(qtbot, canvas, *points[0])
    for x, y in points[1:]:
        move(qtbot, canvas, x, y)
    release(qtbot, canvas, *points[-1])


def settle(qtbot, app) -> None:
    """Let the frame timer turn the canvas into a reading."""
    qtbot.wait(40)
    app.drawing.render_now()


def vertical_line(canvas, n: int = 30) -> np.ndarray:
    w, h = canvas.canvas_size()
    return np.column_stack([np.full(n, 0.5 * w), np.linspace(0.18 * h, 0.82 * h, n)])


def loop(canvas, n: int = 60) -> np.ndarray:
    """A closed oval, taller than wide, like a handwritten 0."""
    w, h = canvas.canvas_size()
    t = np.linspace(0, 2 * np.pi, n)
    return np.column_stack([0.5 * w + 0.18 * h * np.sin(t), 0.5 * h - 0.32 * h * np.cos(t)])


def seven(canvas, n: int = 40) -> np.ndarray:
    """A 7: a top bar then a long diagonal, in canvas pixels."""
    w, h = canvas.canvas_size()
    corners = np.array(
        [[0.5 * w - 0.2 * h, 0.2 * h], [0.5 * w + 0.2 * h, 0.2 * h], [0.5 * w - 0.08 * h, 0.82 * h]]
    )
    t = np.linspace(0, 2, n)
    i = np.minimum(t.astype(int), 1)
    f = (t - i)[:, None]
    return corners[i] * (1 - f) + corners[i + 1] * f


def scribble(canvas, seed: int = 0, n: int = 80) -> np.ndarray:
    """A random zig-zag scribble over the middle of the canvas: not a digit."""
    w, h = canvas.canvas_size()
    rng = np.random.default_rng(seed)
    pts = np.cumsum(rng.normal(0, 0.08 * h, (n, 2)), axis=0)
    pts -= pts.mean(axis=0)
    pts *= 0.3 * min(w, h) / max(np.abs(pts).max(), 1.0)
    return pts + [0.5 * w, 0.5 * h]


def retype(qtbot, field, text: str) -> None:
    """Select all of a line edit or spin box and type `text` over it, as a person would."""
    from PySide6.QtCore import Qt as _Qt

    field.setFocus()
    qtbot.keyClick(field, "a", modifier=_Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field, text)


def y_range(plot) -> tuple[float, float]:
    """The y-axis range a pyqtgraph plot widget shows now (log10 units on a log scale)."""
    lo, hi = plot.getPlotItem().getViewBox().viewRange()[1]
    return float(lo), float(hi)


def type_settings(qtbot, panel, settings) -> None:
    """Type the one-weight loop's starting values into its fields, as a learner does."""
    for name, spin in panel.spins.items():
        retype(qtbot, spin, f"{getattr(settings, name):g}")
    retype(qtbot, panel.iterations, str(settings.iterations))
    assert panel.settings() == settings, (panel.settings(), settings)


def shows_colour(widget) -> bool:
    """Whether `widget`, as painted on screen, has coloured pixels: the saliency heat is
    coloured, the 28x28 ink and paper are grey."""
    image = widget.grab().toImage()
    step = max(1, min(image.width(), image.height()) // 56)
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            c = image.pixelColor(x, y)
            if max(c.red(), c.green(), c.blue()) - min(c.red(), c.green(), c.blue()) > 60:
                return True
    return False
