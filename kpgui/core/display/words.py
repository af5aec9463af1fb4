"""Words for people, declared once: counts with the right plural ("1 epoch", "3 epochs";
"1 of your samples"), never "epoch(s)"."""

from __future__ import annotations


def count(n: int, word: str, plural: str | None = None) -> str:
    """'1 epoch', '2 epochs', '0 samples' (`plural` for irregular words: 'batch' -> 'batches')."""
    n = int(n)
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"
