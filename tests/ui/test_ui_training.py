"""Training from the panel: a short real run, Stop, closing mid-run, and a failing run.

These import TensorFlow (in the training thread) and train on slices of MNIST.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from ui_helpers import draw, vertical_line

from kpgui.core.training import STOPPED
from kpgui.ui import dialogs

pytestmark = pytest.mark.slow


def fill_form(panel, hidden="64", epochs=1, samples=3000, val=0.1, batch=128):
    panel.hidden_edit.setText(hidden)
    panel.epochs_spin.setValue(epochs)
    panel.samples_spin.setValue(samples)
    panel.val_spin.setValue(val)
    panel.batch_spin.setValue(batch)
    assert panel.errors() == {}
    assert panel.start_button.isEnabled()


@pytest.fixture
def no_dialogs(monkeypatch):
    """Error dialogs recorded instead of shown; a test fails if one appears unexpectedly."""
    calls = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: calls.append((title, text)))
    return calls


def test_short_run_from_the_panel_fills_plots_and_swaps_predictor(qtbot, window, no_dialogs,
                                                                     tmp_path):
    panel, plots = window.training_panel, window.training_plots
    draw(qtbot, window.canvas, vertical_line(window.canvas))
    qtbot.waitUntil(lambda: window.prediction_view.predicted is not None, timeout=3000)
    old = window.predictor
    predictions_before = window.predictions
    fill_form(panel, hidden="64", epochs=1, samples=3000, val=0.1, batch=32)
    swapped, finished = [], []
    window.predictor_changed.connect(swapped.append)
    window.training_finished.connect(finished.append)

    values, formats = [], []
    panel.progress.valueChanged.connect(lambda v: (values.append(v),
                                                   formats.append(panel.progress.format())))
    qtbot.mouseClick(panel.start_button, qtbot_left())
    assert window.training_session is not None
    assert not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
    # Progress appears while it runs (not only at the end).
    qtbot.waitUntil(lambda: panel.progress.value() > 0 or bool(finished), timeout=90000)
    qtbot.waitUntil(lambda: bool(finished), timeout=120000)
    qtbot.waitUntil(lambda: window.training_session is None, timeout=30000)

    result = finished[0]
    assert no_dialogs == []
    assert result.epochs_run == 1 and result.test_accuracy is not None
    assert result.test_accuracy > 0.6  # chance is 0.1; ~0.85 expected
    steps = -(-2700 // 32)
    assert plots.point_count("loss_raw") == steps
    assert plots.point_count("loss_smooth") == steps
    assert plots.point_count("val_loss") == 1 and plots.point_count("val_accuracy") == 1
    assert panel.progress.value() == 1000
    assert any(0 < v < 1000 for v in values)  # it advanced during the run, not only at the end
    assert any(f.startswith("Epoch 1/1 · batch ") and "ETA" in f for f in formats)
    assert f"{100 * result.test_accuracy:.2f} %" in panel.result_label.text()
    assert swapped and swapped[-1] is window.predictor and window.predictor is not old
    assert window.predictor.test_accuracy == pytest.approx(result.test_accuracy)
    assert window.predictions > predictions_before  # the canvas re-predicted with the new model
    assert "trained" in window.model_label.text()
    assert panel.start_button.isEnabled() and panel.save_button.isEnabled()
    # Save model… stores it with its card, and it loads back.
    target = window.save_model_to(str(tmp_path / "trained.keras"))
    assert target is not None and target.is_file() and target.with_suffix(".json").is_file()


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_stop_mid_run_ends_quickly_with_status_stopped(qtbot, window, no_dialogs):
    fill_form(window.training_panel, hidden="128", epochs=20, samples=0, batch=32)
    finished = []
    window.training_finished.connect(finished.append)
    window.training_panel.start_button.click()
    session = window.training_session
    after_stop = []  # batches the training thread reported once Stop had been requested
    session.worker.batch.connect(
        lambda u: after_stop.append(u.step) if session.stop_requested else None,
        Qt.ConnectionType.DirectConnection)
    qtbot.waitUntil(lambda: window._latest_batch is not None, timeout=90000)
    t0 = time.perf_counter()
    window.training_panel.stop_button.click()
    qtbot.waitUntil(lambda: bool(finished), timeout=30000)
    elapsed = time.perf_counter() - t0
    result = finished[0]
    assert result.status == STOPPED
    assert result.epochs_run == 1  # stopped inside the first of 20 epochs
    assert elapsed < 15, elapsed  # one batch + evaluating 10 000 test images
    assert len(after_stop) <= 1, after_stop  # Stop took effect within one batch
    qtbot.waitUntil(lambda: window.training_session is None, timeout=10000)
    assert no_dialogs == []


def test_closing_mid_run_stops_and_closes(qtbot, window, no_dialogs, capfd):
    fill_form(window.training_panel, hidden="128", epochs=20, samples=0, batch=32)
    window.training_panel.start_button.click()
    session = window.training_session
    qtbot.waitUntil(lambda: window._latest_batch is not None, timeout=90000)
    t0 = time.perf_counter()
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30000)
    assert time.perf_counter() - t0 < 20
    assert not session.thread.isRunning()
    assert session.stop_requested
    qtbot.wait(50)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Destroyed while thread" not in err


def test_training_failure_arrives_as_dialog(qtbot, window, no_dialogs, monkeypatch, tmp_path):
    monkeypatch.setenv("KPGUI_MNIST", str(tmp_path / "missing.npz"))
    old = window.predictor
    fill_form(window.training_panel)
    window.training_panel.start_button.click()
    qtbot.waitUntil(lambda: bool(no_dialogs), timeout=90000)
    title, text = no_dialogs[0]
    assert title == "No training data"
    assert "missing.npz" in text and "KPGUI_MNIST" in text  # cause and fix
    qtbot.waitUntil(lambda: window.training_session is None, timeout=10000)
    assert window.predictor is old
    assert window.training_panel.start_button.isEnabled()
