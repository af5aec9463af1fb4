"""Live saliency over the preview while drawing, and the first-layer weight tiles."""

from __future__ import annotations

import numpy as np
from insight_helpers import draw, seven

from kpgui.core.inference import Predictor
from kpgui.ui.insight.weights_view import WeightsView, choose_units, weight_mosaic


def test_saliency_overlay_follows_the_drawing(qtbot, win):
    w, ins = win
    ins.saliency_bar.checkbox.setChecked(True)
    assert ins.view_actions["saliency"].isChecked()  # menu entry follows the checkbox
    draw(qtbot, w.canvas, seven(w.canvas))
    qtbot.waitUntil(lambda: ins.saliency.last_heat is not None, timeout=3000)
    qtbot.waitUntil(lambda: not w._predict_timer.isActive(), timeout=2000)
    heat = ins.saliency.last_heat
    img = ins.saliency.image
    assert heat.shape == (28, 28) and np.isfinite(heat).all() and (heat >= 0).all()
    assert np.allclose(img, w.current_image())
    ink = img > 0.3
    assert heat[ink].mean() > 5 * heat[~ink].mean()
    assert w.prediction_view.preview.has_overlay
    assert ins.saliency.last_ms < 50  # same budget as a prediction; typically well under 1 ms

    # The plain gradient also works; switching off removes the overlay.
    ins.saliency_bar.method.setCurrentText("gradient")
    assert ins.saliency.method == "gradient" and ins.saliency.last_heat.shape == (28, 28)
    ins.view_actions["saliency"].setChecked(False)
    assert not ins.saliency_bar.checkbox.isChecked()
    assert not w.prediction_view.preview.has_overlay
    # Clearing the canvas with saliency on leaves no stale overlay.
    ins.saliency_bar.checkbox.setChecked(True)
    w.clear_canvas()
    qtbot.waitUntil(lambda: not w.prediction_view.preview.has_overlay, timeout=2000)


def test_first_layer_weights_tiles_and_refresh_on_model_change(qtbot, win):
    w, ins = win
    view = ins.weights_view
    ins.view_actions["Weights"].trigger()  # View → First-layer weights focuses the tab
    assert w.tabs.currentWidget() is view
    assert [a.text() for a in w.menu("View").actions()][:4] == [
        "Run &history", "&Evaluation", "First-layer &weights", "My &samples"]
    kernel = w.predictor.layers[0].kernel
    assert len(view.units) == min(64, kernel.shape[1])
    img = view.image.image
    assert img.shape == (8 * 30 - 2, 8 * 30 - 2)
    tile0 = img[:28, :28]
    expected = kernel[:, view.units[0]].reshape(28, 28)
    assert np.allclose(tile0, expected / np.abs(expected).max(), atol=1e-6)

    # A new model (e.g. after training) refreshes the view through predictor_changed.
    from kpgui.core.inference import DenseLayer

    rng = np.random.default_rng(0)
    small = Predictor(layers=[DenseLayer(rng.normal(size=(784, 10)).astype(np.float32),
                                         np.zeros(10, np.float32), "relu"),
                              DenseLayer(rng.normal(size=(10, 10)).astype(np.float32),
                                         np.zeros(10, np.float32), "softmax")], name="tiny")
    w.set_predictor(small, "test")
    assert list(view.units) == list(range(10))
    assert "10 units" in view.info.text() or "first layer's 10 units" in view.info.text()


def test_weights_helpers_and_no_model(qtbot):
    units = choose_units(512, 64)
    assert len(units) == 64 and units[0] == 0 and units[-1] == 511
    kernel = np.random.default_rng(1).normal(size=(784, 5)).astype(np.float32)
    mosaic = weight_mosaic(kernel, np.arange(5), columns=3)
    assert mosaic.shape == (2 * 30 - 2, 3 * 30 - 2)
    assert np.nanmax(np.abs(mosaic)) == 1.0
    view = WeightsView(None)
    qtbot.addWidget(view)
    assert view.info.text() == ""  # nothing is computed while the tab is hidden (start-up cost)
    view.show()
    assert "No model" in view.info.text() and len(view.units) == 0
