"""The files that ship inside the package (default model and card, icons), via importlib.resources.

They live in `kpgui/resources/`, so editable installs, wheels and source checkouts all find them
the same way.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def resource_path(*parts: str) -> Path:
    """A real filesystem path of a shipped resource (extracted once if the package is zipped)."""
    ref = resources.files("kpgui").joinpath("resources", *parts)
    if isinstance(ref, Path):
        return ref
    return Path(_extracted.enter_context(resources.as_file(ref)))  # pragma: no cover - zipapps


def default_model_path() -> Path:
    """The model that ships with kpgui and loads at start-up."""
    return resource_path("models", "default.keras")
