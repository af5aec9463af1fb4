"""Remembered choices (window layout, pen width, the training form, theme, where MNIST is, the
model in use, the last folder of a file dialog) in
one INI file at `kpgui.core.paths.config_dir() / "kpgui.ini"` (KPGUI_CONFIG_DIR moves it).

The training form is kept as the same JSON dict as a model card's spec (ModelSpec.to_dict):
one declaration of the options serves the form, the CLI and this file. `SETTINGS_VERSION`
lets a later kpgui migrate what an older one wrote (`migrate`).
"""

from __future__ import annotations

import json
import os

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


def _fingerprint(path: str) -> str:
    """Size and modification time: enough to notice that a remembered file was replaced."""
    st = os.stat(path)
    return f"{st.st_size}:{st.st_mtime_ns}"


def save_model_choice(store: QSettings, path: str | None, source: str = "", run_id: int | None = None
                      ) -> None:
    """Remember the model in use (path None: the shipped one), with its file's fingerprint."""
    if not path:
        store.remove("model")
        return
    try:
        fingerprint = _fingerprint(path)
    except OSError:
        store.remove("model")
        return
    store.setValue("model/path", str(path))
    store.setValue("model/source", source)
    store.setValue("model/run_id", "" if run_id is None else str(run_id))
    store.setValue("model/fingerprint", fingerprint)


def load_model_choice(store: QSettings) -> tuple[tuple[str, str, int | None] | None, str]:
    """((path, source, run_id), "") for the model remembered, (None, "") for the shipped one,
    or (None, why) when the remembered file is missing or was changed since."""
    path = load_text(store, "model/path")
    if not path:
        return None, ""
    name = os.path.basename(path)
    try:
        same = _fingerprint(path) == load_text(store, "model/fingerprint")
    except OSError:
        return None, f"the model used last time ({name}) is no longer there"
    if not same:
        return None, f"the model used last time ({name}) was changed since"
    run = load_text(store, "model/run_id")
    return (path, load_text(store, "model/source") or f"opened {name}",
            int(run) if run.isdigit() else None), ""


def last_folder(store: QSettings | None) -> str:
    """The folder of the last file chosen in any file dialog ("" before the first)."""
    if store is None:
        return ""
    folder = load_text(store, "files/last_folder")
    return folder if folder and os.path.isdir(folder) else ""


def remember_folder(store: QSettings | None, path: str) -> None:
    if store is not None and path:
        store.setValue("files/last_folder", os.path.dirname(os.path.abspath(path)))
