"""Atomic file writes: a crash or full disk never leaves half a file where a good one was.

The temporary file is created beside the target as `.<stem>.kpgui-tmp-<random><suffix>` (the
suffix kept, because Keras insists on `.keras`). It is created with os.open(O_CREAT | O_EXCL,
0o666), so the kernel applies the process umask itself: nothing here changes process-wide state
(os.umask would, racing with threads that create files meanwhile).

A process killed mid-save (kill -9, power loss) leaves its temporary file behind; the name says
whose it is, and `clean_stale_temp_files` removes such leftovers once they are old. atomic_write
does so for its own target on every save; the app should also call it once at start for its
models folder (`clean_stale_temp_files(models_dir())`), and may call it for any folder it saves
into.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path

TEMP_MARK = ".kpgui-tmp-"
STALE_AFTER_S = 600.0  # a save writes continuously; ten quiet minutes mean its writer is gone
_TEMP_NAME = re.compile(r"^\..*" + re.escape(TEMP_MARK) + r"[0-9a-f]{16}(\.[^.]*)?$")


def temp_path_for(path: str | os.PathLike) -> Path:
    """A fresh temporary name beside `path`, recognisable as kpgui's (see clean_stale_temp_files)."""
    p = Path(path)
    return p.with_name(f".{p.stem}{TEMP_MARK}{secrets.token_hex(8)}{p.suffix}")


def is_temp_file_name(name: str) -> bool:
    """Whether `name` is one atomic_write gives its temporary files."""
    return bool(_TEMP_NAME.match(name))


def _create_exclusive(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; not possible everywhere (Windows), so best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Call `write(tmp_path)` on a temporary file beside `path`, fsync it, then rename it over
    `path` (and fsync the folder). On any error the temporary file is removed and `path` is
    left byte-identical. The new file gets the ordinary mode 0o666 & ~umask."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temp_files(p.parent, only_for=p)
    for _ in range(100):
        tmp = temp_path_for(p)
        try:
            _create_exclusive(tmp)
            break
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
    else:  # pragma: no cover
        raise FileExistsError(f"could not create a temporary file beside {p}")
    try:
        write(str(tmp))
        _fsync_file(tmp)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(p.parent)
    return p


def clean_stale_temp_files(folder: str | os.PathLike, older_than_s: float = STALE_AFTER_S,
                           only_for: str | os.PathLike | None = None) -> list[Path]:
    """Remove atomic_write's leftover temporary files in `folder` not modified for
    `older_than_s` seconds (a save in progress keeps touching its file, so it is never one of
    them); with `only_for`, only the leftovers of that target file. Returns what was removed.

    Only regular files named like ours are touched; errors (a missing folder, a file removed
    meanwhile, no permission) are ignored: cleaning up must never stop the app.
    """
    removed: list[Path] = []
    prefix, suffix = None, ""
    if only_for is not None:
        target = Path(only_for)
        prefix, suffix = f".{target.stem}{TEMP_MARK}", target.suffix
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not is_temp_file_name(name) or (
                prefix is not None and not (name.startswith(prefix) and name.endswith(suffix))):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < older_than_s:
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed
