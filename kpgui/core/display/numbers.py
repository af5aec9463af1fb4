"""Numbers for people, formatted once: the window and the command line show a percentage, and a
missing one, the same way."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

MISSING = "–"  # a number that is not there (not measured, not a number, NaN)


def _number(value: Any) -> float | None:
    """`value` as a finite float, or None (None, text, bool, NaN, inf). NumPy's numbers count."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def percent(fraction: Any, digits: int = 2) -> str:
    """'97.25 %' for the fraction 0.9725 (`digits` decimals); MISSING when there is no number."""
    v = _number(fraction)
    return MISSING if v is None else f"{100 * v:.{digits}f} %"


def last_finite(values: Iterable[Any] | None) -> float | None:
    """The last finite number of `values` (a history's curve; NaN, inf and None skipped), or None."""
    for v in reversed(list(values or ())):
        number = _number(v)
        if number is not None:
            return number
    return None
