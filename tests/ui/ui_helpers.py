"""Drawing helpers for the window tests: press / move / release strokes on the canvas."""

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


def vertical_line(canvas, n: int = 30) -> np.ndarray:
    w, h = canvas.canvas_size()
    return np.column_stack([np.full(n, 0.5 * w), np.linspace(0.18 * h, 0.82 * h, n)])


def loop(canvas, n: int = 60) -> np.ndarray:
    """A closed oval, taller than wide, like a handwritten 0."""
    w, h = canvas.canvas_size()
    t = np.linspace(0, 2 * np.pi, n)
    return np.column_stack([0.5 * w + 0.22 * w * np.sin(t), 0.5 * h - 0.32 * h * np.cos(t)])
