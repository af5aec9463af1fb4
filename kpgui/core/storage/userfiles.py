"""Files the person chose in a dialog: refused before they are opened when they are not plain
files. A named pipe (FIFO) makes a reader wait forever for a writer, a device (/dev/zero,
/dev/random) never ends, a folder is not a file: none of them is ever opened. (The window reads
chosen files on a thread with a time bound too: kpgui.ui.tasks.Tasks.read_file.)"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UserFileError(ValueError):
    """A chosen path that is not a readable plain file; the message names it and why."""


_KINDS = (
    (stat.S_ISDIR, "a folder, not a file"),
    (stat.S_ISFIFO, "a named pipe (FIFO), not a file: reading it would wait for a writer"),
    (stat.S_ISCHR, "a device, not a file"),
    (stat.S_ISBLK, "a device, not a file"),
    (stat.S_ISSOCK, "a socket, not a file"),
)


def check_regular_file(path: str | os.PathLike) -> Path:
    """`path` as a Path if it is a plain file (symbolic links followed); UserFileError
    otherwise. Only stat() is called: nothing is opened, so this never blocks on a pipe."""
    p = Path(path)
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        raise UserFileError(f"{p} does not exist (was it moved or deleted?)") from None
    except OSError as exc:
        raise UserFileError(f"{p} cannot be read ({exc.strerror or exc})") from None
    for test, what in _KINDS:
        if test(mode):
            raise UserFileError(f"{p.name} is {what}. Choose a file.")
    if not stat.S_ISREG(mode):
        raise UserFileError(f"{p.name} is not a plain file. Choose a file.")
    return p
