"""Atomic file writes: a crash or full disk never leaves half a file where a good one was.

The temporary file is created beside the target as `.<stem>.kpgui-tmp-<random><suffix>` (the
suffix kept, because Keras insists on `.keras`). It is created with os.open(O_CREAT | O_EXCL,
0o666), so the kernel applies the process umask itself: nothing here changes process-wide state
(os.umask would, racing with threads that create files meanwhile).

A process killed mid-save (kill -9, power loss) leaves its temporary file behind; the name says
whose it is (kpgui's mark and the writing process's id), and `clean_stale_temp_files` removes
such leftovers once their writer is gone (that process no longer runs) or they are old.
atomic_write does so for its own target on every save; the app calls it at start for its models
folder, and `kpgui train` for its --out folder.

`atomic_write_all` writes several files as one unit (a model and its card): every temporary
file is written and fsynced first, then all are renamed; if any step fails, every target that
was already replaced is put back, so either all files are new or all are as they were.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

TEMP_MARK = ".kpgui-tmp-"
STALE_AFTER_S = 600.0  # a save writes continuously; ten quiet minutes mean its writer is gone
_TEMP_NAME = re.compile(
    r"^\..*" + re.escape(TEMP_MARK) + r"(p(?P<pid>[0-9]{1,10})-)?[0-9a-f]{16}"
    r"(\.[^.]*)?$"
)


def temp_path_for(path: str | os.PathLike[str]) -> Path:
    """A fresh temporary name beside `path`, recognisable as kpgui's and as this process's
    (see clean_stale_temp_files)."""
    p = Path(path)
    return p.with_name(f".{p.stem}{TEMP_MARK}p{os.getpid()}-{secrets.token_hex(8)}{p.suffix}")


def _writer_gone(name: str) -> bool:
    """Whether the process that named this temporary file no longer runs (on this computer)."""
    m = _TEMP_NAME.match(name)
    if m is None or m.group("pid") is None:
        return False
    pid = int(m.group("pid"))
    if pid == os.getpid() or os.name != "posix":  # on Windows os.kill(pid, 0) would END it
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError, OverflowError):
        return False  # it runs (as another user) or cannot be asked: keep the file
    return False


def is_temp_file_name(name: str) -> bool:
    """Whether `name` is one atomic_write gives its temporary files."""
    return bool(_TEMP_NAME.match(name))


def _create_exclusive(path: Path) -> None:
    cloexec = 0 if sys.platform == "win32" else os.O_CLOEXEC  # Windows' os has no O_CLOEXEC
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | cloexec, 0o666)
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


def atomic_write(path: str | os.PathLike[str], write: Callable[[str], object]) -> Path:
    """Call `write(tmp_path)` on a temporary file beside `path`, fsync it, then rename it over
    `path` (and fsync the folder). On any error the temporary file is removed and `path` is
    left byte-identical. The new file gets the ordinary mode 0o666 & ~umask."""
    return atomic_write_all([(path, write)])[0]


def _new_temp(p: Path) -> Path:
    for _ in range(100):
        tmp = temp_path_for(p)
        try:
            _create_exclusive(tmp)
            return tmp
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
    raise FileExistsError(f"could not create a temporary file beside {p}")  # pragma: no cover


def _unlink_quietly(path: Path | None) -> None:
    if path is None:
        return
    try:
        os.unlink(path)
    except OSError:
        pass


def _name_the_target(exc: OSError, target: Path) -> OSError:
    """An OSError from writing a temporary file names the file the person chose (the temporary
    name, or the source of a copy, would point at the wrong place: e.g. a full --out disk
    reported as the healthy models folder)."""
    if not exc.errno or (exc.filename is not None and str(exc.filename) == str(target)):
        return exc  # not a system error (e.g. a cancel: InterruptedError): keep it as it is
    try:
        return type(exc)(exc.errno, exc.strerror or str(exc), str(target))
    except Exception:  # noqa: BLE001 - an OSError subclass with its own constructor
        return exc


def atomic_write_all(items: Sequence[tuple[str | os.PathLike[str], Callable[[str], object]]]) -> list[Path]:
    """Write several files as ONE unit: each `write(tmp_path)` fills a temporary file beside its
    target, all are fsynced, then all are renamed over their targets. On any error nothing
    changed: temporary files are removed and targets already replaced get their old content
    back (kept meanwhile as a hard link, or as a copy where links are impossible).

    A target that is a folder fails before anything is written (IsADirectoryError naming it).
    """
    targets = [Path(p) for p, _ in items]
    for p in targets:
        if p.is_dir():
            raise IsADirectoryError(errno.EISDIR, "that is a folder, not a file", str(p))
    for p in targets:
        p.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temp_files(p.parent, only_for=p)
    temps: list[Path] = []
    backups: list[Path | None] = []
    replaced: list[int] = []
    try:
        for p, (_, write) in zip(targets, items, strict=True):
            tmp = _new_temp(p)
            temps.append(tmp)
            try:
                write(str(tmp))
                _fsync_file(tmp)
            except OSError as exc:
                raise _name_the_target(exc, p) from exc
        if len(targets) > 1:  # keep the old files until every new one is in place
            for p in targets:
                backups.append(_keep_old(p))
        for i, (p, tmp) in enumerate(zip(targets, temps, strict=True)):
            os.replace(tmp, p)
            replaced.append(i)
    except BaseException:
        for i in reversed(replaced if backups else []):  # one file: its rename is the commit
            _put_back(targets[i], backups[i])
        for tmp in temps:
            _unlink_quietly(tmp)
        for b in backups:
            _unlink_quietly(b)
        raise
    for b in backups:
        _unlink_quietly(b)
    for folder in dict.fromkeys(p.parent for p in targets):
        _fsync_folder(folder)
    return targets


def _keep_old(p: Path) -> Path | None:
    """A second name for the current content of `p` (None when `p` does not exist yet)."""
    if not p.exists():
        return None
    keep = _new_temp(p)
    os.unlink(keep)
    try:
        os.link(p, keep)
    except OSError:
        import shutil

        shutil.copy2(p, keep)
    return keep


def _put_back(p: Path, backup: Path | None) -> None:
    """Undo one rename of atomic_write_all: the old content back, or the new file removed."""
    try:
        if backup is None:
            os.unlink(p)
        else:
            os.replace(backup, p)
    except OSError:
        pass


def clean_stale_temp_files(
    folder: str | os.PathLike[str],
    older_than_s: float = STALE_AFTER_S,
    only_for: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Remove atomic_write's leftover temporary files in `folder` whose writing process is gone
    (named in the file name) or that were not modified for `older_than_s` seconds (a save in
    progress keeps touching its file, so it is never one of them); with `only_for`, only the
    leftovers of that target file. Returns what was removed.

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
            prefix is not None and not (name.startswith(prefix) and name.endswith(suffix))
        ):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or (
                now - info.st_mtime < older_than_s and not _writer_gone(name)
            ):
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed
