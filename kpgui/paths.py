"""Where kpgui keeps the person's things: the database (runs, samples), settings, saved models.

Both the window and the CLI use these, so `kpgui runs` sees the runs the window made.
Environment overrides (used by tests, handy for portable installs): KPGUI_DATA_DIR, KPGUI_CONFIG_DIR.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "kpgui"


def _qt_location(kind: str) -> Path | None:
    try:
        from PySide6.QtCore import QCoreApplication, QStandardPaths
    except ImportError:  # pragma: no cover - PySide6 is a dependency
        return None
    if not QCoreApplication.applicationName() or QCoreApplication.applicationName() == "python":
        QCoreApplication.setApplicationName(APP_NAME)
        QCoreApplication.setOrganizationName(APP_NAME)
    loc = getattr(QStandardPaths.StandardLocation, kind)
    path = QStandardPaths.writableLocation(loc)
    return Path(path) if path else None


def data_dir() -> Path:
    """The per-user data folder (QStandardPaths' AppDataLocation), created on demand."""
    env = os.environ.get("KPGUI_DATA_DIR")
    path = Path(env) if env else _qt_location("AppDataLocation") or Path.home() / ".local/share/kpgui"
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """The per-user settings folder (QStandardPaths' AppConfigLocation), created on demand."""
    env = os.environ.get("KPGUI_CONFIG_DIR")
    path = Path(env) if env else _qt_location("AppConfigLocation") or Path.home() / ".config/kpgui"
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_path() -> Path:
    """The one SQLite database holding the run history and the person's own samples."""
    return data_dir() / "kpgui.sqlite3"
