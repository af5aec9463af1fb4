"""`kpgui lesson one-weight`: the primer's one-weight loop as a table, and what it does.

No TensorFlow: the lesson is plain Python floats (kpgui.core.lessons.one_weight), the same
numbers the window's One weight tab shows.
"""

from __future__ import annotations

import argparse
from typing import TypeVar

from kpgui.core.lessons.one_weight import MAX_ITERATIONS, START


def register(sub) -> None:
    p = sub.add_parser(
        "lesson",
        help="the primer's lessons on the command line (one-weight)",
        description="Lessons that follow the primer, without the window.",
    )
    lessons = p.add_subparsers(dest="lesson", metavar="LESSON")
    one = lessons.add_parser(
        "one-weight",
        help="one input, one weight, one goal: the loop that learns by hand",
        description="Run the primer's loop: prediction = input*weight; error = (prediction-goal)^2;"
        " derivative = input*(prediction-goal); weight -= alpha*derivative. Prints every "
        "iteration to full precision and says whether it converges, overshoots or diverges.",
    )
    # Values are read as text and checked in run(): a bad one is one line, not argparse's usage.
    for name, what in (
        ("weight", "the starting weight"),
        ("goal", "the prediction wanted"),
        ("input", "the input"),
        ("alpha", "the learning rate (above 0)"),
    ):
        one.add_argument(
            f"--{name}", default=str(START[name]), metavar="X", help=f"{what} (default: {START[name]})"
        )
    one.add_argument(
        "--iterations",
        default=str(START["iterations"]),
        metavar="N",
        help=f"how many updates, 1 to {MAX_ITERATIONS} (default: {START['iterations']})",
    )
    p.set_defaults(run=run)


_Number = TypeVar("_Number", int, float)


def _number(name: str, text: str, kind: type[_Number]) -> _Number:
    from kpgui.cli import CliError

    try:
        return kind(str(text).strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number, e.g. 0.1"
        raise CliError(f"--{name} must be {what}, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    from kpgui.cli import CliError
    from kpgui.core.lessons import one_weight as ow

    if args.lesson != "one-weight":
        raise CliError("name a lesson: kpgui lesson one-weight")
    settings = ow.Settings(
        **{n: _number(n, getattr(args, n), float) for n in ("weight", "goal", "input", "alpha")},
        iterations=_number("iterations", args.iterations, int),
    )
    errors = settings.errors()
    if errors:
        raise CliError("; ".join(errors.values()))
    rows = ow.run(settings)
    print(ow.table(rows))
    print(ow.verdict(settings, rows))
    return 0
