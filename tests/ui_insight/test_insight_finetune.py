"""Fine-tuning on the person's samples through the main window's training machinery (same
plots, progress and Stop), with the before/after held-out measurement and a recorded run.

Trains a real Keras model (TensorFlow), on slices of MNIST to stay quick."""

from __future__ import annotations

import numpy as np
import pytest
from insight_helpers import close_window, open_window


@pytest.mark.slow
def test_finetune_from_the_panel_measures_before_after_and_records_the_run(qtbot, mnist):
    x, y, xt, yt = mnist
    w, ins = open_window(qtbot)
    store = ins.store
    # Stand-in "personal" samples: 4 MNIST training digits of each label (enough to test the
    # plumbing: split, training, before/after measurement, recording).
    for label in range(10):
        for i in np.flatnonzero(y[-2000:] == label)[:4]:
            store.add_sample(label, [np.array([[1.0, 2.0], [3.0, 4.0]])], 18.0, (400, 400),
                             x[-2000:][i])
    panel = ins.finetune_panel
    panel.refresh()
    assert panel.button.isEnabled() and "40 samples" in panel.info.text()
    panel.mnist = (x[:1500], y[:1500], xt[:2000], yt[:2000])
    panel.epochs.setValue(1)
    before_predictor = w.predictor

    panel.button.click()
    assert w.training_session is not None  # the main window's own run: plots, progress, Stop
    assert panel.pending is not None and len(panel.pending.held_labels) == 10  # 1 per digit
    qtbot.waitUntil(lambda: w.training_session is None, timeout=120000)
    ins.wait_saves()
    qtbot.waitUntil(lambda: ins.runs_view.model.rowCount() == 1, timeout=10000)

    out = panel.last_result
    assert out is not None and out.held_out_count == 10 and out.train_count == 30
    text = panel.result_label.text()
    assert text.startswith("your digits: ") and "→" in text and "MNIST test: " in text
    assert out.personal_before is not None and out.personal_after is not None
    assert w.predictor is not before_predictor  # the fine-tuned model now reads the canvas
    assert w.training_plots.point_count("loss_raw") > 0  # the same live plots were fed

    run = ins.runs_view.model.runs[0]
    assert run.kind == "finetune" and run.notes["held_out"] == 10
    assert run.notes["finetune"] == out.summary()
    close_window(w)


def test_finetune_needs_enough_samples(qtbot, monkeypatch):
    from kpgui.ui.insight import dialogs

    w, ins = open_window(qtbot)
    errors = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: errors.append(text))
    assert not ins.finetune_panel.button.isEnabled()
    assert ins.finetune_panel.start() is False
    assert errors and "at least 10" in errors[0]
    assert w.training_session is None
    close_window(w)
