"""The Inside tab and "Fool it": the grid follows the drawing and names the units that carried
the answer; a click on a unit shows its weights and the test images it likes; fooling a clearly
drawn digit reaches the target and one click brings the drawing back. Built as the composition
root builds them: the drawing rig, the Inside panel and its controller on one AppState."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DrawingRig
from helpers import draw, loop, settle, seven, vertical_line
from PySide6.QtCore import QPoint, Qt

from kpgui.core.model.inference import Predictor
from kpgui.core.reading.inside import contributions
from kpgui.core.state import CurrentModel


@pytest.fixture
def app(qtbot, state, tasks, errors):
    """The drawing rig with the Inside panel beside it and the Inside controller, connected as
    kpgui.ui.controllers.inside.add_inside_tab connects them (the panel starts hidden, as a tab
    that is not open)."""
    from kpgui.ui.controllers.data import DataController
    from kpgui.ui.controllers.inside import InsideController, connect_inside
    from kpgui.ui.panels.inside import InsidePanel

    rig = DrawingRig(qtbot, state, tasks, errors)
    panel = InsidePanel(state)
    data = DataController(state, tasks, settings=None)  # MNIST found the usual way ($KPGUI_MNIST)
    controller = InsideController(state, tasks, rig.drawing, data)
    connect_inside(panel, controller)
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    rig.inside, rig.tasks = controller, tasks
    rig.panels = {"drawing": rig.panel, "prediction": rig.prediction, "inside": panel}
    return rig


def _open_inside(qtbot, app):
    panel = app.panels["inside"]
    panel.show()
    qtbot.waitUntil(panel.isVisible, timeout=3000)
    return panel


def _where(network_map, unit: tuple[int, int] | None = None, digit: int | None = None) -> QPoint:
    """A point of the drawn network where the map's own hit test finds `unit` (layer, unit) or
    the output `digit`: where a person clicks to choose it."""
    if unit is not None:  # search the layer's block only
        area = network_map.blocks[unit[0]][0]
        xs, ys = range(area.left(), area.right() + 1), range(area.top(), area.bottom() + 1)
        found = lambda p: network_map.unit_at(p) == unit  # noqa: E731
    else:  # the outputs are drawn last, at the bottom
        xs, ys = range(network_map.width()), range(network_map.height() - 1, -1, -1)
        found = lambda p: network_map.digit_at(p) == digit  # noqa: E731
    step = 2  # cells are at least 2 px wide: every cell holds a point of this grid
    for y in ys[::step]:
        for x in xs[::step]:
            if found(p := QPoint(x, y)):
                return p
    raise AssertionError(f"{unit if unit is not None else digit} is not drawn in the map")


def test_inside_grid_follows_the_drawing_and_names_the_top_units(qtbot, app):
    panel = _open_inside(qtbot, app)
    canvas = app.panels["drawing"].canvas
    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, app)
    view = panel.view
    assert view is not None and view.winner == app.state.reading.digit
    first = [lv.activations.copy() for lv in view.layers]
    assert [len(a) for a in first] == [512, 512]
    assert panel.map.blocks[0][1:3] == (16, 32)  # 512 units drawn as 16 x 32 cells
    tops = [int(u) for u in view.layers[-1].top]  # the last hidden layer's named units
    unit = tops[0]
    share = float(view.layers[-1].share[unit])
    summary = "\n".join(panel.summary_lines)  # the summary names the largest first
    assert f"#{unit} {100 * share:.0f} %" in summary and f"It reads {view.winner}" in summary
    # the named unit really is the largest share, recomputed here
    shares = contributions(app.state.predictor.layers, [lv.activations for lv in view.layers], view.winner)
    assert unit == int(np.argmax(shares[1]))
    assert panel.map.lines == panel.summary_lines  # painted under the map

    app.drawing.clear()
    draw(qtbot, canvas, loop(canvas))
    settle(qtbot, app)
    assert panel.view.winner == app.state.reading.digit
    assert not np.allclose(panel.view.layers[0].activations, first[0])
    assert [int(u) for u in panel.view.layers[-1].top] != tops
    qtbot.waitUntil(lambda: panel.map.paints > 0, timeout=2000)


def test_clicking_a_unit_shows_its_weights_and_the_test_images_it_likes(qtbot, app, mnist):
    panel = _open_inside(qtbot, app)
    canvas = app.panels["drawing"].canvas
    draw(qtbot, canvas, vertical_line(canvas))
    settle(qtbot, app)
    qtbot.waitUntil(lambda: panel.excitement is not None, timeout=30000)
    qtbot.mouseClick(panel.map, Qt.MouseButton.LeftButton, pos=_where(panel.map, unit=(0, 37)))
    assert panel.selected == (0, 37)
    kernel = app.state.predictor.layers[0].kernel
    assert np.array_equal(panel.incoming.picture, kernel[:, 37].reshape(28, 28))
    assert not panel.weights_label.pixmap().isNull()
    assert "Layer 1, unit #37" in panel.unit_title.text()
    # the exciting images are the test images with the largest activation, checked directly
    x = mnist[2].reshape(-1, 784).astype(np.float32) / 255.0
    layer0 = app.state.predictor.layers[0]
    act = np.maximum(x @ layer0.kernel[:, 37] + layer0.bias[37], 0)
    assert np.allclose(
        np.sort(act[panel.exciting])[::-1], np.sort(act)[::-1][: len(panel.exciting)], atol=1e-4
    )
    assert not panel.exciting_label.pixmap().isNull()

    qtbot.mouseClick(panel.map, Qt.MouseButton.LeftButton, pos=_where(panel.map, unit=(1, 5)))
    assert panel.selected == (1, 5) and panel.incoming.picture is None
    via = panel.incoming.via
    chained = app.state.predictor.layers[1].kernel[:, 5]
    assert [u for u, _w, _p in via] == list(np.argsort(-np.abs(chained), kind="stable")[: len(via)])
    assert f"#{via[0][0]}" in panel.weights_text.text()


def test_inside_follows_the_selected_digit_of_a_number(qtbot, app):
    panel = _open_inside(qtbot, app)
    canvas = app.panels["drawing"].canvas
    w, h = canvas.canvas_size()
    one = np.column_stack([np.full(30, 0.25 * w), np.linspace(0.3 * h, 0.7 * h, 30)])
    t = np.linspace(0, 2 * np.pi, 60)
    zero = np.column_stack([0.68 * w + 0.1 * h * np.sin(t), 0.5 * h - 0.2 * h * np.cos(t)])
    draw(qtbot, canvas, one)
    draw(qtbot, canvas, zero)
    settle(qtbot, app)
    assert app.state.number is not None and len(app.state.number.readings) == 2
    first = panel.view.image.copy()
    assert np.array_equal(first, app.state.number.pieces[0].image)
    app.state.select(1)
    assert np.array_equal(panel.view.image, app.state.number.pieces[1].image)
    assert panel.view.winner == app.state.number.readings[1].digit


def test_hidden_tab_costs_nothing_and_catches_up_when_shown(qtbot, app):
    panel = app.panels["inside"]
    assert not panel.isVisible(), "the Inside panel starts as a tab that is not open"
    canvas = app.panels["drawing"].canvas
    before = panel.refreshes
    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, app)
    assert panel.refreshes == before  # hidden: nothing computed
    _open_inside(qtbot, app)
    assert panel.refreshes == before + 1 and panel.view.winner == app.state.reading.digit


def test_small_model_is_shown_with_its_own_width(qtbot, app, small_predictor):
    panel = _open_inside(qtbot, app)
    app.state.set_model(CurrentModel(small_predictor, "small"))
    canvas = app.panels["drawing"].canvas
    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, app)
    assert [len(lv.activations) for lv in panel.view.layers] == [64]
    assert panel.map.blocks[0][1] * panel.map.blocks[0][2] >= 64
    qtbot.mouseClick(panel.map, Qt.MouseButton.LeftButton, pos=_where(panel.map, unit=(0, 63)))
    assert panel.selected == (0, 63)


def test_fooling_a_drawn_digit_reaches_the_target_and_one_click_brings_it_back(qtbot, app):
    panel = _open_inside(qtbot, app)
    canvas = app.panels["drawing"].canvas
    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, app)
    assert app.state.reading.digit == 7 and app.state.reading.sure
    mine = app.state.drawing
    panel.target.setValue(3)
    with qtbot.waitSignal(app.inside.fooled, timeout=10000):
        qtbot.mouseClick(panel.fool_button, Qt.MouseButton.LeftButton)
    result = app.inside.result
    assert result.reached and result.steps <= 200
    assert app.state.reading.digit == 3  # the whole window reads the changed image
    assert np.allclose(app.state.drawing.image, result.image)
    assert panel.back_button.isEnabled() and not panel.fool_pictures.pixmap().isNull()
    assert f"{result.changed_pixels} of 784 pixels changed" in panel.fool_text.text()
    assert canvas.picture is not None

    qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    assert canvas.picture is None and len(app.state.drawing.strokes) == len(mine.strokes)
    assert all(np.array_equal(a, b) for a, b in zip(app.state.drawing.strokes, mine.strokes, strict=True)), (
        "Back did not bring the same strokes"
    )
    assert np.array_equal(app.state.drawing.image, mine.image)
    assert app.state.reading.digit == 7
    assert not panel.back_button.isEnabled()


def test_a_fooled_picture_goes_back_to_the_picture_and_blank_cannot_be_fooled(qtbot, app, mnist):
    panel = _open_inside(qtbot, app)
    assert not panel.fool_button.isEnabled()  # nothing drawn yet
    image = mnist[2][0] / 255.0  # a 7, shown as Evaluation's gallery shows a test image
    app.drawing.show_image(image, "test image")
    mine = app.state.drawing
    target = 1
    panel.target.setValue(target)
    panel.until_sure.setChecked(True)
    with qtbot.waitSignal(app.inside.fooled, timeout=10000):
        qtbot.mouseClick(panel.fool_button, Qt.MouseButton.LeftButton)
    assert app.state.reading.digit == target and app.state.reading.sure
    assert panel.view.winner == target  # the Inside map follows the changed image
    # fooling again starts from the person's own image, not from the fooled one
    panel.target.setValue(4)
    with qtbot.waitSignal(app.inside.fooled, timeout=10000):
        qtbot.mouseClick(panel.fool_button, Qt.MouseButton.LeftButton)
    assert np.allclose(app.inside.result.original, image)
    qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    assert app.state.drawing is mine and app.state.reading.digit == 7
    assert app.panels["drawing"].canvas.picture is not None


def test_exciting_images_are_cached_per_model_and_a_new_model_cancels_the_old_search(qtbot, app):
    panel = _open_inside(qtbot, app)
    shipped = app.state.predictor
    qtbot.waitUntil(lambda: app.inside.excitement(shipped) is not None, timeout=30000)
    found = app.inside.excitement(shipped)
    other = Predictor.load()  # another model (same file, another object): its own search
    app.inside.want_excitement(other)
    assert app.inside._excite_task is not None
    app.state.set_model(CurrentModel(Predictor.load(), "third"))  # the search for `other` is dropped
    app.tasks.wait(30)
    assert app.inside.excitement(other) is None
    app.state.set_model(CurrentModel(shipped, "back"))  # known: no new search, shown at once
    assert panel.excitement is found and app.inside._excite_task is None


def test_clicking_an_output_shows_the_path_to_that_digit(qtbot, app):
    panel = _open_inside(qtbot, app)
    canvas = app.panels["drawing"].canvas
    draw(qtbot, canvas, seven(canvas))
    settle(qtbot, app)
    assert panel.view.winner == 7
    qtbot.mouseClick(panel.map, Qt.MouseButton.LeftButton, pos=_where(panel.map, digit=3))
    view = panel.view
    assert view.winner == 3 and int(np.argmax(view.logits)) == 7
    shares = contributions(app.state.predictor.layers, [lv.activations for lv in view.layers], 3)
    assert np.allclose(view.layers[1].share, shares[1]) and view.layers[1].top[0] == int(np.argmax(shares[1]))
    assert "pushed towards 3" in panel.summary_lines[0]
    qtbot.mouseClick(panel.map, Qt.MouseButton.LeftButton, pos=_where(panel.map, digit=7))
    assert panel.view.winner == 7 and panel.explained is None


def test_where_the_moved_views_outvote_the_picture_the_map_says_so(qtbot, app, mnist):
    """The map explains one forward pass on the picture; the window's answer averages it with
    its moved views. On a test digit where the two differ, the summary names both."""
    from kpgui.core.model.evaluation import evaluate

    x, y = mnist[2][:3000], mnist[3][:3000]
    ev = evaluate(app.state.predictor, x, y)
    alone = app.state.predictor.predict(x / 255.0).argmax(axis=1)  # a plain forward pass each
    differ = np.flatnonzero(alone != ev.predictions)
    assert len(differ), "no test digit where the views' average and the picture disagree"
    panel = _open_inside(qtbot, app)
    i = int(differ[0])
    app.drawing.show_image(x[i] / 255.0, "test image")
    settle(qtbot, app)
    answer, picture = app.state.reading.digit, int(np.argmax(panel.view.logits))
    assert (answer, picture) == (ev.predictions[i], alone[i])
    assert panel.summary_lines[0].startswith(f"It reads {picture}")
    assert panel.summary_lines[-1] == (
        f"The window answers {answer} (this picture and six moved copies, averaged); "
        f"alone it reads {picture}."
    )
    assert panel.map.lines == panel.summary_lines  # painted under the map, room made for it

    app.drawing.show_image(x[int(np.flatnonzero(alone == ev.predictions)[0])] / 255.0, "test image")
    settle(qtbot, app)
    assert not any(line.startswith("The window answers") for line in panel.summary_lines)
