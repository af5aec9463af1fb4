"""Evaluation view: a real 10 000-image evaluation off the GUI thread, the confusion matrix, the
gallery of misclassified images, and loading one into the canvas."""

from __future__ import annotations

import numpy as np
from insight_helpers import close_window, open_window

from kpgui.core.evaluation import evaluate
from kpgui.core.inference import Predictor
from kpgui.ui.insight.evaluation_view import EvaluationView


def test_confusion_matrix_counts_match_evaluate_and_gallery_loads_images(qtbot, mnist):
    w, ins = open_window(qtbot)
    view = ins.evaluation_view
    progress = []
    ins.show_panel("Evaluation")  # opening the tab starts an evaluation of the current model
    assert view.busy and view.progress.isVisible()  # off the GUI thread, with progress
    assert not view.run_button.isEnabled()
    worker = view._worker
    worker.progress.connect(lambda d, n: progress.append((d, n)))
    qtbot.waitUntil(lambda: view.evaluation is not None and not view.busy, timeout=30000)

    x_test, y_test = mnist[2], mnist[3]
    expected = evaluate(w.predictor, x_test, y_test)
    conf = view.evaluation.confusion
    assert conf.sum() == 10000
    assert np.array_equal(conf, expected.confusion)
    assert [[int(t.text()) for t in row] for row in view.cell_texts] == conf.tolist()
    assert f"{100 * expected.accuracy:.2f} %" in view.status.text()
    assert progress == [] or progress[-1] == (10000, 10000)
    assert not view.progress.isVisible()

    # Clicking a cell (here: the most common confusion) lists exactly those test images.
    off = conf - np.diag(np.diag(conf))
    t, p = np.unravel_index(int(np.argmax(off)), off.shape)
    view.select_cell(int(t), int(p))
    assert view.gallery.count() == conf[t, p]
    first = view.gallery.item(0)
    idx = int(first.data(0x0100))
    assert y_test[idx] == t and expected.predictions[idx] == p

    # Clicking a thumbnail loads that image into the canvas/preview with its prediction.
    view.gallery.itemClicked.emit(first)
    qtbot.waitUntil(lambda: w.current_image() is not None, timeout=2000)
    assert np.allclose(w.current_image(), x_test[idx] / 255.0, atol=1e-6)
    assert w.prediction_view.predicted == p
    assert f"read as {p}" in w.prediction_view.caption.text()
    close_window(w)


def test_evaluation_is_marked_stale_on_model_change_and_clicks_map_to_cells(qtbot, mnist):
    xt, yt = mnist[2][:500], mnist[3][:500]
    predictor = Predictor.load()
    shown = []
    view = EvaluationView(lambda: predictor, lambda img, cap: shown.append(cap), data=(xt, yt))
    qtbot.addWidget(view)
    view.evaluate()
    qtbot.waitUntil(lambda: view.evaluation is not None and not view.busy, timeout=10000)
    assert view.evaluation.confusion.sum() == 500
    view.mark_stale()  # hidden: not re-run, just flagged
    assert view.stale and "previous model" in view.status.text()

    cells = []
    view.heat.cell_clicked.connect(lambda r, c: cells.append((r, c)))

    class Click:  # what pyqtgraph hands mouseClickEvent
        def __init__(self, x, y):
            self.x, self.y = x, y

        def button(self):
            from PySide6.QtCore import Qt

            return Qt.MouseButton.LeftButton

        def pos(self):
            from PySide6.QtCore import QPointF

            return QPointF(self.x, self.y)

        def accept(self):
            pass

    view.heat.mouseClickEvent(Click(3.5, 8.2))  # x = predicted 3, y = true 8
    assert cells == [(8, 3)] and view.selected_cell == (8, 3)
    if view.gallery.count():
        view.gallery.itemClicked.emit(view.gallery.item(0))
        assert shown and "a 8" in shown[-1] and "read as 3" in shown[-1]
    view.close()
