"""The person's samples as plain arrays, and the `.npz` file format for exporting them.

A samples file is an ordinary NumPy `.npz` that loads with allow_pickle=False (no Python objects,
so opening a file someone sent you cannot run code):

    format        str      "kpgui-samples/1"
    images        uint8    (N, 28, 28)  the MNIST-style picture the network saw
    labels        uint8    (N,)         the digit, 0-9
    pen_widths    float32  (N,)         pen diameter in canvas pixels
    canvas_sizes  int32    (N, 2)       canvas width, height in pixels
    stroke_counts int32    (N,)         how many strokes each sample has
    stroke_lengths int32   (S,)         how many points each stroke has (S = sum of stroke_counts)
    points        float32  (P, 2)       every stroke's x, y, concatenated (P = sum of lengths)
    created_at    str      (N,)         ISO time each sample was drawn (optional)

Strokes are kept as vectors so samples can be re-rendered if preprocessing ever changes.
Qt-free and TensorFlow-free.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, SupportsFloat, cast

import numpy as np

from kpgui.core.storage.atomic import atomic_write
from kpgui.core.storage.bounded import (
    MAX_NPY_BYTES,
    MAX_SAMPLE_POINTS,
    MAX_SAMPLE_STROKES,
    MAX_SAMPLES,
    MAX_TEXT_CHARS,
    READ_ERRORS,
    BadInput,
    NpyHeader,
    TooBig,
    read_npz_array,
    scan_npz,
)

FORMAT = "kpgui-samples/1"
FORMAT_PREFIX = "kpgui-samples/"
STROKE_KEYS = ("pen_widths", "canvas_sizes", "stroke_counts", "stroke_lengths", "points")


class SampleFileError(ValueError):
    """A samples file is not one kpgui can import; the message names the reason.

    `path` is the file (set by read_samples_file), for messages that show where.
    """

    path: Path | None = None


@dataclass
class SampleBundle:
    """Validated samples as arrays (what a file holds). `strokes[i]` is a list of (n, 2) float32."""

    images: np.ndarray  # uint8 (N, 28, 28)
    labels: np.ndarray  # uint8 (N,)
    strokes: list[list[np.ndarray]]
    pen_widths: np.ndarray  # float32 (N,)
    canvas_sizes: np.ndarray  # int32 (N, 2)
    created_at: list[str] | None = None

    def __len__(self) -> int:
        return len(self.labels)


# -- validating single values (shared with the Store) ---------------------------------------------


def check_label(label: object) -> int:
    """The label as an int, or ValueError: only whole numbers 0-9 are digits."""
    if isinstance(label, bool) or not isinstance(label, int | np.integer):
        raise ValueError(f"a label must be a whole number 0-9, got {label!r}")
    if not 0 <= int(label) <= 9:
        raise ValueError(f"a label must be a digit 0-9, got {label}")
    return int(label)


def image_to_uint8(image: np.ndarray) -> np.ndarray:
    """(28, 28) or (784,) image -> uint8 (28, 28), as MNIST stores them.

    Float images must be in [0, 1] (what strokes_to_mnist returns); they are rounded to 1/255
    steps, which is lossless for training (MNIST itself is uint8) and makes export exact.
    """
    arr = np.asarray(image)
    if arr.size != 784 or arr.shape not in ((28, 28), (784,), (1, 28, 28), (1, 784)):
        raise ValueError(f"images must be 28x28, got shape {arr.shape}")
    arr = arr.reshape(28, 28)
    if arr.dtype == np.uint8:
        return arr.copy()
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"an image must hold numbers, got {arr.dtype}")
    f = arr.astype(np.float64)
    if not np.isfinite(f).all():
        raise ValueError("an image must not contain NaN or infinite values")
    if arr.dtype.kind in "iu":
        if f.min() < 0 or f.max() > 255:
            raise ValueError("integer images must be 0-255")
        return f.astype(np.uint8)
    if f.min() < -1e-6 or f.max() > 1 + 1e-6:
        raise ValueError("float images must be in [0, 1] (0 = background, 1 = ink)")
    return np.clip(np.round(f * 255.0), 0, 255).astype(np.uint8)


def check_strokes(strokes: Sequence) -> list[np.ndarray]:
    """Strokes as a list of finite float32 (n, 2) arrays with n >= 1 (an empty list is allowed)."""
    if strokes is None:
        return []
    out = []
    for i, stroke in enumerate(strokes):
        try:
            with np.errstate(over="ignore"):  # 1e39 -> inf, refused just below
                pts = np.asarray(stroke, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"stroke {i} is not a list of (x, y) points") from exc
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
            raise ValueError(
                f"stroke {i} must be an (n, 2) array of points with n >= 1, got shape {pts.shape}"
            )
        if not np.isfinite(pts).all():
            raise ValueError(f"stroke {i} has NaN or infinite coordinates")
        out.append(np.ascontiguousarray(pts))
    return out


def check_pen_width(pen_width: object) -> float:
    """The pen width as stored (float32), checked AFTER that cast: 1e39 becomes inf there."""
    try:
        with np.errstate(over="ignore"):
            # Anything may come in; what float() refuses raises below.
            w = np.float32(float(cast("SupportsFloat | str", pen_width)))
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"pen width must be a number, got {pen_width!r}") from None
    if not np.isfinite(w) or w <= 0:
        raise ValueError(f"pen width must be a positive number that fits a float32, got {pen_width!r}")
    return float(w)  # what a samples file keeps, so export/import is exact


def check_canvas_size(canvas_size: object) -> tuple[int, int]:
    try:
        # Anything may come in; what is not a pair of whole numbers raises below.
        w, h = (int(v) for v in cast("Iterable[Any]", canvas_size))
    except (TypeError, ValueError):
        raise ValueError(f"canvas size must be (width, height), got {canvas_size!r}") from None
    if not (0 < w <= _INT32_MAX and 0 < h <= _INT32_MAX):
        raise ValueError(
            f"canvas size must be positive whole numbers below 2**31 (stored as int32), got {canvas_size!r}"
        )
    return w, h


# -- stroke packing ---------------------------------------------------------------------------


def pack_strokes(strokes: list[np.ndarray]) -> tuple[bytes, bytes]:
    """(points blob float32 (P, 2), lengths blob int32 (S,)): compact, exact, pickle-free."""
    if not strokes:
        return b"", b""
    points = np.concatenate(strokes).astype("<f4", copy=False)
    lengths = np.array([len(s) for s in strokes], "<i4")
    return points.tobytes(), lengths.tobytes()


def unpack_strokes(points_blob: bytes, lengths_blob: bytes) -> list[np.ndarray]:
    points = np.frombuffer(points_blob, "<f4").reshape(-1, 2).astype(np.float32)
    lengths = np.frombuffer(lengths_blob, "<i4")
    if int(lengths.sum()) != len(points):
        raise ValueError("stored strokes are inconsistent")
    return np.split(points, np.cumsum(lengths)[:-1]) if len(lengths) else []


# -- files ------------------------------------------------------------------------------------


def samples_targets(path: str | os.PathLike) -> tuple[Path]:
    """The file an export to `path` really writes: `.npz` added when the name has no suffix
    of its own (a `.npz` in any case is kept)."""
    p = Path(path)
    return (p if p.suffix.lower() == ".npz" else p.with_name(p.name + ".npz"),)


def write_samples_file(path: str | os.PathLike, bundle: SampleBundle) -> int:
    """Write `bundle` to `path` atomically (temp file + os.replace); returns the sample count.

    Atomic so a crash or full disk never leaves a half-written export where a good one was.
    OwnFileError (nothing written) when `path` is a file kpgui owns, e.g. its live database.
    """
    from kpgui.core.storage.paths import refuse_kpgui_file

    p = Path(path)
    refuse_kpgui_file(p)
    all_strokes = [s for sample in bundle.strokes for s in sample]
    arrays: dict[str, Any] = {
        "format": np.array(FORMAT),
        "images": np.asarray(bundle.images, np.uint8).reshape(-1, 28, 28),
        "labels": np.asarray(bundle.labels, np.uint8),
        "pen_widths": np.asarray(bundle.pen_widths, np.float32),
        "canvas_sizes": np.asarray(bundle.canvas_sizes, np.int32).reshape(-1, 2),
        "stroke_counts": np.array([len(s) for s in bundle.strokes], np.int32),
        "stroke_lengths": np.array([len(s) for s in all_strokes], np.int32),
        "points": (
            np.concatenate(all_strokes).astype(np.float32) if all_strokes else np.zeros((0, 2), np.float32)
        ),
    }
    if bundle.created_at is not None:
        arrays["created_at"] = np.array(bundle.created_at, dtype=str)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)

    atomic_write(p, write)
    return len(bundle)


def _bad(reason: str) -> SampleFileError:
    return SampleFileError(f"not a kpgui samples file: {reason}")


_FIX = "Make samples files with kpgui (`kpgui samples export` or the My digits tab)."
_INT32_MAX = int(np.iinfo(np.int32).max)
_KNOWN = ("format", "images", "labels", *STROKE_KEYS, "created_at")


def read_samples_file(path: str | os.PathLike) -> SampleBundle:
    """Load and fully validate a samples file, or raise SampleFileError naming the file, the
    reason and the fix.

    Loaded with allow_pickle=False: files holding Python objects are refused, never unpickled.
    Each array's header (shape, dtype) is checked against the limits in kpgui.core.storage.bounded
    before it is loaded, so a small file cannot make kpgui allocate gigabytes.
    """
    p = Path(path)
    if not p.is_file():
        raise SampleFileError(f"no file at {p}")
    try:
        with open(p, "rb") as f:
            magic = f.read(6)
    except OSError as exc:
        raise SampleFileError(f"cannot read {p} ({exc.strerror or exc})") from exc
    if magic.startswith(b"\x93NUMPY"):
        raise _bad(f"{p.name} is a single .npy array, not an .npz archive. {_FIX}")
    if not magic.startswith(b"PK"):
        raise _bad(f"{p.name} is not an .npz file (not a zip archive). {_FIX}")
    try:
        with zipfile.ZipFile(p) as archive:
            headers = scan_npz(archive, _KNOWN, max_bytes=None)
            _check_sizes(headers)
            data = {k: read_npz_array(archive, k) for k in headers}
    except TooBig as exc:
        raise SampleFileError(
            f"{p.name} is too big for a kpgui samples file: {exc}. Split it, or export fewer samples."
        ) from exc
    except BadInput as exc:
        raise _bad(f"{p.name}: {exc}. {_FIX}") from exc
    except READ_ERRORS as exc:
        raise _bad(f"{p.name} is not a readable .npz file, or it is damaged ({exc}). {_FIX}") from exc
    try:
        return _validate(data)
    except SampleFileError as exc:
        exc.path = p  # the message keeps its established wording; the app can name the file
        raise


_PER_SAMPLE = {
    "labels": 1,
    "pen_widths": 1,
    "canvas_sizes": 2,
    "stroke_counts": 1,
    "created_at": 1,
    "format": 1,
}


def _check_sizes(headers: dict[str, NpyHeader]) -> None:
    """Refuse, from the headers alone, files with more samples, strokes or points than the
    limits (and absurd text lengths), before any array is loaded."""
    n = headers["images"].shape[0] if "images" in headers and headers["images"].shape else 0
    if n > MAX_SAMPLES:
        raise TooBig(f"it holds {n:,} samples (at most {MAX_SAMPLES:,})")
    caps = {k: v * MAX_SAMPLES for k, v in _PER_SAMPLE.items()}
    caps.update(images=MAX_SAMPLES * 784, stroke_lengths=MAX_SAMPLE_STROKES, points=2 * MAX_SAMPLE_POINTS)
    for key, header in headers.items():
        if header.size > caps[key] or header.nbytes > MAX_NPY_BYTES:
            raise TooBig(
                f"{key!r} holds {header.size:,} values of {header.dtype} (at most "
                f"{caps[key]:,} values and {MAX_NPY_BYTES >> 20} MiB)"
            )
        if header.dtype.kind in "US" and header.dtype.itemsize > 4 * MAX_TEXT_CHARS:
            raise TooBig(f"{key!r} holds texts of {header.dtype.itemsize:,} bytes each")


def _as(arr: np.ndarray, dtype: type, what: str, lo: float, hi: float) -> np.ndarray:
    """`arr` cast to the dtype kpgui stores, checked AFTER the cast (1e39 -> float32 inf; ints
    beyond int32 would wrap), so what is accepted survives a later export and import."""
    target = np.dtype(dtype)
    if target.kind == "f":
        if arr.dtype.kind not in "fiu":
            raise SampleFileError(f"{what} must be numbers, got {arr.dtype}")
        with np.errstate(over="ignore", invalid="ignore"):
            out = arr.astype(target)
        if out.size and not np.isfinite(out).all():
            raise SampleFileError(f"{what} contain NaN or infinite values (or values too large for float32)")
    else:
        if arr.dtype.kind not in "iu":
            raise SampleFileError(f"{what} must be whole numbers, got {arr.dtype}")
        if arr.size and (int(arr.min()) < lo or int(arr.max()) > hi):
            raise SampleFileError(f"{what} must be from {lo:g} to {hi:g}")
        out = arr.astype(target)
    if out.size and (float(out.min()) < lo or float(out.max()) > hi):
        raise SampleFileError(f"{what} must be from {lo:g} to {hi:g}")
    return out


def _validate(d: dict[str, np.ndarray]) -> SampleBundle:
    for key in ("images", "labels"):
        if key not in d:
            raise _bad(f"missing {key!r}")
    if "format" not in d:
        raise _bad("no 'format' marker (make samples files with `kpgui samples export`)")
    marker = d["format"]
    if marker.dtype.kind != "U" or marker.size != 1:
        raise _bad("'format' marker is not a string")
    fmt = str(marker.reshape(()))
    if not fmt.startswith(FORMAT_PREFIX):
        raise _bad(f"format is {fmt!r}, expected {FORMAT!r}")
    if fmt != FORMAT:
        raise SampleFileError(
            f"this samples file ({fmt}) was made by a newer kpgui; update kpgui to import it"
        )
    images, labels = d["images"], d["labels"]
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise SampleFileError(f"images must be 28x28 (an (N, 28, 28) array), got {images.shape}")
    if images.dtype != np.uint8:
        raise SampleFileError(f"images must be uint8 0-255, got {images.dtype}")
    n = len(images)
    if labels.ndim != 1 or len(labels) != n:
        raise SampleFileError(f"labels must be one per image: {n} images, labels {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise SampleFileError(f"labels must be whole numbers, got {labels.dtype}")
    if n and (labels.min() < 0 or labels.max() > 9):
        raise SampleFileError("labels outside 0-9")
    missing = [k for k in STROKE_KEYS if k not in d]
    if missing:
        raise _bad(f"missing {missing[0]!r}")
    if d["pen_widths"].shape != (n,) or d["pen_widths"].dtype.kind != "f":
        raise SampleFileError("pen_widths must be one positive number per image")
    pens = _as(d["pen_widths"], np.float32, "pen_widths", 0.0, np.inf)
    if n and not (pens > 0).all():
        raise SampleFileError("pen_widths must be one positive number per image")
    if d["canvas_sizes"].shape != (n, 2):
        raise SampleFileError("canvas_sizes must be one positive (width, height) per image")
    sizes = _as(d["canvas_sizes"], np.int32, "canvas_sizes", 1, _INT32_MAX)
    if d["stroke_counts"].shape != (n,):
        raise SampleFileError("stroke_counts must be one count >= 0 per image")
    counts = _as(d["stroke_counts"], np.int32, "stroke_counts", 0, _INT32_MAX)
    s = int(counts.sum(dtype=np.int64))
    lengths = d["stroke_lengths"]
    if lengths.shape != (s,) or lengths.dtype.kind not in "iu":
        raise SampleFileError(
            f"stroke_lengths must be one length >= 1 per stroke ({s} strokes), got shape {lengths.shape}"
        )
    lengths = _as(lengths, np.int32, "stroke_lengths", 1, _INT32_MAX)
    total = int(lengths.sum(dtype=np.int64))
    points = d["points"]
    if points.shape != (total, 2) or points.dtype.kind != "f":
        raise SampleFileError(f"points must be ({total}, 2) floats, got {points.dtype} {points.shape}")
    pts = _as(points, np.float32, "points", -np.inf, np.inf)
    created = None
    if "created_at" in d:
        c = d["created_at"]
        if c.shape != (n,) or c.dtype.kind != "U":
            raise SampleFileError("created_at must be one date string per image")
        created = [str(x) for x in c]
    flat = np.split(pts, np.cumsum(lengths, dtype=np.int64)[:-1]) if s else []
    bounds = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).astype(int)
    strokes = [list(flat[bounds[i] : bounds[i + 1]]) for i in range(n)]
    return SampleBundle(
        images=images.astype(np.uint8),
        labels=labels.astype(np.uint8),
        strokes=strokes,
        pen_widths=pens,
        canvas_sizes=sizes,
        created_at=created,
    )
