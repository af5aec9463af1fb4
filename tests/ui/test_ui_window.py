"""The window around the canvas: models, images, menus, settings, validation, plots, start-up."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel

from kpgui.core.spec import ModelSpec
from kpgui.ui import dialogs
from kpgui.ui.main_window import MainWindow


@pytest.fixture
def errors(monkeypatch):
    calls = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: calls.append((title, text)))
    return calls


@pytest.mark.parametrize("content", [b"this is not a zip file at all",
                                     b"PK\x03\x04 truncated zip header"])
def test_corrupt_model_file_keeps_the_old_model(qtbot, window, errors, tmp_path, content):
    bad = tmp_path / "broken.keras"
    bad.write_bytes(content)
    old = window.predictor
    swapped = []
    window.predictor_changed.connect(swapped.append)
    window.open_model_file(str(bad))
    qtbot.waitUntil(lambda: bool(errors), timeout=10000)
    title, text = errors[0]
    assert title == "Cannot open model"
    assert "broken.keras" in text and "stays in use" in text
    qtbot.wait(50)
    assert window.predictor is old and swapped == []
    assert window.isVisible()


def test_open_model_and_reset_to_default(qtbot, window, errors, small_model_path):
    default = window.predictor
    swapped = []
    window.predictor_changed.connect(swapped.append)
    window.open_model_file(str(small_model_path))
    qtbot.waitUntil(lambda: len(swapped) == 1, timeout=10000)
    assert window.predictor.path == small_model_path
    assert "small" in window.model_label.text()
    window.reset_action.trigger()
    qtbot.waitUntil(lambda: len(swapped) == 2, timeout=10000)
    assert window.predictor.path == default.path
    assert errors == []
    assert "Spec:" in window.model_info_text() and "test_accuracy" in window.model_info_text()


def test_status_bar_names_model_and_accuracy(window):
    p = window.predictor
    text = window.model_label.text()
    assert p.name in text and f"{100 * p.test_accuracy:.2f} %" in text


def test_import_image_and_unreadable_file(qtbot, window, errors, tmp_path, mnist):
    from PIL import Image

    _, _, x_test, y_test = mnist
    # Dark ink on white paper, bigger than MNIST, as a photo of a digit would be.
    big = np.kron(255 - x_test[1], np.ones((6, 6), np.uint8))
    png = tmp_path / "digit.png"
    Image.fromarray(big).save(png)
    assert window.import_image(str(png))
    assert window.canvas.picture is not None
    assert window.prediction_view.predicted == int(y_test[1])
    assert "digit.png" in window.prediction_view.caption.text()
    before = (window.prediction_view.probabilities.copy(), window.predictor)
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    assert not window.import_image(str(bad))
    assert errors and errors[0][0] == "Cannot read this picture"
    assert np.array_equal(window.prediction_view.probabilities, before[0])
    assert window.predictor is before[1] and window.canvas.picture is not None


def test_invalid_form_values_show_reason_and_disable_start(window):
    panel = window.training_panel
    panel.hidden_edit.setText("512, abc")
    label = panel._error_labels["hidden"]
    assert label.isVisibleTo(panel) and "whole numbers" in label.text()
    assert not panel.start_button.isEnabled()
    panel.hidden_edit.setText("256")
    panel.patience_spin.setValue(3)
    panel.val_spin.setValue(0.0)
    assert "validation" in panel._error_labels["patience"].text()
    assert not panel.start_button.isEnabled()
    panel.val_spin.setValue(0.1)
    assert panel.errors() == {} and panel.start_button.isEnabled()
    panel.lr_edit.setText("fast")
    assert "number" in panel._error_labels["learning_rate"].text()
    assert not panel.start_button.isEnabled()


def test_spec_round_trip_through_the_form(window):
    spec = ModelSpec(hidden=(300, 100), activation="tanh", dropout=0.2, optimizer="adam",
                     learning_rate=0.0005, lr_schedule="cosine", batch_size=64, epochs=7,
                     validation_split=0.15, patience=2, augment=True, train_samples=5000, seed=3)
    window.training_panel.set_spec(spec)
    assert window.training_panel.spec() == spec


def test_settings_remembered_between_runs(qtbot):
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    first.resize(first.minimumSizeHint().width() + 13, 590)  # offscreen screens are small
    size = (first.width(), first.height())
    first.pen_spin.setValue(27)
    first.training_panel.hidden_edit.setText("128, 32")
    first.training_panel.epochs_spin.setValue(4)
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.canvas.pen_width == 27
    assert second.training_panel.spec().hidden == (128, 32)
    assert second.training_panel.spec().epochs == 4
    # The offscreen screen is 800 px wide, so Qt clamps a restored width; the height is free.
    assert second.height() == size[1]
    assert 700 < second.width() <= size[0]
    assert os.path.isfile(os.path.join(os.environ["KPGUI_CONFIG_DIR"], "kpgui.ini"))


def test_menus_shortcuts_and_hooks(window):
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles[0] == "File" and "Model" in titles and titles[-1] == "Help"
    file_actions = [a.text().replace("&", "") for a in window.menu("File").actions()]
    for name in ("Open model…", "Save model as…", "Import image…", "Quit"):
        assert name in file_actions
    assert window.undo_action.shortcut().toString() == "Ctrl+Z"
    assert window.clear_action.shortcut().toString() == "Esc"
    view = window.menu("View")
    assert window.menu("View") is view
    assert [a.text().replace("&", "") for a in window.menuBar().actions()][-1] == "Help"
    index = window.add_panel(QLabel("insight"), "Insight")
    assert window.tabs.tabText(index) == "Insight" and window.tabs.count() == 2
    assert "kpgui" in dialogs.about_html() and "Qt" in dialogs.versions_text()


def test_plot_overlays_and_throttled_redraw(qtbot, window):
    from kpgui.core.training import BatchUpdate, EpochUpdate

    plots = window.training_plots
    history = {"loss": [0.5, 0.3, 0.2], "val_loss": [0.4, 0.35, 0.3],
               "accuracy": [0.8, 0.9, 0.95], "val_accuracy": [0.85, 0.9, 0.92]}
    plots.add_overlay("run1", "run 1", history, "#2a9d8f")
    assert plots.overlay_keys == ["run1"]
    curves = plots._overlays["run1"]
    assert len(curves) == 4
    assert list(curves[0].getData()[0]) == [1.0, 2.0, 3.0]
    plots.remove_overlay("run1")
    assert plots.overlay_keys == []
    assert all(c not in plots.loss_plot.getPlotItem().items for c in curves)
    plots.add_overlay("a", "a", history, "r")
    plots.add_overlay("b", "b", history, "g")
    plots.clear_overlays()
    assert plots.overlay_keys == []

    plots.reset(2)
    redraws = plots.redraws
    curve_id = id(plots.curves["loss_raw"])
    for step in range(1, 1001):
        plots.add_batch(BatchUpdate(1, 2, step, 1000, 1.0 / step, 0.5, 0.5, 0.5, 1.0, 1.0, step))
    plots.add_epoch(EpochUpdate(1, 2, 0.3, 0.9, 0.35, 0.88, 1.0, 1.0))
    assert plots.redraws == redraws  # nothing drawn synchronously
    qtbot.waitUntil(lambda: plots.point_count("loss_raw") == 1000, timeout=3000)
    assert plots.redraws - redraws <= 2
    assert plots.point_count("val_loss") == 1 and id(plots.curves["loss_raw"]) == curve_id


def test_startup_does_not_import_tensorflow(tmp_path):
    code = textwrap.dedent("""
        import sys
        from kpgui.ui.app import make_app
        from kpgui.ui.main_window import MainWindow
        app = make_app(["kpgui"])
        w = MainWindow()
        w.show()
        app.processEvents()
        import numpy as np
        w.load_image_array(np.eye(28, dtype=np.float32))
        assert w.prediction_view.predicted is not None and w.predictor.backend == "numpy"
        print("TF_LOADED" if "tensorflow" in sys.modules or "keras" in sys.modules else "TF_FREE")
        w.close()
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KPGUI_CONFIG_DIR=str(tmp_path / "c"),
               KPGUI_DATA_DIR=str(tmp_path / "d"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "TF_FREE" in out.stdout, out.stdout + out.stderr


def test_about_and_model_info_dialogs(window, monkeypatch):
    shown = []
    monkeypatch.setattr(dialogs, "show_info", lambda parent, title, text: shown.append(text))
    monkeypatch.setattr(dialogs, "show_text", lambda parent, title, text: shown.append(text))
    window.about_action.trigger()
    window.info_action.trigger()
    about, info = shown
    assert "kpgui" in about and "Qt" in about and "pyqtgraph" in about
    assert "TensorFlow" in about  # "not loaded yet" until training starts
    assert window.predictor.name in info and "784-" in info


def test_charts_are_built_after_the_first_paint_and_show_earlier_predictions(qtbot):
    """pyqtgraph (~0.45 s to import) waits for the first paint; nothing predicted before is lost."""
    import numpy as np

    from kpgui.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    view = w.prediction_view
    assert view.bars is None  # not built before the window is shown
    probs = np.linspace(0.0, 1.0, 10, dtype=np.float32)
    probs /= probs.sum()
    view.show_result(np.zeros((28, 28), np.float32), probs)
    w.show()
    qtbot.waitUntil(lambda: view.bars is not None and w._training_plots is not None, timeout=5000)
    heights = view.bars.opts["height"]
    assert np.allclose(heights, probs) and view.predicted == 9
    assert w.training_plots.point_count("loss_raw") == 0


def test_window_module_does_not_import_pyqtgraph():
    import subprocess
    import sys

    code = ("import sys; import kpgui.ui.app, kpgui.ui.main_window; "
            "print('pyqtgraph' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
