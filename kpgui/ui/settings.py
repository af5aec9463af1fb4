"""Remembered choices (window layout, pen width, the training form, theme, where MNIST is, the
model in use, the last folder of a file dialog) in
one INI file at `kpgui.core.storage.paths.config_dir() / "kpgui.ini"` (KPGUI_CONFIG_DIR moves it).

The training form is kept as the same JSON dict as a model card's spec (ModelSpec.to_dict):
one declaration of the options serves the form, the CLI and this file. `SETTINGS_VERSION`
lets a later kpgui migrate what an older one wrote (`migrate`).

The window always starts, whatever the file holds: every reader here takes a `problems` list,
and a value it cannot use (NaN, a 400-digit number, 5,000 nested brackets, junk) falls back to
its default with a line added there, which the window shows in the status bar. A settings
folder that cannot be used (a file in its place, read-only) means settings live in memory for
this session only (`MemorySettings`), said once, never a crash.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from kpgui.core.model.spec import ModelSpec
from kpgui.core.storage.paths import config_dir

SETTINGS_VERSION = 2
MAX_SPEC_CHARS = 20_000  # a real training form is a few hundred characters


class MemorySettings:
    """The few QSettings calls kpgui uses, kept in memory: settings that cannot be kept on disk
    still work for this session."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def value(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def setValue(self, key: str, value: Any) -> None:  # noqa: N802 - QSettings' name
        self._values[key] = value

    def remove(self, key: str) -> None:
        """The key and, like QSettings, everything in the group it names."""
        for k in [k for k in self._values if k == key or k.startswith(key + "/")]:
            del self._values[k]

    def sync(self) -> None:
        pass

    def status(self) -> QSettings.Status:
        return QSettings.Status.NoError


def open_settings() -> tuple[Any, str]:
    """(settings, problem): the app's QSettings in IniFormat at config_dir()/kpgui.ini, or, when
    that folder or file cannot be used, MemorySettings and one sentence saying why."""
    try:
        folder = config_dir()
    except OSError as exc:  # FolderError: a file in its place, no permission to create it
        return MemorySettings(), f"Settings are not kept this session: {exc}"
    path = folder / "kpgui.ini"
    s = QSettings(str(path), QSettings.Format.IniFormat)
    if s.status() != QSettings.Status.NoError or path.is_dir():
        return MemorySettings(), (
            f"Settings are not kept this session: {path} cannot be read (move it aside and restart kpgui)."
        )
    problem = ""
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        problem = f"Settings are not kept this session: {folder} is read-only."
    try:
        migrate(s)
    except Exception:  # noqa: BLE001 - a version key no reader understands: start afresh
        s.clear()
        s.setValue("settings/version", SETTINGS_VERSION)
    return s, problem


def settings() -> Any:
    """The app's settings (see open_settings; the problem, if any, is dropped)."""
    return open_settings()[0]


def writable_problem(store: Any) -> str:
    """After sync(): why the settings could not be written (read-only folder or file), or ""."""
    if isinstance(store, MemorySettings):
        return ""
    store.sync()
    if store.status() == QSettings.Status.NoError:
        return ""
    return (
        f"Settings could not be saved to {store.fileName()} (read-only or full); they are "
        "not kept this session."
    )


def migrate(store: Any) -> None:
    """Bring settings written by an older kpgui up to date (version 1 had no version key and
    kept the window state of a different layout, which is dropped)."""
    try:
        version = int(store.value("settings/version", 1))
    except (TypeError, ValueError, OverflowError):
        version = 1
    if version < 2:
        store.remove("window/state")
    store.setValue("settings/version", SETTINGS_VERSION)


def _note(problems: list[str] | None, text: str) -> None:
    if problems is not None:
        problems.append(text)


def load_spec(store: Any, problems: list[str] | None = None) -> ModelSpec | None:
    """The last training form, or None when none was saved or it cannot be read (each bad
    value falls back to its default)."""
    from kpgui.core.storage.bounded import loads_json

    text = store.value("training/spec", "")
    if not text:
        return None
    if not isinstance(text, str) or len(text) > MAX_SPEC_CHARS:
        _note(problems, "the training form")
        return None
    try:
        return ModelSpec.from_dict(loads_json(text))
    except Exception:  # noqa: BLE001 - any junk (deep nesting, huge numbers): the defaults
        _note(problems, "the training form")
        return None


def save_spec(store: Any, spec: ModelSpec) -> None:
    """Remember the training form as JSON (readable, and survives new ModelSpec fields)."""
    store.setValue("training/spec", json.dumps(spec.to_dict()))


def load_float(
    store: Any,
    key: str,
    default: float,
    low: float = -math.inf,
    high: float = math.inf,
    problems: list[str] | None = None,
) -> float:
    """A finite number within [low, high] from the settings; anything else is `default` (and a
    note in `problems` when something unusable was there)."""
    raw = store.value(key, None)
    if raw is None:
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        _note(problems, f"{key.split('/')[-1].replace('_', ' ')} ({str(raw)[:20]})")
        return default
    return value


def load_bytes(store: Any, key: str, problems: list[str] | None = None) -> QByteArray | None:
    """Saved binary state (window geometry) or None; text or junk is noted and ignored."""
    raw = store.value(key, None)
    if raw is None or isinstance(raw, QByteArray | bytes):
        return QByteArray(raw) if isinstance(raw, bytes) else raw
    _note(problems, f"window {key.split('/')[-1]}")
    return None


def load_text(
    store: Any, key: str, default: str = "", choices: Any = None, problems: list[str] | None = None
) -> str:
    """Text from the settings (one of `choices` when given); anything else is `default`."""
    value = store.value(key, None)
    if value is None:
        return default
    if not isinstance(value, str) or (choices is not None and value not in choices):
        _note(problems, f"{key.split('/')[-1].replace('_', ' ')} ({str(value)[:20]})")
        store.remove(key)  # replaced by its default, also on disk
        return default
    return value


def _fingerprint(path: str) -> str:
    """Size and modification time: enough to notice that a remembered file was replaced."""
    st = os.stat(path)
    return f"{st.st_size}:{st.st_mtime_ns}"


def save_model_choice(
    store: QSettings, path: str | None, source: str = "", run_id: int | None = None
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
    return (
        path,
        load_text(store, "model/source") or f"opened {name}",
        int(run) if run.isdigit() else None,
    ), ""


def last_folder(store: QSettings | None) -> str:
    """The folder of the last file chosen in any file dialog ("" before the first)."""
    if store is None:
        return ""
    folder = load_text(store, "files/last_folder")
    return folder if folder and os.path.isdir(folder) else ""


def remember_folder(store: QSettings | None, path: str) -> None:
    if store is not None and path:
        store.setValue("files/last_folder", os.path.dirname(os.path.abspath(path)))
