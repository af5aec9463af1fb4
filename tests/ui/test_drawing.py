"""Drawing on the canvas drives the live reading (shipped model, NumPy, no TensorFlow): the
drawing panel, the prediction panel and the drawing controller on one AppState (the `rig`); one
test drives the whole window's keys."""

from __future__ import annotations

import numpy as np
from helpers import draw, loop, move, press, release, settle, shows_colour, vertical_line
from PySide6.QtCore import QPointF, Qt


def test_canvas_grows_with_the_panel(qtbot, rig):
    canvas = rig.canvas
    w, h = canvas.canvas_size()
    assert min(w, h) >= 240, (w, h)
    rig.host.resize(rig.host.width() + 200, rig.host.height() + 100)
    qtbot.waitUntil(lambda: canvas.canvas_size() != (w, h), timeout=3000)
    w2, h2 = canvas.canvas_size()
    assert w2 >= w and h2 >= h, ((w, h), (w2, h2))


def test_vertical_stroke_reads_before_release_and_reads_one(qtbot, rig):
    canvas, view = rig.canvas, rig.prediction
    assert rig.state.drawing.blank and not view.probabilities.any(), "not blank at the start"
    assert view.confidence_label.text() == "Draw a digit"
    pts = vertical_line(canvas)
    press(qtbot, canvas, *pts[0])
    for x, y in pts[1:]:
        move(qtbot, canvas, x, y)
    # Still pressed: the bars and the preview must already show the stroke.
    qtbot.waitUntil(lambda: view.probabilities.sum() > 0.99, timeout=3000)
    assert rig.state.drawing.image is not None and rig.state.drawing.image.max() > 0.5, "no ink read"
    assert len(canvas.strokes) == 1 and len(canvas.strokes[0]) == len(pts), [len(s) for s in canvas.strokes]
    release(qtbot, canvas, *pts[-1])
    settle(qtbot, rig)
    assert view.predicted == 1, view.probabilities
    assert view.sure and view.digit_label.text() == "1", (view.sure, view.digit_label.text())


def test_closed_loop_reads_zero(qtbot, rig):
    draw(qtbot, rig.canvas, loop(rig.canvas))
    settle(qtbot, rig)
    assert rig.prediction.predicted == 0, rig.prediction.probabilities


def test_undo_reverts_and_clear_resets(qtbot, rig):
    view, canvas, panel = rig.prediction, rig.canvas, rig.panel
    draw(qtbot, canvas, vertical_line(canvas))
    settle(qtbot, rig)
    one_bars = view.probabilities.copy()
    w, h = canvas.canvas_size()
    draw(
        qtbot, canvas, np.column_stack([np.linspace(0.5 * w - 0.15 * h, 0.5 * w, 15), np.full(15, 0.18 * h)])
    )
    settle(qtbot, rig)
    assert not np.allclose(view.probabilities, one_bars), "the second stroke changed nothing"
    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: np.allclose(view.probabilities, one_bars, atol=1e-6), timeout=3000)
    assert len(canvas.strokes) == 1, len(canvas.strokes)
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.probabilities.any(), timeout=3000)
    assert canvas.strokes == [] and rig.state.drawing.blank, "Clear left strokes"
    assert view.confidence_label.text() == "Draw a digit"


def test_the_windows_keys_undo_and_clear(qtbot, shared_app):
    """End to end: the window's Ctrl+Z and Esc reach the canvas and the reading."""
    from conftest import at_the_canvas

    app = shared_app
    at_the_canvas(qtbot, app)
    view, canvas = app.panels["prediction"], app.panels["drawing"].canvas
    draw(qtbot, canvas, vertical_line(canvas))
    draw(qtbot, canvas, loop(canvas))
    settle(qtbot, app)
    assert len(canvas.strokes) == 2, len(canvas.strokes)
    qtbot.keyClick(app.window, "z", modifier=Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(canvas.strokes) == 1 and view.predicted == 1, timeout=3000)
    qtbot.keyClick(app.window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not view.probabilities.any(), timeout=3000)
    assert canvas.strokes == [] and app.state.drawing.blank, "Esc left strokes"


