"""Where kpgui keeps the person's things: the database (runs, samples), settings, saved models.

Both the window and the CLI use these, so `kpgui runs` sees the runs the window made.
Environment overrides (used by tests, handy for portable installs): KPGUI_DATA_DIR, KPGUI_CONFIG_DIR.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "kpgui"


def _qt_location(kind: str) -> Path | None:
    """QStandardPaths' generic per-user folder of that kind, plus /kpgui (QtCore only, no GUI)."""
    try:
        from PySide6.QtCore import QStandardPaths
    except ImportError:  # pragma: no cover - PySide6 is a dependency
        return None
    path = QStandardPaths.writableLocation(getattr(QStandardPaths.StandardLocation, kind))
    return Path(path) / APP_NAME if path else None


def data_dir() -> Path:
    """The per-user data folder (QStandardPaths' GenericDataLocation/kpgui), created on demand."""
    env = os.environ.get("KPGUI_DATA_DIR")
    path = Path(env) if env else _qt_location("GenericDataLocation") or Path.home() / ".local/share/kpgui"
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """The per-user settings folder (QStandardPaths' GenericConfigLocation/kpgui), created on demand."""
    env = os.environ.get("KPGUI_CONFIG_DIR")
    path = Path(env) if env else _qt_location("GenericConfigLocation") or Path.home() / ".config/kpgui"
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_path() -> Path:
    """The one SQLite database holding the run history and the person's own samples."""
    return data_dir() / "kpgui.sqlite3"
