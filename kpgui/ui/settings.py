"""Remembered choices (window geometry, pen width, the last training form) in one INI file.

The file lives at `kpgui.paths.config_dir() / "kpgui.ini"`, so KPGUI_CONFIG_DIR isolates tests.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings

from kpgui.core.spec import ModelSpec
from kpgui.paths import config_dir


def settings() -> QSettings:
    """The app's QSettings in IniFormat at config_dir()/kpgui.ini (not the registry/plist)."""
    return QSettings(str(config_dir() / "kpgui.ini"), QSettings.Format.IniFormat)


def load_spec(store: QSettings) -> ModelSpec | None:
    """The last training form, or None when none was saved or it no longer parses."""
    text = store.value("training/spec", "")
    if not text:
        return None
    try:
        return ModelSpec.from_dict(json.loads(str(text)))
    except (ValueError, TypeError):
        return None


def save_spec(store: QSettings, spec: ModelSpec) -> None:
    """Remember the training form as JSON (readable, and survives new ModelSpec fields)."""
    store.setValue("training/spec", json.dumps(spec.to_dict()))


def load_float(store: QSettings, key: str, default: float) -> float:
    """A number from the settings; anything unreadable falls back to `default`."""
    try:
        return float(store.value(key, default))
    except (TypeError, ValueError):
        return default
