"""One weight, by hand: the primer's smallest network, stepped one update at a time.

    prediction = input * weight
    error      = (prediction - goal) ** 2
    derivative = input * (prediction - goal)
    weight     = weight - alpha * derivative

Every number is a plain Python float computed in exactly that order, so the table a learner
sees is the table a plain Python run of the loop prints (repr, full precision).

Why it converges or not: the best weight is goal / input, and one step maps the distance to it,
d = weight - goal / input, to (1 - alpha * input**2) * d. So each step multiplies the distance
by |1 - alpha * input**2| (and the error by its square): above 1 it diverges, exactly 1 it
oscillates, below 1 it converges; when 1 - alpha * input**2 is negative every step jumps past
the goal (overshoots). With input 0 the derivative is always 0 and nothing ever moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

START: dict[str, float] = {"weight": 0.5, "goal": 0.8, "input": 2.0, "alpha": 0.1, "iterations": 20}
MAX_ITERATIONS = 10_000

CONVERGES, OVERSHOOTS, OSCILLATES, DIVERGES, STILL, AT_GOAL = (
    "converges",
    "overshoots but converges",
    "oscillates",
    "diverges",
    "never moves",
    "at the goal",
)


@dataclass(frozen=True)
class Settings:
    """The loop's starting values (the primer's by default)."""

    weight: float = START["weight"]
    goal: float = START["goal"]
    input: float = START["input"]
    alpha: float = START["alpha"]
    iterations: int = int(START["iterations"])

    def errors(self) -> dict[str, str]:
        """Field -> reason for every value the loop cannot use (empty when all are fine)."""
        e: dict[str, str] = {}
        for name, v in (
            ("weight", self.weight),
            ("goal", self.goal),
            ("input", self.input),
            ("alpha", self.alpha),
        ):
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                e[name] = f"{name} must be a finite number, got {v!r}"
        if "alpha" not in e and self.alpha <= 0:
            e["alpha"] = f"alpha (the learning rate) must be above 0, got {self.alpha!r}"
        it = self.iterations
        if isinstance(it, bool) or not isinstance(it, int) or not 1 <= it <= MAX_ITERATIONS:
            e["iterations"] = f"iterations must be a whole number from 1 to {MAX_ITERATIONS}, got {it!r}"
        return e

    def validate(self) -> Settings:
        """Return self, or raise ValueError naming every bad value."""
        e = self.errors()
        if e:
            raise ValueError("; ".join(e.values()))
        return self


@dataclass(frozen=True)
class Row:
    """One pass of the loop. `weight_before` made the prediction; `weight` is the weight after
    the update (what the loop carries into the next iteration)."""

    iteration: int  # 1-based
    weight_before: float
    prediction: float
    error: float
    derivative: float
    weight: float


def step(weight: float, goal: float, input: float, alpha: float, iteration: int = 1) -> Row:
    """One iteration of the primer's loop, in the primer's order of operations.
    Raises OverflowError when the error no longer fits in a float (a diverging run)."""
    prediction = input * weight
    error = (prediction - goal) ** 2
    derivative = input * (prediction - goal)
    new_weight = weight - alpha * derivative
    return Row(iteration, weight, prediction, error, derivative, new_weight)


class Stepper:
    """The loop one iteration at a time (the window's Step and Play; `run` uses it too)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = (settings or Settings()).validate()
        self.rows: list[Row] = []
        self.weight = float(self.settings.weight)
        self.overflowed = False  # the error no longer fits in a float: no more steps

    def step(self) -> Row | None:
        """The next iteration's row (None once the run has overflowed)."""
        if self.overflowed:
            return None
        s = self.settings
        try:
            row = step(self.weight, float(s.goal), float(s.input), float(s.alpha), len(self.rows) + 1)
        except OverflowError:
            row = None
        if row is None or not math.isfinite(row.weight):
            self.overflowed = True
            return None
        self.rows.append(row)
        self.weight = row.weight
        return row

    def error_now(self) -> float | None:
        """The error at the current weight (before its next step), None if it overflows."""
        try:
            return (self.settings.input * self.weight - self.settings.goal) ** 2
        except OverflowError:
            return None

    def verdict(self) -> str:
        return verdict(self.settings, self.rows, overflowed=self.overflowed)


def run(settings: Settings | None = None) -> list[Row]:
    """All iterations' rows. A run that diverges so far that the error overflows a float stops
    at the last row that fits (`len(rows) < settings.iterations` says so)."""
    stepper = Stepper(settings)
    for _ in range(stepper.settings.iterations):
        if stepper.step() is None:
            break
    return stepper.rows


def factor(settings: Settings) -> float:
    """|1 - alpha * input**2|: what each step multiplies the distance to the best weight by."""
    return abs(1.0 - settings.alpha * settings.input**2)


def kind(settings: Settings) -> str:
    """STILL, AT_GOAL, DIVERGES, OSCILLATES, OVERSHOOTS or CONVERGES."""
    if settings.input == 0:
        return STILL
    if settings.input * settings.weight == settings.goal:
        return AT_GOAL
    f = factor(settings)
    if f > 1:
        return DIVERGES
    if f == 1:
        return OSCILLATES
    return OVERSHOOTS if settings.alpha * settings.input**2 > 1 else CONVERGES


def first_overshoot(rows: list[Row], goal: float) -> int | None:
    """The first iteration whose prediction is on the other side of the goal from the one
    before it (None when it never jumps past)."""
    for before, after in zip(rows, rows[1:], strict=False):
        a, b = before.prediction - goal, after.prediction - goal
        if a * b < 0:
            return after.iteration
    return None


def verdict(settings: Settings, rows: list[Row] | None = None, overflowed: bool | None = None) -> str:
    """One sentence saying what the loop does with these values, and why. `overflowed`: the
    rows stop because the error overflowed (default: fewer rows than settings.iterations)."""
    s = settings.validate()
    rows = run(s) if rows is None else rows
    k = kind(s)
    if k == STILL:
        return (
            "input 0: no correlation — the derivative is always 0, the error never moves "
            f"(it stays {(s.input * s.weight - s.goal) ** 2!r})."
        )
    best = s.goal / s.input
    if k == AT_GOAL:
        return f"the weight is already the best one (goal / input = {best:g}): the error is 0, nothing moves."
    a2 = s.alpha * s.input**2
    f = factor(s)
    why = (
        f"each step multiplies the distance to the best weight (goal / input = {best:g}) by "
        f"|1 − alpha·input²| = |1 − {a2:g}| = {f:g}"
    )
    over = first_overshoot(rows, s.goal)
    jump = f", overshooting the goal from iteration {over} on" if over else ""
    if k == DIVERGES:
        if overflowed is None:
            overflowed = len(rows) < s.iterations
        short = f"; the error overflowed after iteration {len(rows)}" if overflowed else ""
        return f"diverges: {why} > 1, so the error grows ×{f * f:g} each step{jump}{short}."
    if k == OSCILLATES:
        return (
            f"oscillates: {why}, so it jumps across the goal and back at the same distance "
            "forever (the error never shrinks)."
        )
    if a2 == 1:
        return f"converges in one step: {why} — the first step lands on the best weight."
    if k == OVERSHOOTS:
        return f"overshoots but converges: {why} < 1{jump}, each jump shorter than the last."
    return f"converges: {why} < 1, so the error shrinks ×{f * f:g} each step without overshooting."


def table(rows: list[Row]) -> str:
    """The rows as text, every number as Python prints it (repr: full precision)."""
    head = ("iteration", "prediction", "error", "derivative", "weight")
    lines = [head] + [
        (str(r.iteration), repr(r.prediction), repr(r.error), repr(r.derivative), repr(r.weight))
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in lines)
