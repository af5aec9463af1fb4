"""The app state without a window: events fire on change, readings are calibrated and say
"not sure", a broken view never breaks the others, candidates are judged by the same rules."""

from __future__ import annotations

import numpy as np
import pytest

from kpgui.core.model.inference import DenseLayer, Predictor
from kpgui.core.reading.confidence import Calibration
from kpgui.core.state import AppState, Comparison, CurrentModel, Drawing, Overlay


def _model(logits_bias: np.ndarray, card=None) -> Predictor:
    kernel = np.zeros((784, 10), np.float32)
    return Predictor(
        layers=[DenseLayer(kernel, logits_bias.astype(np.float32), "softmax")], card=card or {}, name="fixed"
    )


def test_events_fire_in_order_and_a_failing_view_does_not_stop_the_others(monkeypatch):
    seen = []
    reported = []
    monkeypatch.setattr("sys.excepthook", lambda *exc: reported.append(exc[0]))
    state = AppState()
    state.events.drawing.connect(lambda d: seen.append(("a", d.caption)))
    state.events.drawing.connect(lambda d: 1 / 0)
    state.events.drawing.connect(lambda d: seen.append(("c", d.caption)))
    state.events.reading.connect(lambda r: seen.append(("reading", r)))
    state.set_drawing(Drawing(caption="x"))  # the broken view neither stops the others nor the reading
    assert seen == [("a", "x"), ("c", "x"), ("reading", None)], seen
    assert reported == [ZeroDivisionError], reported


def test_a_view_may_take_fewer_arguments_and_may_leave():
    state = AppState()
    said, texts = [], []
    state.events.message.connect(lambda text, ms: said.append((text, ms)))
    state.events.message.connect(texts.append)  # takes the text only
    state.say("hello", 10)
    assert said == [("hello", 10)] and texts == ["hello"], (said, texts)
    state.events.message.disconnect(texts.append)
    state.say("again", 0)
    assert texts == ["hello"] and said[-1] == ("again", 0), (said, texts)


def test_drawing_and_model_changes_give_a_calibrated_reading():
    state = AppState()
    readings, drawings = [], []
    state.events.reading.connect(readings.append)
    state.events.drawing.connect(drawings.append)
    image = np.zeros((28, 28), np.float32)
    image[5:20, 14] = 1.0
    state.set_drawing(Drawing(image, "a line"))
    assert drawings[-1].caption == "a line" and readings[-1] is None  # no model yet
    sure = np.zeros(10)
    sure[3] = 6.0
    state.set_model(CurrentModel(_model(sure), "test"))
    r = readings[-1]
    assert r.digit == 3 and r.sure and state.predictions == 1
    flat = np.zeros(10)
    flat[1], flat[7] = 0.4, 0.3
    card = {"calibration": Calibration(1.0, 0.5).to_card()}
    state.set_model(CurrentModel(_model(flat, card), "unsure"))
    r = readings[-1]
    assert not r.sure and (r.digit, r.runner_up) == (1, 7)
    state.set_drawing(Drawing())
    assert readings[-1] is None and state.drawing.blank


def test_a_model_that_fails_or_gives_nan_leaves_no_reading_and_says_why():
    state = AppState()
    bias = np.full(10, np.nan)
    state.set_model(CurrentModel(_model(bias), "broken"))
    state.set_drawing(Drawing(np.ones((28, 28), np.float32)))
    assert state.reading is None and "NaN" in state.last_error


def test_overlays_and_messages():
    state = AppState()
    got, said = [], []
    state.events.overlays.connect(got.append)
    state.events.message.connect(lambda text, ms: said.append(text))
    state.set_overlay(Overlay(1, "run 1", {"loss": [1.0]}, "#000000"))
    state.set_overlay(Overlay(2, "run 2", {"loss": [1.0]}, "#ffffff"))
    state.set_overlay(None, 1)
    assert list(got[-1]) == [2]
    state.set_overlay(None, 2)
    assert got[-1] == {}, got[-1]
    state.say("hello")
    assert said == ["hello"]


@pytest.mark.parametrize(
    "mnist, personal, enough, keep",
    [
        ((0.99, 0.99), (None, None), False, True),  # same accuracy: not worse
        ((0.99, 0.93), (None, None), False, False),  # worse on MNIST
        ((0.99, 0.99), (0.8, 0.6), True, False),  # worse on enough of the person's digits
        ((0.99, 0.99), (0.8, 0.6), False, True),  # too few digits to count against it
        ((0.99, 0.992), (0.8, 0.95), True, True),
    ],
)
def test_keep_is_suggested_only_when_the_candidate_is_not_worse(mnist, personal, enough, keep):
    assert Comparison(mnist, personal, 40, enough).candidate_not_worse is keep
