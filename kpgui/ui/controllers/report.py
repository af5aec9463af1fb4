"""How controllers report an error: (title, text) for people, and the error's type when one
is known, so the composition root routes by type (a DatasetError opens the MNIST dialog with
Locate and Download) rather than by the words of a title."""

from __future__ import annotations

from typing import Protocol


class ReportError(Protocol):
    def __call__(self, title: str, text: str, error: type[BaseException] | None = None, /) -> None: ...