def test_pen_width_control_reaches_canvas(qtbot, rig):
    rig.panel.pen_spin.setFocus()
    qtbot.keyClick(rig.panel.pen_spin, "a", modifier=Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(rig.panel.pen_spin, "30")
    assert rig.canvas.pen_width == 30, rig.canvas.pen_width


def test_an_image_shown_is_read_and_undo_brings_the_canvas_back(qtbot, rig, mnist):
    _, _, x_test, y_test = mnist
    rig.drawing.show_image(x_test[0] / 255.0, caption="test sample 0")
    view = rig.prediction
    assert view.predicted == int(y_test[0]), (view.predicted, int(y_test[0]))
    assert view.caption.text() == "test sample 0"
    assert rig.state.drawing.image.shape == (28, 28)
    qtbot.mouseClick(rig.panel.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rig.state.drawing.blank, timeout=3000)
    assert rig.canvas.picture is None, "the picture stayed on the canvas"


def test_overlay_on_preview(rig):
    preview = rig.prediction.preview
    preview.resize(112, 112)
    assert not shows_colour(preview)
    preview.set_overlay(np.random.default_rng(0).random((28, 28)))
    assert shows_colour(preview), "no heat painted over the preview"
    preview.set_overlay(None)
    assert not shows_colour(preview), "the heat stayed on the preview"


def test_dropping_a_picture_highlights_then_imports_it(qtbot, rig, tmp_path, mnist):
    from PIL import Image
    from PySide6.QtCore import QMimeData, QPoint, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent

    _, _, x_test, y_test = mnist
    png = tmp_path / "dropped.png"
    Image.fromarray(np.kron(x_test[2], np.ones((4, 4), np.uint8))).save(png)  # light on dark
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(png))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    canvas = rig.canvas
    try:  # Qt >= 6.12 takes a QPointF (QPoint deprecated); older ones only a QPoint
        enter = QDragEnterEvent(QPointF(50, 50), *args)
    except TypeError:
        enter = QDragEnterEvent(QPoint(50, 50), *args)
    canvas.dragEnterEvent(enter)  # Qt delivers drops only inside a real drag: call the
    assert enter.isAccepted()  # handlers as the drag machinery would
    assert canvas.drop_hover  # the frame lights up while a file hovers
    canvas.dragLeaveEvent(QDragLeaveEvent())
    assert not canvas.drop_hover
    canvas.dragEnterEvent(enter)
    canvas.dropEvent(QDropEvent(QPointF(50, 50), *args))
    assert not canvas.drop_hover
    qtbot.waitUntil(lambda: canvas.picture is not None, timeout=5000)
    assert rig.prediction.predicted == int(y_test[2]), (rig.prediction.predicted, int(y_test[2]))
    assert "dropped.png" in rig.prediction.caption.text(), rig.prediction.caption.text()


def test_readings_are_coalesced_to_one_per_frame(qtbot, rig):
    """49 mouse moves delivered within one frame give one reading, not 49."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    canvas = rig.canvas
    w, h = canvas.canvas_size()

    def send(kind, y):
        pos = QPointF(w / 2, y)
        event = QMouseEvent(
            kind,
            pos,
            canvas.mapToGlobal(pos),
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(canvas, event)  # delivered now, without running the event loop

    start = rig.state.predictions
    send(QEvent.Type.MouseButtonPress, 0.2 * h)
    qtbot.waitUntil(lambda: rig.state.predictions == start + 1, timeout=3000)
    for y in np.linspace(0.2 * h, 0.8 * h, 50)[1:]:  # 49 moves within one frame
        send(QEvent.Type.MouseMove, y)
    assert rig.state.predictions == start + 1  # nothing read synchronously on a move
    assert len(canvas.strokes[0]) == 50
    qtbot.waitUntil(lambda: rig.state.predictions == start + 2, timeout=3000)
    assert not rig.drawing.pending  # nothing else scheduled: one reading for all 49 moves
    assert rig.state.predictions == start + 2
