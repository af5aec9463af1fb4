"""Drawing on the canvas drives the live reading (shipped model, NumPy, no TensorFlow)."""

from __future__ import annotations

import numpy as np
from helpers import draw, loop, move, press, release, settle, vertical_line
from PySide6.QtCore import QPointF, Qt


def test_canvas_grows_with_the_window(app):
    canvas = app.panels["drawing"].canvas
    w, h = canvas.canvas_size()
    assert min(w, h) >= 240
    app.window.resize(app.window.width() + 200, app.window.height() + 100)
    w2, h2 = canvas.canvas_size()
    assert w2 >= w and h2 >= h and (w2, h2) != (w, h)


def test_vertical_stroke_reads_before_release_and_reads_one(qtbot, app):
    canvas, view = app.panels["drawing"].canvas, app.panels["prediction"]
    assert app.state.drawing.blank and not view.probabilities.any()
    assert view.confidence_label.text() == "Draw a digit"
    pts = vertical_line(canvas)
    press(qtbot, canvas, *pts[0])
    for x, y in pts[1:]:
        move(qtbot, canvas, x, y)
    # Still pressed: the bars and the preview must already show the stroke.
    qtbot.waitUntil(lambda: view.probabilities.sum() > 0.99, timeout=3000)
    assert app.state.drawing.image is not None and app.state.drawing.image.max() > 0.5
    assert len(canvas.strokes) == 1 and len(canvas.strokes[0]) == len(pts)
    release(qtbot, canvas, *pts[-1])
    settle(qtbot, app)
    assert view.predicted == 1, view.probabilities
    assert view.sure and view.answer_text == "1"


def test_closed_loop_reads_zero(qtbot, app):
    draw(qtbot, app.panels["drawing"].canvas, loop(app.panels["drawing"].canvas))
    settle(qtbot, app)
    assert app.panels["prediction"].predicted == 0, app.panels["prediction"].probabilities


def test_undo_reverts_and_clear_resets(qtbot, app):
    view, canvas = app.panels["prediction"], app.panels["drawing"].canvas
    draw(qtbot, canvas, vertical_line(canvas))
    settle(qtbot, app)
    one_bars = view.probabilities.copy()
    w, h = canvas.canvas_size()
    draw(
        qtbot, canvas, np.column_stack([np.linspace(0.5 * w - 0.15 * h, 0.5 * w, 15), np.full(15, 0.18 * h)])
    )
    settle(qtbot, app)
    assert not np.allclose(view.probabilities, one_bars)
    qtbot.keyClick(app.window, "z", modifier=Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: np.allclose(view.probabilities, one_bars, atol=1e-6), timeout=3000)
    assert len(canvas.strokes) == 1
    app.panels["drawing"].clear_button.click()
    qtbot.waitUntil(lambda: not view.probabilities.any(), timeout=3000)
    assert canvas.strokes == [] and app.state.drawing.blank
    assert view.confidence_label.text() == "Draw a digit"
    draw(qtbot, canvas, vertical_line(canvas))
    qtbot.waitUntil(lambda: view.probabilities.any(), timeout=3000)
    qtbot.keyClick(app.window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not view.probabilities.any(), timeout=3000)


def test_pen_width_control_reaches_canvas(app):
    app.panels["drawing"].pen_spin.setValue(30)
    assert app.panels["drawing"].canvas.pen_width == 30


def test_an_image_shown_is_read_and_undo_brings_the_canvas_back(qtbot, app, mnist):
    _, _, x_test, y_test = mnist
    app.drawing.show_image(x_test[0] / 255.0, caption="test sample 0")
    view = app.panels["prediction"]
    assert view.predicted == int(y_test[0])
    assert view.caption.text() == "test sample 0"
    assert app.state.drawing.image.shape == (28, 28)
    app.drawing.undo()
    qtbot.waitUntil(lambda: app.state.drawing.blank, timeout=3000)


def test_overlay_on_preview(app):
    preview = app.panels["prediction"].preview
    preview.set_overlay(np.random.default_rng(0).random((28, 28)))
    assert preview.has_overlay
    preview.set_overlay(None)
    assert not preview.has_overlay


def test_dropping_a_picture_highlights_then_imports_it(qtbot, app, tmp_path, mnist):
    from PIL import Image
    from PySide6.QtCore import QMimeData, QPoint, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent

    _, _, x_test, y_test = mnist
    png = tmp_path / "dropped.png"
    Image.fromarray(np.kron(x_test[2], np.ones((4, 4), np.uint8))).save(png)  # light on dark
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(png))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    canvas = app.panels["drawing"].canvas
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
    assert app.panels["prediction"].predicted == int(y_test[2])
    assert "dropped.png" in app.panels["prediction"].caption.text()


def test_readings_are_coalesced_to_one_per_frame(qtbot, app):
    """49 mouse moves delivered within one frame give one reading, not 49."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    canvas = app.panels["drawing"].canvas
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

    start = app.state.predictions
    send(QEvent.Type.MouseButtonPress, 0.2 * h)
    qtbot.waitUntil(lambda: app.state.predictions == start + 1, timeout=3000)
    for y in np.linspace(0.2 * h, 0.8 * h, 50)[1:]:  # 49 moves within one frame
        send(QEvent.Type.MouseMove, y)
    assert app.state.predictions == start + 1  # nothing read synchronously on a move
    assert len(canvas.strokes[0]) == 50
    qtbot.waitUntil(lambda: app.state.predictions == start + 2, timeout=3000)
    assert not app.drawing.pending  # nothing else scheduled: one reading for all 49 moves
    assert app.state.predictions == start + 2
