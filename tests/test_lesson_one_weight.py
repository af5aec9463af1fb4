"""The One weight lesson: its numbers are the primer's loop, run plainly, to the last digit."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kpgui.cli import main
from kpgui.core.lessons import one_weight as ow


def plain_loop(weight, goal_pred, input, alpha, iterations):
    """The primer's loop exactly as a learner types it."""
    out = []
    for iteration in range(iterations):
        pred = input * weight
        error = (pred - goal_pred) ** 2
        derivative = input * (pred - goal_pred)
        weight = weight - (alpha * derivative)
        out.append((iteration + 1, pred, error, derivative, weight))
    return out


@pytest.mark.parametrize(
    "values",
    [(0.5, 0.8, 2.0, 0.1, 20), (0.0, 0.8, 1.1, 1.0, 7), (-1.5, 0.3, 0.7, 0.05, 30), (0.5, 0.8, 2.0, 0.5, 6)],
)
def test_the_table_is_a_plain_python_loop_to_full_precision(values):
    rows = ow.run(ow.Settings(*values))
    assert [(r.iteration, r.prediction, r.error, r.derivative, r.weight) for r in rows] == plain_loop(
        *values
    )  # == on floats: every bit the same


def test_the_primers_start_converges_without_overshooting():
    s = ow.Settings()
    assert (s.weight, s.goal, s.input, s.alpha, s.iterations) == (0.5, 0.8, 2.0, 0.1, 20)
    rows = ow.run(s)
    assert len(rows) == 20 and abs(rows[-1].prediction - 0.8) < 1e-4
    assert ow.kind(s) == ow.CONVERGES and ow.first_overshoot(rows, s.goal) is None
    assert ow.factor(s) == pytest.approx(0.6)
    assert ow.verdict(s, rows).startswith("converges")


def test_alpha_one_with_input_two_overshoots_and_diverges_by_a_factor_of_three():
    s = ow.Settings(alpha=1.0)
    rows = ow.run(s)
    assert ow.kind(s) == ow.DIVERGES and ow.factor(s) == 3.0
    errors = [r.error for r in rows]
    assert all(b > a for a, b in zip(errors[1:], errors[2:], strict=False)), errors  # grows every step
    # the distance to the best weight (goal / input) is multiplied by |1 - alpha*input^2| = 3
    d = [abs(r.weight_before - 0.4) for r in rows]
    assert d[5] / d[4] == pytest.approx(3.0)
    assert ow.first_overshoot(rows, s.goal) == 2  # the first step already jumps past the goal
    text = ow.verdict(s, rows)
    assert text.startswith("diverges") and "|1 − 4| = 3" in text and "iteration 2" in text


def test_input_zero_never_moves():
    s = ow.Settings(input=0.0)
    rows = ow.run(s)
    assert {r.weight for r in rows} == {0.5} and {r.derivative for r in rows} == {0.0}
    assert len({r.error for r in rows}) == 1
    assert "no correlation" in ow.verdict(s, rows) and ow.kind(s) == ow.STILL


@pytest.mark.parametrize("alpha, kind", [(0.5, ow.OSCILLATES), (0.3, ow.OVERSHOOTS), (0.25, ow.CONVERGES)])
def test_the_verdict_follows_the_factor(alpha, kind):
    s = ow.Settings(alpha=alpha)
    assert ow.kind(s) == kind
    if kind == ow.OSCILLATES:
        rows = ow.run(s)
        assert rows[0].weight_before == rows[2].weight_before and rows[0].error == rows[1].error


def test_a_run_that_overflows_stops_at_the_last_row_that_fits():
    s = ow.Settings(alpha=100.0, iterations=1000)
    rows = ow.run(s)
    assert 1 < len(rows) < 1000 and "overflowed" in ow.verdict(s, rows)


def test_the_cli_prints_the_plain_loops_numbers_and_the_verdict(capsys):
    assert main(["lesson", "one-weight", "--alpha", "1.0", "--iterations", "5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["iteration", "prediction", "error", "derivative", "weight"]
    for line, row in zip(out[1:6], plain_loop(0.5, 0.8, 2.0, 1.0, 5), strict=True):
        assert line.split() == [str(row[0])] + [str(v) for v in row[1:]]  # what print() shows
    assert out[6].startswith("diverges")


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--alpha", "fast"], "--alpha must be a number"),
        (["--alpha", "0"], "alpha"),
        (["--iterations", "2.5"], "--iterations"),
        (["--weight", "inf"], "weight"),
    ],
)
def test_bad_values_are_one_line_and_a_non_zero_exit(argv, words, capsys):
    assert main(["lesson", "one-weight", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and words in captured.err and len(captured.err.splitlines()) == 1


def test_the_lesson_command_does_not_import_tensorflow():
    code = (
        "import sys; from kpgui.cli import main; main(['lesson', 'one-weight']); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
