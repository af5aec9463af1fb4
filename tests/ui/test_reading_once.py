"""Each change of the drawing is read once per model (issue 18): the candidate bar and the
saliency overlay show what the reading controller computed, they run no model themselves, and
saliency is computed only while "Show saliency" is on."""

from __future__ import annotations

import numpy as np
from helpers import draw, settle, seven, shows_colour, vertical_line

import kpgui.core.reading.saliency as saliency
from kpgui.core.model.inference import Predictor
from kpgui.core.model.run import RunRecord
from kpgui.core.model.spec import ModelSpec
from kpgui.core.reading.confidence import read
from kpgui.core.state import Candidate, Comparison, CurrentModel


class Counting:
    """A predictor that counts its forward passes (a batch or a single image: one each)."""

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor
        self.calls = 0

    def __getattr__(self, name: str):
        return getattr(self.predictor, name)

    def predict_one(self, image: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.predictor.predict_one(image)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.predictor.predict(batch)


def _outcome() -> RunRecord:
    return RunRecord(
        kind="train",
        name=None,
        status="finished",
        spec=ModelSpec(hidden=(64,)),
        epochs_run=1,
        history={"loss": [0.5]},
        test_accuracy=0.9,
        test_loss=0.3,
        wall_time=1.0,
        samples_per_second=900.0,
        train_samples=12000,
        started_at="2026-12-03T01:00:00",
        model_path=None,
        id=3,
    )


def test_each_drawing_change_is_read_once_per_model_and_saliency_only_when_on(qtbot, rig, monkeypatch):
    app = rig  # the drawing, the reading, the prediction panel and the candidate bar
    heats = []
    plain = saliency.saliency_for
    monkeypatch.setattr(saliency, "saliency_for", lambda *a, **k: heats.append(1) or plain(*a, **k))
    current = Counting(app.state.predictor)
    app.state.set_model(CurrentModel(current, "counted"))
    candidate = Counting(Predictor.load())
    app.state.set_candidate(Candidate(_outcome(), candidate, Comparison((0.98, 0.9))))
    bar = app.panels["candidate"]
    canvas = app.panels["drawing"].canvas
    current.calls = candidate.calls = 0
    readings = app.state.predictions  # the state's count of readings (one per frame at most)

    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, app)
    frames = app.state.predictions - readings
    # Each model reads each new image at most once (the same image shown again is not read again).
    assert 1 <= current.calls <= frames, "at most one reading of the current model per frame"
    assert 1 <= candidate.calls <= frames, "at most one reading of the candidate per frame"
    assert heats == [], "no saliency while it is off"
    calibration = CurrentModel(candidate.predictor, "plain").calibration
    expected = read(candidate.predictor.predict_one(app.state.view_image), calibration)
    assert app.state.candidate_reading.digit == expected.digit
    assert f"your drawing: <b>{expected.digit}" in bar.numbers.text()

    seen = (current.calls, candidate.calls)
    app.panels["prediction"].saliency.checkbox.setChecked(True)
    assert len(heats) == 1 and shows_colour(app.panels["prediction"].preview)
    assert (current.calls, candidate.calls) == seen, "turning saliency on reads nothing again"
    app.drawing.clear()  # an empty canvas: nothing to read, no overlay
    assert (current.calls, candidate.calls) == seen
    assert not shows_colour(app.panels["prediction"].preview) and len(heats) == 1
    readings = app.state.predictions
    draw(qtbot, canvas, vertical_line(canvas))
    settle(qtbot, app)
    more = app.state.predictions - readings
    assert more >= 1 and seen[0] < current.calls <= seen[0] + more
    assert seen[1] < candidate.calls <= seen[1] + more
    assert 1 < len(heats) <= 1 + more, "saliency at most once per reading while it is on"
    count = candidate.calls
    app.state.set_candidate(Candidate(_outcome(), candidate, Comparison((0.98, 0.99))))
    assert candidate.calls == count, "a new comparison for the same drawing reads nothing again"
    assert "your drawing" in bar.numbers.text()
