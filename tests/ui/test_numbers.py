"""Numbers, not just digits: "1", "2", "3" written apart read 123; a 5 with a separate hat stays
one digit; undo takes the last stroke's digit away; a digit of the number can be looked at on
its own; typing the number keeps one sample per digit; a picture of a number through the CLI."""

from __future__ import annotations

import numpy as np
from helpers import draw, settle

from kpgui.cli import main


def _line(points, n=25):
    pts = np.asarray(points, np.float64)
    t = np.linspace(0, len(pts) - 1, n)
    i = np.minimum(t.astype(int), len(pts) - 2)
    f = (t - i)[:, None]
    return pts[i] * (1 - f) + pts[i + 1] * f


def _arc(cx, cy, rx, ry, a0, a1, n=30):
    a = np.radians(np.linspace(a0, a1, n))
    return np.column_stack([cx + rx * np.cos(a), cy + ry * np.sin(a)])


def one(x, top, h):
    return [_line([(x + 0.1 * h, top), (x + 0.1 * h, top + h)])]


def two(x, top, h):
    w = 0.6 * h
    return [
        np.vstack(
            [
                _arc(x + w / 2, top + 0.27 * h, w / 2, 0.27 * h, 200, 370),
                _line([(x + w, top + 0.3 * h), (x, top + h), (x + w, top + h)]),
            ]
        )
    ]


def three(x, top, h):
    w = 0.6 * h
    return [
        np.vstack(
            [
                _arc(x + w / 2, top + 0.25 * h, w / 2, 0.25 * h, 200, 450),
                _arc(x + w / 2, top + 0.75 * h, w / 2, 0.25 * h, 270, 510),
            ]
        )
    ]


def five(x, top, h):
    w = 0.6 * h
    body = np.vstack(
        [
            _line([(x + 0.05 * w, top), (x, top + 0.45 * h)]),
            _arc(x + w / 2, top + 0.7 * h, w / 2, 0.3 * h, -130, 150),
        ]
    )
    return [body, _line([(x + 0.05 * w, top), (x + w, top)])]  # the hat: a separate stroke


def write(qtbot, rig, strokes):
    canvas = rig.panels["drawing"].canvas
    for s in strokes:
        draw(qtbot, canvas, s)
    settle(qtbot, rig)


def test_one_two_three_written_apart_read_123(qtbot, rig):
    h = 0.5 * rig.panels["drawing"].canvas.canvas_size()[1]
    strokes = one(30, 60, h) + two(30 + 0.55 * h, 60, h) + three(30 + 1.35 * h, 60, h)
    write(qtbot, rig, strokes)
    number = rig.state.number
    assert number is not None and number.text == "123", number
    view = rig.panels["prediction"]
    assert (
        "1" in view.digit_label.text()
        and "3" in view.digit_label.text()
        and "digit 1 of 3" in view.confidence_label.text()
    )
    # Pointing at the third digit shows it alone: preview, bars, its reading.
    rig.panels["prediction"].digit_label.linkHovered.emit("2")
    assert rig.state.selected == 2 and rig.state.reading.digit == 3
    assert np.array_equal(rig.state.view_image, number.pieces[2].image)
    assert "digit 3 of 3" in view.confidence_label.text(), view.confidence_label.text()
    # Undo removes the last stroke's digit.
    rig.drawing.undo()
    assert rig.state.number.text == "12"


def test_a_five_with_a_separate_hat_stays_one_digit(qtbot, rig):
    h = 0.55 * rig.panels["drawing"].canvas.canvas_size()[1]
    write(qtbot, rig, five(60, 60, h))
    assert rig.state.number is None  # one digit reads as always
    assert rig.state.reading.digit == 5
    assert rig.panels["prediction"].digit_label.text() == "5"


def test_typing_a_written_number_keeps_one_sample_per_digit(qtbot, shared_app):
    """End to end: the window's digit keys save each digit of the number."""
    from conftest import at_the_canvas
    from PySide6.QtCore import Qt

    app = shared_app
    at_the_canvas(qtbot, app)
    before = {s.id for s in app.store.list_samples()}
    h = 0.5 * app.panels["drawing"].canvas.canvas_size()[1]
    write(qtbot, app, one(30, 60, h) + two(30 + 0.55 * h, 60, h))
    assert app.state.number.text == "12"
    canvas = app.panels["drawing"].canvas
    assert len(canvas.boxes) == 2 and canvas.selected_box == 0, (canvas.boxes, canvas.selected_box)  # framed
    app.panels["prediction"].digit_label.linkHovered.emit("1")
    assert canvas.selected_box == 1, "pointing at the second digit does not frame it"
    qtbot.keyClick(app.window, Qt.Key.Key_1)
    assert {s.id for s in app.store.list_samples()} == before
    assert "1 more digit" in app.window.statusBar().currentMessage()
    qtbot.keyClick(app.window, Qt.Key.Key_2)
    samples = [s for s in app.store.list_samples() if s.id not in before]
    assert [s.label for s in samples] == [1, 2]
    assert [len(s.strokes) for s in samples] == [1, 1]  # each with its own strokes
    assert app.state.drawing.blank  # ready for the next
    app.store.delete_samples([s.id for s in samples])  # the shared window as it was
    app.state.samples_changed()
    app.tasks.wait(10)


def test_a_picture_of_a_number_is_read_by_kpgui_predict(tmp_path, mnist, capsys):
    from PIL import Image

    x_test, y_test = mnist[2], mnist[3]
    picks = [i for i in range(60) if y_test[i] in (2, 0, 6)][:3] + [1]
    sheet = np.zeros((60, 28 * len(picks) + 20 * (len(picks) + 1)), np.uint8)
    for k, i in enumerate(picks):  # digits with gaps, dark ink on white like a photo
        sheet[16:44, 20 + k * 48 : 48 + k * 48] = x_test[i]
    path = tmp_path / "number.png"
    Image.fromarray(np.kron(255 - sheet, np.ones((4, 4), np.uint8))).save(path)
    assert main(["predict", str(path)]) == 0
    line = capsys.readouterr().out.strip()
    expected = "".join(str(int(y_test[i])) for i in picks)
    assert line.startswith(f"{path}: {expected} (") and line.count("%") == len(picks), line
