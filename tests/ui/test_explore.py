"""Looking inside: a real 10 000-image evaluation off the GUI thread with its confusion matrix
and gallery; live saliency over the preview with its legend; the first-layer weight tiles."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import draw, settle, seven, shows_colour
from PySide6.QtCore import Qt

from kpgui.core.model.evaluation import evaluate
from kpgui.core.model.inference import DenseLayer, Predictor
from kpgui.core.state import CurrentModel
from kpgui.ui.panels.weights import choose_units, weight_mosaic


@pytest.fixture
def evaluation(qtbot, rig, state, tasks, mnist_slice, monkeypatch):
    """The Evaluation tab (panel and controller, MNIST from a data controller) beside the drawing
    rig, wired as kpgui.ui.app._add_evaluation_tab wires them; the tab is not open yet. MNIST is
    the real file cut to 2 000 test digits."""
    monkeypatch.setenv("KPGUI_MNIST", str(mnist_slice[0]))
    from PySide6.QtWidgets import QTabWidget, QWidget

    from kpgui.ui.controllers.data import DataController
    from kpgui.ui.controllers.evaluation import EvaluationController, connect_evaluation
    from kpgui.ui.panels.evaluation import EvaluationPanel

    data = DataController(state, tasks, settings=None)  # MNIST found the usual way ($KPGUI_MNIST)
    panel = EvaluationPanel(state)
    tabs = QTabWidget()  # the window's tabs; it keeps the controllers alive as the window does
    data.setParent(tabs)
    controller = EvaluationController(state, tasks, data.test_set, tabs)
    connect_evaluation(panel, controller, rig.drawing.show_image)
    tabs.addTab(QWidget(), "Training")
    tabs.addTab(panel, "Evaluation")
    qtbot.addWidget(tabs)
    tabs.resize(900, 600)
    tabs.show()
    qtbot.waitExposed(tabs)
    return tabs, panel


def test_confusion_matrix_counts_match_evaluate_and_gallery_loads_images(qtbot, rig, evaluation, mnist_slice):
    app = rig
    tabs, view = evaluation
    assert view.evaluation is None and not view.busy
    tabs.setCurrentWidget(view)  # opening the tab evaluates the current model
    assert view.busy and view.progress.isVisible() and not view.run_button.isEnabled()
    qtbot.waitUntil(lambda: view.evaluation is not None and not view.busy, timeout=30000)
    _, _, x_test, y_test = mnist_slice[1]
    expected = evaluate(app.state.predictor, x_test, y_test)
    conf = view.evaluation.confusion
    assert conf.sum() == len(y_test) and np.array_equal(conf, expected.confusion)
    assert [[int(t.text()) for t in row] for row in view.cell_texts] == conf.tolist()
    assert f"{100 * expected.accuracy:.2f} %" in view.status.text()
    assert view.progress.maximum() == view.progress.value() == len(y_test)  # progress shown
    assert not view.progress.isVisible()

    off = conf - np.diag(np.diag(conf))
    t, p = np.unravel_index(int(np.argmax(off)), off.shape)
    view.select_cell(int(t), int(p))
    assert view.gallery.count() == conf[t, p]
    first = view.gallery.item(0)
    idx = int(first.data(0x0100))
    assert y_test[idx] == t and expected.predictions[idx] == p
    view.gallery.itemClicked.emit(first)  # the picture goes to the canvas and is read
    assert np.allclose(app.state.drawing.image, x_test[idx] / 255.0, atol=1e-6)
    assert app.panels["prediction"].predicted == p
    assert f"read as {p}" in app.panels["prediction"].caption.text()

    # A new model makes the numbers stale; with the tab open they are measured again.
    app.state.set_model(CurrentModel(Predictor.load(), "again"))
    assert view.busy
    qtbot.waitUntil(lambda: not view.busy, timeout=30000)
    assert not view.stale


def test_saliency_overlay_follows_the_drawing_with_a_legend(qtbot, rig):
    bar = rig.prediction.saliency
    preview = rig.prediction.preview
    assert not bar.legend_row.isVisible(), "a legend before saliency is on"
    bar.checkbox.click()
    assert bar.legend_row.isVisible() and "most" in bar.legend_text.text(), bar.legend_text.text()
    canvas = rig.canvas
    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, rig)
    heat, img = rig.state.saliency.heat, rig.state.drawing.image  # what the overlay shows
    assert heat.shape == (28, 28) and np.isfinite(heat).all() and (heat >= 0).all(), "not a 28x28 map >= 0"
    ink = img > 0.3
    assert heat[ink].mean() > 5 * heat[~ink].mean(), (heat[ink].mean(), heat[~ink].mean())
    assert shows_colour(preview), "no overlay on the preview"
    bar.method_combo.setCurrentText("gradient")
    assert bar.method == "gradient" and rig.state.saliency.heat.shape == (28, 28), bar.method
    bar.checkbox.click()
    assert not shows_colour(preview), "the overlay stayed after saliency was turned off"
    bar.checkbox.click()
    qtbot.mouseClick(rig.panel.clear_button, Qt.MouseButton.LeftButton)
    assert not shows_colour(preview), "a stale overlay on an empty canvas"


def test_first_layer_weights_tiles_and_refresh_on_model_change(qtbot, state):
    from kpgui.ui.panels.weights import WeightsPanel

    view = WeightsPanel(state)
    qtbot.addWidget(view)
    view.show()
    kernel = state.predictor.layers[0].kernel
    assert len(view.units) == min(64, kernel.shape[1]), len(view.units)
    img = view.image.image
    assert img.shape == (8 * 30 - 2, 8 * 30 - 2), img.shape
    expected = kernel[:, view.units[0]].reshape(28, 28)
    assert np.allclose(img[:28, :28], expected / np.abs(expected).max(), atol=1e-6), "first tile"
    rng = np.random.default_rng(0)
    tiny = Predictor(
        layers=[
            DenseLayer(rng.normal(size=(784, 10)).astype(np.float32), np.zeros(10, np.float32), "relu"),
            DenseLayer(rng.normal(size=(10, 10)).astype(np.float32), np.zeros(10, np.float32), "softmax"),
        ],
        name="tiny",
    )
    state.set_model(CurrentModel(tiny, "test"))
    assert list(view.units) == list(range(10)), list(view.units)
    assert "10 units" in view.info.text(), view.info.text()


def test_weights_helpers():
    units = choose_units(512, 64)
    assert len(units) == 64 and units[0] == 0 and units[-1] == 511
    kernel = np.random.default_rng(1).normal(size=(784, 5)).astype(np.float32)
    mosaic = weight_mosaic(kernel, np.arange(5), columns=3)
    assert mosaic.shape == (2 * 30 - 2, 3 * 30 - 2)
    assert np.nanmax(np.abs(mosaic)) == 1.0


def test_how_it_sees_shows_the_steps_of_the_drawing(qtbot, rig):
    from kpgui.ui.panels.normalisation import NormalisationPanel

    panel = NormalisationPanel(rig.state)
    qtbot.addWidget(panel)
    panel.show()
    assert "Draw a digit" in panel.note.text(), panel.note.text()
    canvas = rig.canvas
    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, rig)
    steps = panel.steps
    assert [s.title.split(".")[0] for s in steps] == ["1", "2", "3", "4"], [s.title for s in steps]
    assert steps[1].image.shape == (28, 28) and steps[1].box == (4.0, 4.0, 24.0, 24.0), steps[1].box
    ink = np.argwhere(steps[1].image > 0.1)
    assert ink.min() >= 3 and ink.max() <= 24, "step 2 is not scaled into the 20x20 box"
    assert np.array_equal(steps[3].image, rig.state.drawing.image), "the last step is not the input"
    cx, cy = steps[3].point
    assert abs(cx - 14) < 0.3 and abs(cy - 14) < 0.3, (cx, cy)
    assert panel.titles[3].text().startswith("4. Centre of mass"), panel.titles[3].text()
