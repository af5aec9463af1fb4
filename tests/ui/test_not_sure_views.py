"""The window's "not sure" with the model card's views threshold (issue 19): a digit drawn with the
mouse whose own picture is read surely but whose moved copies are not is shown "not sure", with
words saying why; the shipped card's views are used as they are."""

from __future__ import annotations

import dataclasses

from helpers import draw, settle, seven, vertical_line

from kpgui.core.model.inference import Predictor
from kpgui.core.reading.confidence import Calibration
from kpgui.core.state import CurrentModel


def _with_views_threshold(predictor: Predictor, threshold: float) -> Predictor:
    cal = dataclasses.replace(Calibration.from_card(predictor.card), views_threshold=threshold)
    card = {**predictor.card, "calibration": cal.to_card()}
    return Predictor(layers=predictor.layers, card=card, name="strict views")


def test_a_drawn_one_is_sure_with_the_shipped_views_and_shaky_with_strict_ones(qtbot, rig):
    app = rig
    canvas = app.panels["drawing"].canvas
    panel = app.panels["prediction"]
    shipped = Predictor.load()
    assert Calibration.from_card(shipped.card).uses_views
    app.state.set_model(CurrentModel(shipped, "shipped"))
    draw(qtbot, canvas, vertical_line(canvas))
    settle(qtbot, app)
    r = app.state.reading
    assert r is not None and r.digit == 1 and r.sure and r.steadiness is not None
    assert panel.confidence_label.text() == f"{100 * r.confidence:.1f} % sure"

    app.drawing.clear()
    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, app)
    r = app.state.reading
    assert r is not None and r.digit == 7 and r.sure
    strict = (1.0 + r.steadiness) / 2  # above this seven's steadiness: the views now flag it
    app.state.set_model(CurrentModel(_with_views_threshold(shipped, strict), "strict"))
    r = app.state.reading
    assert r is not None and r.digit == 7 and not r.sure and r.shaky
    assert panel.digit_label.text().startswith("Not sure — 7 or ")
    assert "moved a pixel or turned a little" in panel.confidence_label.text()
    assert r.as_drawn is not None and f"{100 * r.as_drawn:.0f} % as drawn" in panel.confidence_label.text()
