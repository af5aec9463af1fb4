"""Words for people, declared once: counts with the right plural ("1 epoch", "3 epochs";
"1 of your samples"), never "epoch(s)"."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpgui.core.reading.confidence import Reading


def count(n: int, word: str, plural: str | None = None) -> str:
    """'1 epoch', '2 epochs', '0 samples' (`plural` for irregular words: 'batch' -> 'batches')."""
    n = int(n)
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def not_sure(best: object, second: object) -> str:
    """'Not sure — 1 or 7?': what kpgui says when a reading is below its model's threshold
    (`best`, `second`: the two likeliest digits, or any text for them, e.g. '1 (48 %)')."""
    return f"Not sure — {best} or {second}?"


def verdict(reading: Reading) -> str:
    """A reading in one line: '7 (98.3 % sure)' or 'Not sure — 1 or 7?'."""
    from kpgui.core.display.numbers import percent

    if reading.sure:
        return f"{reading.digit} ({percent(reading.confidence, 1)} sure)"
    return not_sure(reading.digit, reading.runner_up)


def answer_averages(picture: int, answer: int) -> str:
    """Why a network's forward pass on the picture and the window's answer can differ: the
    answer averages the picture with moved copies of it (kpgui.core.reading.views)."""
    return (
        f"The window answers {answer} (this picture and six moved copies, averaged); "
        f"alone it reads {picture}."
    )
