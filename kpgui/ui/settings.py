"""Remembered choices (window layout, pen width, the training form, theme, where MNIST is) in
one INI file at `kpgui.core.paths.config_dir() / "kpgui.ini"` (KPGUI_CONFIG_DIR moves it).

The training form is kept as the same JSON dict as a model card's spec (ModelSpec.to_dict):
one declaration of the options serves the form, the CLI and this file. `SETTINGS_VERSION`
lets a later kpgui migrate what an older one wrote (`migrate`).
"""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings

from kpgui.core.paths import config_dir
from kpgui.core.spec import ModelSpec

SETTINGS_VERSION = 2


def settings() -> QSettings:
    """The app's QSettings in IniFormat at config_dir()/kpgui.ini (not the registry/plist)."""
    s = QSettings(str(config_dir() / "kpgui.ini"), QSettings.Format.IniFormat)
    migrate(s)
    return s


def migrate(store: QSettings) -> None:
    """Bring settings written by an older kpgui up to date (version 1 had no version key and
    kept the window state of a different layout, which is dropped)."""
    try:
        version = int(store.value("settings/version", 1))
    except (TypeError, ValueError):
        version = 1
    if version < 2:
        store.remove("window/state")
    store.setValue("settings/version", SETTINGS_VERSION)


def load_spec(store: QSettings) -> ModelSpec | None:
    """The last training form, or None when none was saved or it no longer parses (each bad
    value falls back to its default)."""
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


def load_text(store: QSettings, key: str, default: str = "") -> str:
    value = store.value(key, default)
    return value if isinstance(value, str) else default
