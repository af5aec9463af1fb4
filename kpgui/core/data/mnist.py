"""Finding and loading MNIST, with errors that tell a person how to fix them."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from kpgui.core.storage.bounded import (
    MAX_MNIST_IMAGES,
    READ_ERRORS,
    BadInput,
    NpyHeader,
    TooBig,
    read_npz_array,
    scan_npz,
)

ENV_VAR = "KPGUI_MNIST"
_KEYS = ("x_train", "y_train", "x_test", "y_test")

MnistArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class DatasetError(RuntimeError):
    """MNIST could not be found, fetched or read; the message says why and what to do."""


def keras_cache_path() -> Path:
    """Where `keras.datasets.mnist.load_data()` keeps its download."""
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(keras_home) / "datasets" / "mnist.npz"


def _remedy() -> str:
    return (
        f"Put the Keras-format file mnist.npz at {keras_cache_path()}, or point the "
        f"environment variable {ENV_VAR} (or --data) at a copy of it."
    )


def find_mnist(path: str | os.PathLike | None = None) -> Path | None:
    """The MNIST file to use: `path`, then $KPGUI_MNIST, then the Keras cache; None if absent.

    An explicit path or environment variable that names a missing file is an error, not a
    reason to look elsewhere: the person asked for that file.
    """
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise DatasetError(f"MNIST file not found: {p}. {_remedy()}")
        return p
    env = os.environ.get(ENV_VAR)
    if env:
        p = Path(env).expanduser()
        if not p.is_file():
            raise DatasetError(
                f"{ENV_VAR} is set to {p}, but there is no file there. Fix or unset {ENV_VAR}. " + _remedy()
            )
        return p
    cached = keras_cache_path()
    return cached if cached.is_file() else None


def _download() -> Path:
    """Fetch MNIST into the Keras cache with kpgui's own downloader (kpgui.core.data.download: no
    TensorFlow import, so no start-up chatter and an offline failure in a moment)."""
    from kpgui.core.data.download import download_mnist

    try:
        return download_mnist()
    except DatasetError as exc:
        why = f" ({exc.__cause__})" if exc.__cause__ is not None else f": {exc}"
        raise DatasetError(
            f"MNIST is not on this computer and downloading it failed{why}. "
            f"Connect to the internet and try again, or: {_remedy()}"
        ) from exc


def _not_mnist(path: Path, what: str) -> DatasetError:
    return DatasetError(f"{path} is not the Keras mnist.npz: {what}. {_remedy()}")


def _read(path: Path, halves: tuple[str, ...] = ("train", "test")) -> tuple[np.ndarray, ...]:
    """The arrays of `halves` (x, y of each, in order), after checking the file's kind and each
    array's header (shape, dtype, size) so nothing is loaded that is not MNIST-shaped and within
    limits.MAX_MNIST_IMAGES."""
    keys = tuple(f"{xy}_{half}" for half in halves for xy in ("x", "y"))
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as exc:
        raise DatasetError(f"{path} could not be read ({exc.strerror or exc}). {_remedy()}") from exc
    if magic.startswith(b"\x93NUMPY"):
        raise _not_mnist(
            path, "it is a single .npy array, not an .npz archive of x_train, y_train, x_test and y_test"
        )
    if not magic.startswith(b"PK"):
        raise DatasetError(
            f"{path} is not the Keras mnist.npz (it is not a zip archive; it may be corrupt, "
            f"truncated or a different file). Delete it and let kpgui download it again, or: "
            f"{_remedy()}"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            headers = scan_npz(archive, _KEYS, max_bytes=MAX_MNIST_IMAGES * 784)
            missing = [k for k in _KEYS if k not in headers]
            if missing:
                raise _not_mnist(path, f"it lacks {', '.join(missing)}")
            _validate_headers(path, headers)
            arrays = tuple(read_npz_array(archive, k) for k in keys)
    except DatasetError:
        raise
    except TooBig as exc:
        raise _not_mnist(
            path, f"{exc} — MNIST has 70 000 images; kpgui reads up to {MAX_MNIST_IMAGES:,} per split"
        ) from exc
    except BadInput as exc:
        raise _not_mnist(path, str(exc)) from exc
    except READ_ERRORS as exc:
        raise DatasetError(
            f"{path} could not be read as MNIST ({exc.__class__.__name__}: {exc}); it may be "
            f"truncated or corrupt. Delete it and let kpgui download it again, or: {_remedy()}"
        ) from exc
    for i, half in enumerate(halves):
        _validate_half(path, half, arrays[2 * i], arrays[2 * i + 1])
    return arrays


def _validate_headers(path: Path, headers: dict[str, NpyHeader]) -> None:
    """The checks of _validate_half on shapes and dtypes, from the headers, before loading."""
    for name in ("train", "test"):
        x, y = headers[f"x_{name}"], headers[f"y_{name}"]
        if len(x.shape) != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
            raise DatasetError(
                f"{path}: x_{name} should be uint8 images of shape (N, 28, 28), "
                f"got {x.dtype} {x.shape}. {_remedy()}"
            )
        if len(y.shape) != 1 or y.shape[0] != x.shape[0] or y.dtype.kind not in "ui":
            raise DatasetError(
                f"{path}: y_{name} should hold one integer label per image, "
                f"got {y.dtype} {y.shape} for {x.shape[0]} images. {_remedy()}"
            )


def _validate_half(path: Path, name: str, x: np.ndarray, y: np.ndarray) -> None:
    """One half ("train" or "test"): uint8 (N, 28, 28) images, one label 0-9 per image."""
    if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
        raise DatasetError(
            f"{path}: x_{name} should be uint8 images of shape (N, 28, 28), "
            f"got {x.dtype} {x.shape}. {_remedy()}"
        )
    if y.ndim != 1 or len(y) != len(x) or y.dtype.kind not in "ui":
        raise DatasetError(
            f"{path}: y_{name} should hold one integer label per image, "
            f"got {y.dtype} {y.shape} for {len(x)} images. {_remedy()}"
        )
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise DatasetError(f"{path}: y_{name} has labels outside 0-9. {_remedy()}")


def load_mnist(path: str | os.PathLike | None = None) -> MnistArrays:
    """(x_train, y_train, x_test, y_test): uint8 (N, 28, 28) images and uint8 labels.

    Looks in `path`, then $KPGUI_MNIST, then the Keras cache, then downloads it with kpgui's own
    downloader (the command line; the window passes the file its data controller found and
    never downloads without the person's click). Raises DatasetError, naming the cause and the
    remedy, when none of that works.
    """
    found = find_mnist(path)
    if found is None:
        found = _download()
    x_train, y_train, x_test, y_test = _read(found)
    return x_train, y_train.astype(np.uint8), x_test, y_test.astype(np.uint8)


def load_mnist_test(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(x_test, y_test) of the MNIST file at `path` and nothing else: measuring a model reads the
    8 MB test half, never the 47 MB training half; never searched for, never downloaded."""
    x_test, y_test = _read(Path(path).expanduser(), ("test",))
    return x_test, y_test.astype(np.uint8)
