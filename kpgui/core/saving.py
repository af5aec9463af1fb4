"""The one way a model reaches the disk: atomically, always with its card.

* `save_model(model, path, result)` writes a Keras model just trained (in the training
  process, or the CLI) and its card.
* `copy_model(src, dst)` writes a copy of a model file that exists (the shipped one, an opened
  one, a run's) and its card: what "Save model as…" does for every model in the window.

Both write each file to a temporary file beside the target, fsync it and rename it over the
target (kpgui.core.atomic): a full disk or a crash leaves any previous file byte-identical.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from kpgui.core.atomic import atomic_write
from kpgui.core.cards import make_card, to_json
from kpgui.core.inference import card_path, read_model_card


def keras_path(path: str | os.PathLike) -> Path:
    """`path` with the .keras suffix models must have."""
    p = Path(path)
    return p if p.suffix == ".keras" else p.with_suffix(".keras")


def check_writable(path: str | os.PathLike) -> Path:
    """Fail now, before an hour of training, if `path` cannot be written: OSError naming the
    file and why. A probe file is created beside it and removed (permissions alone do not tell:
    a read-only disk, a full one, or a folder that is a file)."""
    p = keras_path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise OSError(f"cannot save to {p}: that is a folder")
    if not folder.is_dir():
        raise OSError(f"cannot save to {p}: the folder {folder} does not exist")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".kpgui-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OSError(f"cannot save to {p}: the folder {folder} is not writable "
                      f"({exc.strerror or exc})") from exc
    if p.exists() and not os.access(p, os.W_OK):
        raise OSError(f"cannot save to {p}: the file is read-only")
    return p


def write_card(model_path: Path, card: dict) -> Path:
    text = to_json(card)
    return atomic_write(card_path(model_path), lambda tmp: Path(tmp).write_text(text, "utf-8"))


def save_model(model: Any, path: str | os.PathLike, result: Any = None, **card_extra: Any) -> Path:
    """Write a Keras `model` to `path` (.keras) and its card (.json), each atomically."""
    p = keras_path(path)
    atomic_write(p, lambda tmp: model.save(tmp))
    write_card(p, make_card(result, **card_extra))
    return p


def copy_model(src: str | os.PathLike, dst: str | os.PathLike, **card_changes: Any) -> Path:
    """Write a copy of the model file `src` (and its card, updated with `card_changes` and a
    new saved_at) to `dst`, each atomically. Copying a file onto itself only rewrites the card."""
    s, d = Path(src), keras_path(dst)
    if not s.is_file():
        raise OSError(f"cannot save: the model file {s} is gone")
    if s.resolve() != d.resolve():
        atomic_write(d, lambda tmp: shutil.copyfile(s, tmp))
    card = read_model_card(s) or make_card()
    card.update(card_changes)
    card["saved_at"] = _dt.datetime.now().isoformat(timespec="seconds")
    write_card(d, card)
    return d


def new_model_path(folder: Path, started_at: str | None, hidden: tuple[int, ...], kind: str = "run") -> Path:
    """A fresh `folder/<kind>-<time>-<layers>.keras` that names no existing model or card."""
    stamp = re.sub(r"[^0-9]", "", started_at or "")[:14] or _dt.datetime.now().strftime("%Y%m%d%H%M%S")
    base = f"{kind}-{stamp}-" + ("x".join(str(h) for h in hidden) or "model")
    path = folder / f"{base}.keras"
    n = 2
    while path.exists() or card_path(path).exists():
        path = folder / f"{base}-{n}.keras"
        n += 1
    return path
