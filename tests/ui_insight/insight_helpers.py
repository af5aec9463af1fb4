"""Fixtures for the insight tests: a shown MainWindow with the insight panels installed."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from PySide6.QtCore import QPoint, Qt

from kpgui.core.spec import ModelSpec


def open_window(qtbot, store=None):
    """A new MainWindow (shipped model) with `install` applied, shown offscreen."""
    from kpgui.ui.insight import install
    from kpgui.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    insight = install(w, store)
    w.show()
    qtbot.waitExposed(w)
    return w, insight


def close_window(w) -> None:
    ins = getattr(w, "insight", None)
    if ins is not None:
        ins.wait_saves()
        getattr(ins.evaluation_view, "wait", lambda: None)()
        if ins.finetune_panel is not None and ins.finetune_panel.worker is not None:
            ins.finetune_panel.worker.wait(60000)
    session = w.training_session
    if session is not None:
        session.stop(abort=True)
        assert session.wait(60000)
    w.close()
    if ins is not None and ins.store is not None:
        ins.store.close()


def fake_result(acc: float, epochs: int = 3, hidden=(64,), lr: float = 1e-3):
    """A TrainingResult-like value (no model) for recording runs without TensorFlow."""
    loss = list(np.linspace(1.0, 0.2, epochs))
    return SimpleNamespace(
        spec=ModelSpec(hidden=tuple(hidden), epochs=epochs, learning_rate=lr),
        history={"loss": loss, "accuracy": [0.8] * epochs, "val_loss": loss,
                 "val_accuracy": [0.85] * epochs},
        test_accuracy=acc, test_loss=0.1, wall_time=12.5, epochs_run=epochs,
        status="finished", train_samples=54000, samples_per_second=5000.0,
        started_at="2026-01-01T10:00:00", model=None,
    )


def draw(qtbot, canvas, points: np.ndarray) -> None:
    """A whole stroke through canvas-pixel `points`: press, moves, release."""
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(*map(round, points[0])))
    for x, y in points[1:]:
        qtbot.mouseMove(canvas, QPoint(round(x), round(y)))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(*map(round, points[-1])))


def seven(canvas, n: int = 40) -> np.ndarray:
    """A 7: a top bar then a long diagonal, in canvas pixels."""
    w, h = canvas.canvas_size()
    corners = np.array([[0.3 * w, 0.2 * h], [0.7 * w, 0.2 * h], [0.42 * w, 0.82 * h]])
    t = np.linspace(0, 2, n)
    i = np.minimum(t.astype(int), 1)
    f = (t - i)[:, None]
    return corners[i] * (1 - f) + corners[i + 1] * f
