"""Where the shipped files (default model, icons) live, for editable installs and wheels alike."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def resource_path(*parts: str) -> Path:
    """Path of a shipped resource.

    A built wheel carries `resources/` inside the package (`kpgui/resources`); an editable
    install or a source checkout has it at the repository root, beside the package.
    """
    for base in (_PACKAGE_DIR / "resources", _PACKAGE_DIR.parent / "resources"):
        if base.is_dir():
            return base.joinpath(*parts)
    raise FileNotFoundError(
        "kpgui's resources folder is missing; reinstall kpgui (pip install -e . from the repository)."
    )


def default_model_path() -> Path:
    """The model that ships with kpgui and loads at start-up."""
    return resource_path("models", "default.keras")
