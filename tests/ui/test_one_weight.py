"""The One weight tab: Step adds the core's row, Play steps on its own, Reset starts again,
and the line below says what the primer says about alpha and input."""

from __future__ import annotations

from helpers import type_settings
from PySide6.QtCore import Qt

from kpgui.core.lessons import one_weight as ow
from kpgui.ui.panels.one_weight import OneWeightPanel


def _panel(qtbot) -> OneWeightPanel:
    panel = OneWeightPanel()
    qtbot.addWidget(panel)
    panel.show()
    return panel


def _table(panel) -> list[list[str]]:
    t = panel.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def _set(qtbot, spin, text: str) -> None:
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def test_step_adds_the_rows_of_the_plain_loop(qtbot):
    panel = _panel(qtbot)
    assert panel.table.rowCount() == 0 and panel.verdict.text().startswith("converges")
    for _ in range(3):
        qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    want = ow.run(ow.Settings(iterations=3))
    assert _table(panel) == [
        [str(r.iteration), repr(r.prediction), repr(r.error), repr(r.derivative), repr(r.weight)]
        for r in want
    ]
    # the path on the parabola: each point is (weight used, its error), then where it is now
    xs, ys = panel.path.getData()
    assert list(xs) == [r.weight_before for r in want] + [want[-1].weight]
    assert list(ys[:3]) == [r.error for r in want]


def test_reset_starts_again_from_the_values_set(qtbot):
    panel = _panel(qtbot)
    qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    _set(qtbot, panel.spins["alpha"], "1")
    assert panel.table.rowCount() == 0  # a new value is a new run
    assert panel.verdict.text().startswith("diverges") and "= 3" in panel.verdict.text()
    qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    assert "iteration 2" in panel.verdict.text()  # the overshoot, once it has happened
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    assert panel.table.rowCount() == 0 and panel.stepper.settings.alpha == 1.0


def test_input_zero_says_the_error_never_moves(qtbot):
    panel = _panel(qtbot)
    _set(qtbot, panel.spins["input"], "0")
    qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    rows = _table(panel)
    assert rows[0][2] == rows[1][2] and rows[0][4] == rows[1][4] == "0.5"
    assert "no correlation" in panel.verdict.text()


def test_play_steps_until_the_iterations_are_done_and_pause_stops(qtbot):
    panel = _panel(qtbot)
    panel.timer.setInterval(5)
    panel.iterations.setValue(6)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert panel.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: not panel.play_button.isChecked(), timeout=3000)
    assert panel.table.rowCount() == 6 and panel.play_button.text() == "Play"
    assert _table(panel)[-1][4] == repr(ow.run(ow.Settings(iterations=6))[-1].weight)
    panel.iterations.setValue(100)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.table.rowCount() >= 8, timeout=3000)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)  # Pause
    n = panel.table.rowCount()
    qtbot.wait(60)
    assert panel.table.rowCount() == n < 100 and not panel.timer.isActive()


def test_a_run_that_overflows_stops_stepping(qtbot):
    panel = _panel(qtbot)
    type_settings(qtbot, panel, ow.Settings(alpha=100.0, iterations=1000))
    for _ in range(80):
        qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    assert not panel.step_button.isEnabled() and "overflowed" in panel.verdict.text()
    assert panel.table.rowCount() == len(ow.run(ow.Settings(alpha=100.0, iterations=1000)))
