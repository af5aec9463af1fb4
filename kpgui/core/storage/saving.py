"""The one way a model reaches the disk: atomically, always with its card.

* `save_model(model, path, result)` writes a Keras model just trained (in the training
  process, or the CLI) and its card.
* `copy_model(src, dst)` writes a copy of a model file that exists (the shipped one, an opened
  one, a run's) and its card: what "Save model as…" does for every model in the window.

Both write the model and its card as ONE unit (kpgui.core.storage.atomic.atomic_write_all): both
temporary files are written and fsynced, then both renamed; a full disk, a card path that is a
folder or a crash leaves the previous model AND card byte-identical.

A save never replaces a `.json` beside the target that is not a model card (someone's notes):
it raises ForeignCardError unless `force=True` (the window asks first, the CLI has --force).
`save_targets` names every file a save will write, for the overwrite question.
"""

from __future__ import annotations

import datetime as _dt
import errno
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from kpgui.core.model.cards import UNREADABLE, card_json, card_path, is_model_card, make_card, read_model_card
from kpgui.core.model.run import RunRecord
from kpgui.core.storage.atomic import atomic_write_all


def keras_path(path: str | os.PathLike) -> Path:
    """`path` with the .keras suffix models must have."""
    p = Path(path)
    return p if p.suffix == ".keras" else p.with_suffix(".keras")


class ForeignCardError(FileExistsError):
    """The card's place beside a model holds a file that is not a model card."""


def save_targets(path: str | os.PathLike) -> tuple[Path, Path]:
    """The files a save to `path` really writes: the model (.keras added) and its card."""
    p = keras_path(path)
    return p, card_path(p)


def check_card_place(path: str | os.PathLike) -> None:
    """ForeignCardError when saving to `path` would replace a .json that is not a model card."""
    card = card_path(keras_path(path))
    if not is_model_card(card):
        raise ForeignCardError(
            errno.EEXIST,
            f"{card} exists and is not a kpgui model card; saving the model "
            f"there would replace it. Choose another name, or move {card.name} away",
            str(card),
        )


def check_writable(path: str | os.PathLike, need_bytes: int = 0) -> Path:
    """Fail now, before an hour of training, if `path` cannot be written: OSError naming the
    file and why. A probe file is created beside it and removed (permissions alone do not tell:
    a read-only disk, a full one, or a folder that is a file); a disk with less room than
    `need_bytes` (the least the model can take) is refused as full, naming the folder."""
    from kpgui.core.storage.paths import refuse_kpgui_file

    p = keras_path(path)
    folder = p.parent if str(p.parent) else Path(".")
    refuse_kpgui_file(p)
    refuse_kpgui_file(card_path(p))
    if p.is_dir():
        raise OSError(f"cannot save to {p}: that is a folder")
    if not folder.is_dir():
        raise OSError(f"cannot save to {p}: the folder {folder} does not exist")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".kpgui-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OSError(
            f"cannot save to {p}: the folder {folder} is not writable ({exc.strerror or exc})"
        ) from exc
    card = card_path(p)
    if card.is_dir():
        raise OSError(f"cannot save to {p}: its card's place {card} is a folder")
    for f in (p, card):
        if f.exists() and not os.access(f, os.W_OK):
            raise OSError(f"cannot save to {p}: the file {f} is read-only")
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = need_bytes
    if free < need_bytes:
        raise OSError(
            errno.ENOSPC,
            f"cannot save to {p}: the disk holding {folder} is full "
            f"({free / 1e6:,.1f} MB free; the model needs at least "
            f"{need_bytes / 1e6:,.1f} MB). Free some space or choose another folder",
            str(folder),
        )
    return p


def _write_text(text: str):
    return lambda tmp: Path(tmp).write_text(text, "utf-8")


def save_model(
    model: Any, path: str | os.PathLike, run: RunRecord | None = None, force: bool = False, **card_extra: Any
) -> Path:
    """Write a Keras `model` to `path` (.keras) and the card of its `run` (.json) as one atomic
    unit."""
    p, card = save_targets(path)
    if not force:
        check_card_place(p)
    text = card_json(make_card(run, **card_extra))
    atomic_write_all([(p, lambda tmp: model.save(tmp)), (card, _write_text(text))])
    return p


def copy_model(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    force: bool = False,
    internal: bool = False,
    **card_changes: Any,
) -> Path:
    """Write a copy of the model file `src` (and its card, updated with `card_changes` and a
    new saved_at) to `dst`, as one atomic unit. Copying a file onto itself only rewrites the
    card. ForeignCardError (nothing written) when the card would replace another .json,
    unless `force`; OwnFileError when `dst` is a file kpgui owns (its database, the shipped
    model, a run's model) — unless `internal`: kpgui itself writing into its models folder."""
    s, (d, card_file) = Path(src), save_targets(dst)
    if not s.is_file():
        raise OSError(f"cannot save: the model file {s} is gone")
    if not internal and not (d.exists() and s.resolve() == d.resolve()):
        from kpgui.core.storage.paths import refuse_kpgui_file

        refuse_kpgui_file(d)
        refuse_kpgui_file(card_file)
    if not force:
        check_card_place(d)
    card = read_model_card(s)
    if not card or UNREADABLE in card:
        card = make_card()
    card.update(card_changes)
    card["saved_at"] = _dt.datetime.now().isoformat(timespec="seconds")
    items: list = [(card_file, _write_text(card_json(card)))]
    if not (d.exists() and s.resolve() == d.resolve()):
        items.insert(0, (d, lambda tmp: shutil.copyfile(s, tmp)))
    atomic_write_all(items)
    return d


def new_model_path(folder: Path, started_at: str | None, hidden: tuple[int, ...], kind: str = "run") -> Path:
    """A fresh `folder/<kind>-<time>-<layers>.keras` that names no existing model or card.
    The name is reserved by creating it empty (O_EXCL), so two runs saving in the same second
    (other processes too) never get the same one; the save then replaces the empty file."""
    stamp = re.sub(r"[^0-9]", "", started_at or "")[:14] or _dt.datetime.now().strftime("%Y%m%d%H%M%S")
    base = f"{kind}-{stamp}-" + ("x".join(str(h) for h in hidden) or "model")
    path = folder / f"{base}.keras"
    n = 2
    while True:
        if not card_path(path).exists():
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                return path
            except FileExistsError:
                pass
        path = folder / f"{base}-{n}.keras"
        n += 1
