"""Drawing on the canvas drives the live prediction (shipped model, no TensorFlow)."""

from __future__ import annotations

import numpy as np
from ui_helpers import draw, loop, move, press, release, vertical_line


def test_canvas_is_square_and_big_enough(window):
    w, h = window.canvas.canvas_size()
    assert w == h and w >= 280
    window.resize(window.width() + 200, window.height() + 200)
    assert window.canvas.canvas_size()[0] >= w


def test_vertical_stroke_predicts_before_release_and_reads_one(qtbot, window):
    canvas, view = window.canvas, window.prediction_view
    assert view.image is None and not view.probabilities.any()
    assert view.confidence_label.text() == "Draw a digit"
    pts = vertical_line(canvas)
    press(qtbot, canvas, *pts[0])
    for x, y in pts[1:]:
        move(qtbot, canvas, x, y)
    # Still pressed: the bars and the preview must already show the stroke.
    qtbot.waitUntil(lambda: view.probabilities.sum() > 0.99, timeout=3000)
    assert canvas._drawing
    assert view.image is not None and view.image.max() > 0.5
    assert len(canvas.strokes) == 1 and len(canvas.strokes[0]) == len(pts)
    assert window.predictions >= 1
    release(qtbot, canvas, *pts[-1])
    qtbot.waitUntil(lambda: not window._predict_timer.isActive(), timeout=2000)
    assert view.predicted == 1, view.probabilities
    assert view.digit_label.text() == "1"


def test_closed_loop_reads_zero(qtbot, window):
    draw(qtbot, window.canvas, loop(window.canvas))
    qtbot.waitUntil(lambda: window.prediction_view.predicted is not None, timeout=3000)
    qtbot.waitUntil(lambda: not window._predict_timer.isActive(), timeout=2000)
    assert window.prediction_view.predicted == 0, window.prediction_view.probabilities


def test_undo_reverts_and_clear_resets(qtbot, window):
    view, canvas = window.prediction_view, window.canvas
    draw(qtbot, canvas, vertical_line(canvas))
    qtbot.waitUntil(lambda: view.predicted == 1, timeout=3000)
    one_bars = view.probabilities.copy()
    w, h = canvas.canvas_size()
    # A horizontal bar across the top turns the 1 into a 7-ish shape: the bars change.
    draw(qtbot, canvas, np.column_stack([np.linspace(0.25 * w, 0.5 * w, 15),
                                         np.full(15, 0.18 * h)]))
    qtbot.waitUntil(lambda: not np.allclose(view.probabilities, one_bars), timeout=3000)
    qtbot.keyClick(window, "z", modifier=qtbot_ctrl())
    qtbot.waitUntil(lambda: np.allclose(view.probabilities, one_bars, atol=1e-6), timeout=3000)
    assert len(canvas.strokes) == 1
    window.clear_button.click()
    qtbot.waitUntil(lambda: not view.probabilities.any(), timeout=3000)
    assert canvas.strokes == [] and view.image is None
    assert view.confidence_label.text() == "Draw a digit"
    # Esc clears too.
    draw(qtbot, canvas, vertical_line(canvas))
    qtbot.waitUntil(lambda: view.probabilities.any(), timeout=3000)
    qtbot.keyClick(window, "\x1b")
    qtbot.waitUntil(lambda: not view.probabilities.any(), timeout=3000)


def qtbot_ctrl():
    from PySide6.QtCore import Qt

    return Qt.KeyboardModifier.ControlModifier


def test_pen_width_control_reaches_canvas(window):
    window.pen_spin.setValue(30)
    assert window.canvas.pen_width == 30


def test_load_image_array_predicts_mnist_sample(qtbot, window, mnist):
    _, _, x_test, y_test = mnist
    seen = []
    window.image_changed.connect(seen.append)
    window.load_image_array(x_test[0] / 255.0, caption="test sample 0")
    assert window.prediction_view.predicted == int(y_test[0])
    assert seen and seen[-1].shape == (28, 28)
    assert window.prediction_view.caption.text() == "test sample 0"
    # Undo brings the (empty) drawing back.
    window.canvas.undo()
    qtbot.waitUntil(lambda: window.prediction_view.image is None, timeout=3000)


def test_overlay_on_preview(window):
    view = window.prediction_view
    view.set_overlay(np.random.default_rng(0).random((28, 28)))
    assert view.preview.has_overlay
    view.set_overlay(None)
    assert not view.preview.has_overlay


def test_dropping_a_picture_on_the_canvas_imports_it(qtbot, window, tmp_path, mnist):
    from PIL import Image
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    _, _, x_test, y_test = mnist
    png = tmp_path / "dropped.png"
    Image.fromarray(np.kron(x_test[2], np.ones((4, 4), np.uint8))).save(png)  # light on dark
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(png))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier)
    try:  # Qt >= 6.12 takes a QPointF (QPoint deprecated); older ones only a QPoint
        enter = QDragEnterEvent(QPointF(50, 50), *args)
    except TypeError:
        enter = QDragEnterEvent(QPoint(50, 50), *args)
    window.canvas.dragEnterEvent(enter)  # Qt delivers drops only inside a real drag: call
    assert enter.isAccepted()           # the handlers as the drag machinery would
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.canvas.dropEvent(drop)
    assert window.canvas.picture is not None
    assert window.prediction_view.predicted == int(y_test[2])
    assert "dropped.png" in window.prediction_view.caption.text()


def test_predictions_are_coalesced_to_one_per_frame(qtbot, window):
    from PySide6.QtCore import QPointF

    canvas = window.canvas
    w, h = canvas.canvas_size()
    canvas._begin(QPointF(w / 2, 0.2 * h))
    qtbot.waitUntil(lambda: window.predictions == 1, timeout=3000)
    for y in np.linspace(0.2 * h, 0.8 * h, 50)[1:]:  # 49 moves within one frame
        canvas._extend(QPointF(w / 2, y))
    assert window.predictions == 1  # nothing predicted synchronously on a move
    qtbot.waitUntil(lambda: window.predictions == 2, timeout=3000)
    qtbot.wait(100)
    assert window.predictions == 2  # one prediction for all 49 moves
