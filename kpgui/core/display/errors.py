"""Messages for people, written in one place: any exception -> (title, cause and fix).

The window shows (title, text) in a dialog; the CLI prints the text as one line. Errors kpgui
raises itself already say what happened and what to do; this adds a title and translates the
rest (full disks, missing libraries, memory) into words a person can act on.
"""

from __future__ import annotations

import errno


def describe(exc: BaseException, doing: str = "Training") -> tuple[str, str]:
    """(title, text) for an error that happened while `doing` something ("Training",
    "Opening the model", ...)."""
    from kpgui.core.data.mnist import DatasetError
    from kpgui.core.model.inference import ModelLoadError
    from kpgui.core.reading.imageio import ImageReadError
    from kpgui.core.storage.store import StoreError

    if isinstance(exc, ImageReadError):
        return "Picture unusable", str(exc)
    if isinstance(exc, StoreError):
        return "Database problem", str(exc)
    if isinstance(exc, DatasetError):
        return "MNIST not found" if "not found" in str(exc) or "not on this" in str(
            exc
        ) else "MNIST unusable", str(exc)
    if isinstance(exc, ModelLoadError):
        return "Model unusable", str(exc)
    from kpgui.core.reading.imageio import ImageReadError

    if isinstance(exc, ImageReadError):  # its words already name the file and the problem
        return "Cannot read the picture", str(exc)
    if isinstance(exc, FileNotFoundError):
        return "File not found", f"There is no file at {exc.filename or exc}."
    if isinstance(exc, MemoryError):
        return "Out of memory", (
            f"{doing} ran out of memory. Use fewer or smaller hidden layers, "
            "a smaller batch size, or fewer training images, then try again."
        )
    if isinstance(exc, ImportError):
        return "TensorFlow is missing", (
            f"{doing} needs TensorFlow and Keras, which could not be imported ({exc}). Install "
            "them with `pip install tensorflow`, then try again."
        )
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        where = f" ({exc.filename})" if exc.filename else ""
        return "Disk full", (
            f"The disk is full{where}: nothing was overwritten. Free some space and try again."
        )
    if isinstance(exc, OSError):
        return "File problem", f"{doing} failed: {exc.strerror or exc}" + (
            f" ({exc.filename})" if exc.filename else ""
        ) + "."
    if isinstance(exc, ValueError):
        return "Cannot start", str(exc)
    name = type(exc).__name__
    return f"{doing} failed", (
        f"{doing} stopped with an unexpected error ({name}: {exc}). "
        "Nothing you made was changed; try again, and if it happens again "
        "report it with these words."
    )


def one_line(exc: BaseException, doing: str = "Training") -> str:
    """The error as one line for the terminal."""
    return " ".join(describe(exc, doing)[1].split())


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: object) -> str:
    """`text` safe to print on one terminal line: newlines, tabs, escape sequences and other
    control characters shown as \\n, \\x1b, ... (a run named "a\\nb" or "\\x1b[2J" must not
    break a table or clear the screen)."""
    import unicodedata

    out = []
    for ch in str(text):
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)
