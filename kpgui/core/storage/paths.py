"""Where kpgui keeps a person's things: the database (runs, samples), run logs, settings.

The window and the CLI use the same folders, so `kpgui runs` lists the runs the window made and
the window's History shows runs trained with `kpgui train`. Folders follow the platform's rules
(platformdirs: ~/.local/share/kpgui and ~/.config/kpgui on Linux, the XDG variables honoured);
KPGUI_DATA_DIR and KPGUI_CONFIG_DIR move them (tests, portable installs).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

APP_NAME = "kpgui"


class FolderError(OSError):
    """A folder kpgui needs cannot be made; the message names it and the fix."""


def _ensure(path: Path, what: str, env: str) -> Path:
    if path.exists() and not path.is_dir():
        raise FolderError(
            f"kpgui's {what} folder {path} is a file, not a folder. Move that file "
            f"away, or point {env} at another folder."
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FolderError(
            f"kpgui's {what} folder {path} cannot be created "
            f"({exc.strerror or exc}). Check the permissions, or point {env} at "
            "a folder you may write to."
        ) from exc
    return path


def data_dir() -> Path:
    """The per-user data folder (database, run models and logs), created on demand."""
    env = os.environ.get("KPGUI_DATA_DIR")
    path = Path(env).expanduser() if env else Path(user_data_dir(APP_NAME, appauthor=False))
    return _ensure(path, "data", "KPGUI_DATA_DIR")


def config_dir() -> Path:
    """The per-user settings folder, created on demand."""
    env = os.environ.get("KPGUI_CONFIG_DIR")
    path = Path(env).expanduser() if env else Path(user_config_dir(APP_NAME, appauthor=False))
    return _ensure(path, "settings", "KPGUI_CONFIG_DIR")


def database_path() -> Path:
    """The one SQLite database holding the run history and the person's own samples."""
    return data_dir() / "kpgui.sqlite3"


def database_path_for_reading() -> Path:
    """database_path() without creating any folder (listing works on a read-only disk)."""
    env = os.environ.get("KPGUI_DATA_DIR")
    folder = Path(env).expanduser() if env else Path(user_data_dir(APP_NAME, appauthor=False))
    return folder / "kpgui.sqlite3"


def models_dir() -> Path:
    """Where every run's model (and its card) is kept: data_dir()/models."""
    return _ensure(data_dir() / "models", "models", "KPGUI_DATA_DIR")


def runs_dir() -> Path:
    """Where every run's logs (CSV history, TensorBoard events) are kept: data_dir()/runs."""
    return _ensure(data_dir() / "runs", "run logs", "KPGUI_DATA_DIR")


def log_path(name: str) -> str | None:
    """A file in data_dir()/logs for a program's own chatter (TensorFlow's start-up messages),
    or None when the folder cannot be made (then the chatter stays on the terminal)."""
    try:
        return str(_ensure(data_dir() / "logs", "logs", "KPGUI_DATA_DIR") / name)
    except OSError:
        return None


class OwnFileError(OSError):
    """A file the person chose to write is one kpgui owns (its database, a run's model...)."""


def kpgui_owns(path: str | os.PathLike) -> str | None:
    """What `path` is to kpgui when kpgui owns it ("the kpgui database", "a file in kpgui's
    models folder", ...), or None. Exports and "save as" refuse such paths: writing a samples
    file over the live database would erase the whole history. Symlinks are followed."""
    try:
        target = Path(path).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    from kpgui.core.storage.resources import resource_path

    places: list[tuple[Path, str, bool]] = []  # (path, what, folder: anything inside counts)
    try:
        data = data_dir().resolve()
        db = data / "kpgui.sqlite3"
        places += [
            (db.with_name(db.name + side), "the kpgui database" + (f" ({side} file)" if side else ""), False)
            for side in ("", "-wal", "-shm", "-journal")
        ]
        places += [
            (data / "models", "a file in kpgui's models folder (run models)", True),
            (data / "runs", "a file in kpgui's run-logs folder", True),
            (data / "logs", "a file in kpgui's logs folder", True),
        ]
    except OSError:
        pass
    try:
        places.append((config_dir().resolve(), "a file in kpgui's settings folder", True))
    except OSError:
        pass
    try:
        places.append((resource_path().resolve(), "a file shipped with kpgui", True))
    except (OSError, TypeError):
        pass
    for where, what, folder in places:
        if target == where or (folder and target.is_relative_to(where)):
            return what
        if (
            not folder
            and target.name.startswith(where.name)
            and target.parent == where.parent
            and ".corrupt" in target.name
        ):
            return "a kept copy of a damaged kpgui database"
    return None


def refuse_kpgui_file(path: str | os.PathLike) -> None:
    """OwnFileError naming what `path` is when kpgui owns it (see kpgui_owns)."""
    what = kpgui_owns(path)
    if what is not None:
        raise OwnFileError(
            f"{path} is {what}; writing there would destroy it. Choose a file "
            "of your own, e.g. in your home folder"
        )
