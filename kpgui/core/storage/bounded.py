"""How big an input kpgui accepts, and bounded readers that check a size before paying for it.

Every file kpgui opens may come from someone else. A few kilobytes can claim gigabytes (a zip
member of compressed zeros, an HDF5 dataset of 784 x 3,000,000, a .npy header promising 1e10
elements), so each reader here looks at the declared size first, refuses what is over the limit,
and still reads with a hard cap because headers can lie. The limits are chosen so that any input
file up to 10 MB costs at most about 1.5 GB of memory, while every real kpgui file (the default
784-512-512-10 model has 670 k parameters; MNIST is 70 000 images) is far inside them.

The helpers raise `TooBig` / `BadInput` with a cause in words; each caller adds the file name
and the fix and re-raises it as its own typed error (ModelLoadError, DatasetError, ...).
Qt-free and TensorFlow-free.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

# -- the limits -----------------------------------------------------------------------------------

MAX_PARAMS = 50_000_000  # weights of one model (default model: 670 k; a 2 x 4096 net: 20 M)
MAX_ACTIVATIONS = 4_000_000  # numbers one layer may produce for one picture
MAX_CONFIG_BYTES = 8 * 1024 * 1024  # a model's config.json (the default model's: 4.7 kB)
MAX_JSON_DEPTH = 100  # nesting of [ and { (Keras configs: about 10)
MAX_JSON_INT_DIGITS = 18  # a whole number in a file kpgui reads (its largest: seeds, 10 digits)
MAX_WEIGHTS_BYTES = 512 * 1024 * 1024  # a model's model.weights.h5 (weights + optimizer state)
MAX_ZIP_MEMBERS = 10_000  # files inside one zip (.keras, .npz)
MAX_CARD_BYTES = 4 * 1024 * 1024  # a model card (.json beside a model)

MAX_IMAGE_PIXELS = 80_000_000  # a picture to read (a 48 MP phone photo is 8000 x 6000)
MAX_IMAGE_SIDE = 2048  # pictures are downscaled to this on read: a digit needs far less

MAX_STROKE_POINTS = 4096  # points of one drawing, in total; more are resampled evenly
MAX_STROKES = 1024  # strokes of one drawing; more are thinned evenly

MAX_NPY_BYTES = 512 * 1024 * 1024  # one array inside an .npz
MAX_MNIST_IMAGES = 300_000  # per split (MNIST: 60 000 + 10 000)
MAX_SAMPLES = 100_000  # in one samples file (each is a digit a person drew by hand)
MAX_SAMPLE_STROKES = 1_000_000  # strokes in one samples file, in total
MAX_SAMPLE_POINTS = 10_000_000  # stroke points in one samples file, in total (80 MB)
MAX_TEXT_CHARS = 64  # the format marker and each date string in a samples file


# What reading a damaged zip/.npy/.h5 can raise besides our own errors (zlib.error for broken
# deflate data, RuntimeError for encrypted members, EOFError for cut files ...).
READ_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    RuntimeError,
    NotImplementedError,
    OverflowError,
    KeyError,
    IndexError,
)


class BadInput(ValueError):
    """An input is malformed or over a limit; the message is the cause, in words."""


class TooBig(BadInput):
    """An input is over one of the limits above."""


def millions(n: float) -> str:
    """12_345_678 -> '12.3 M', for messages people read."""
    if n >= 1e6:
        return f"{n / 1e6:,.1f} M"
    if n >= 1e3:
        return f"{n / 1e3:,.0f} k"
    return f"{n:,.0f}"


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e5 else f"{n / 1e3:,.1f} kB"


# -- JSON -----------------------------------------------------------------------------------------

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def json_depth(data: bytes) -> int:
    """How deeply [ and { nest in a JSON text, counted without parsing (json.loads recurses)."""
    bare = np.frombuffer(_JSON_STRING.sub(b'""', data), np.uint8)
    step = np.isin(bare, (ord("["), ord("{"))).astype(np.int32) - np.isin(bare, (ord("]"), ord("}"))).astype(
        np.int32
    )
    return int(np.cumsum(step).max(initial=0))


def short_text(value: Any, limit: int = 24) -> str:
    """repr(value) cut to `limit` characters, for messages (a 400-digit number stays readable)."""
    text = (
        repr(value)
        if not isinstance(value, int) or isinstance(value, bool)
        else (str(value) if abs(value) < 10**limit else f"{str(value)[:8]}… ({len(str(abs(value)))} digits)")
    )
    return text if len(text) <= limit + 20 else text[:limit] + "…"


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_JSON_INT_DIGITS:
        raise BadInput(
            f"it holds the number {text[:8]}… ({digits:,} digits), far larger than any value kpgui uses"
        )
    return int(text)


def loads_json(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads that refuses deep nesting up front (BadInput) instead of hitting RecursionError,
    and whole numbers beyond MAX_JSON_INT_DIGITS digits (BadInput naming it) instead of letting
    float() raise OverflowError later. Floats beyond the float range read as inf and are refused
    by the checks of each value.

    NaN and Infinity tokens are accepted (old kpgui files have them).
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    depth = json_depth(raw)
    if depth > max_depth:
        raise BadInput(f"its JSON is nested {depth:,} levels deep (at most {max_depth} allowed)")
    try:
        return json.loads(raw, parse_int=_bounded_int)
    except RecursionError as exc:  # pragma: no cover - json_depth catches this first
        raise BadInput("its JSON is nested too deeply") from exc
    except BadInput:
        raise
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise BadInput(f"it is not valid JSON ({exc})") from exc


def finite_json(value: Any) -> Any:
    """`value` with every NaN/inf float replaced by None, tuples and arrays by lists, NumPy
    numbers by Python ones and keys by text, recursively: what json.dumps writes as valid JSON."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite_json(value.tolist())
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value


def to_json(value: Any, indent: int | None = 2) -> str:
    """Strict JSON text of `value` (finite_json; other objects as their text): what kpgui writes
    everywhere (model cards, the history's columns, `kpgui runs --json`, experiment files)."""
    return json.dumps(finite_json(value), indent=indent, allow_nan=False, default=str)


# -- zip archives ---------------------------------------------------------------------------------


def zip_members(archive: zipfile.ZipFile, max_members: int = MAX_ZIP_MEMBERS) -> dict[str, zipfile.ZipInfo]:
    """Name -> ZipInfo, refusing archives with absurdly many members."""
    infos = archive.infolist()
    if len(infos) > max_members:
        raise TooBig(f"it holds {len(infos):,} files (at most {max_members:,} allowed)")
    return {i.filename: i for i in infos}


def check_member_size(info: zipfile.ZipInfo, cap: int) -> None:
    """Refuse a member whose declared uncompressed size is over `cap` (before decompressing)."""
    if info.file_size > cap:
        raise TooBig(f"{info.filename} inside it unpacks to {mb(info.file_size)} (at most {mb(cap)} allowed)")


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """The member's bytes, refusing it if it declares or actually yields more than `cap`."""
    check_member_size(info, cap)
    with archive.open(info) as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise TooBig(f"{info.filename} inside it unpacks to more than {mb(cap)}")
    return data


def copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: IO[bytes], cap: int) -> None:
    """Stream a member into `out`, at most `cap` bytes (so it can spill to disk, not memory)."""
    check_member_size(info, cap)
    written = 0
    with archive.open(info) as f:
        while chunk := f.read(1 << 20):
            written += len(chunk)
            if written > cap:
                raise TooBig(f"{info.filename} inside it unpacks to more than {mb(cap)}")
            out.write(chunk)


# -- .npy headers and .npz archives ----------------------------------------------------------------


@dataclass(frozen=True)
class NpyHeader:
    """What an .npy header promises, read without reading the array."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize


def read_npy_header(f: IO[bytes]) -> NpyHeader:
    """Shape and dtype from an .npy stream positioned at its start; BadInput if it is not one."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(f)
        else:
            raise BadInput(f"it is a .npy file of version {version}, which kpgui does not read")
    except BadInput:
        raise
    except Exception as exc:  # NumPy's header parser raises many types (even TokenError)
        raise BadInput(f"it has no valid .npy header ({exc})") from exc
    if dtype.hasobject:
        raise BadInput("it holds Python objects, which are refused for safety")
    return NpyHeader(tuple(int(d) for d in shape), dtype, bool(fortran))


def npy_header_of_file(path: Any) -> NpyHeader:
    with open(path, "rb") as f:
        return read_npy_header(f)


def scan_npz(
    archive: zipfile.ZipFile, keys: Iterable[str] | None = None, max_bytes: int | None = MAX_NPY_BYTES
) -> dict[str, NpyHeader]:
    """Headers of the arrays in an .npz (key -> NpyHeader), each checked against `max_bytes`
    (None: the caller checks the headers itself, before read_npz_array).

    `keys` limits the scan to those arrays (missing ones are simply absent from the result).
    Reads only the few hundred bytes of each header.
    """
    members = zip_members(archive)
    wanted = None if keys is None else set(keys)
    out: dict[str, NpyHeader] = {}
    for name, info in members.items():
        if not name.endswith(".npy"):
            continue
        key = name[:-4]
        if wanted is not None and key not in wanted:
            continue
        if info.flag_bits & 0x1:
            raise BadInput(f"{name} inside it is encrypted")
        if max_bytes is not None:
            check_member_size(info, max_bytes + 4096)
        with archive.open(info) as f:
            try:
                header = read_npy_header(f)
            except BadInput as exc:
                raise BadInput(f"{key!r}: {exc}") from exc
        if max_bytes is not None and header.nbytes > max_bytes:
            raise TooBig(
                f"{key!r} claims {millions(header.size)} values of {header.dtype} "
                f"({mb(header.nbytes)}; at most {mb(max_bytes)} allowed)"
            )
        out[key] = header
    return out


def read_npz_array(archive: zipfile.ZipFile, key: str) -> np.ndarray:
    """One array of an .npz, never unpickling; its header must have passed scan_npz first."""
    with archive.open(key + ".npy") as f:
        return np.lib.format.read_array(f, allow_pickle=False)


# -- pictures and drawings -------------------------------------------------------------------------


def _block_mean(a: np.ndarray, k: int) -> np.ndarray:
    """Mean over k x k blocks (a box filter), a band of rows at a time so memory stays small."""
    h, w = a.shape[0] // k, a.shape[1] // k
    out = np.empty((h, w, *a.shape[2:]), np.float64)
    band = max(1, (1 << 22) // max(1, k * k * w))  # ~4 M input values per band
    for r in range(0, h, band):
        rows = min(band, h - r)
        block = a[r * k : (r + rows) * k, : w * k].reshape(rows, k, w, k, *a.shape[2:])
        out[r : r + rows] = block.mean(axis=(1, 3), dtype=np.float64)
    return out


def shrink_image(image: np.ndarray, max_side: int = MAX_IMAGE_SIDE) -> np.ndarray:
    """A (H, W) or (H, W, C) picture whose longer side is over `max_side`, box-downscaled by a
    whole factor until it is not; smaller pictures are returned untouched (same object).

    Integer pictures keep their dtype (rounded), so what they mean (0-255, 0-65535) is unchanged.
    """
    a = np.asarray(image)
    if a.ndim not in (2, 3) or max(a.shape[:2], default=0) <= max_side:
        return image
    k = math.ceil(max(a.shape[:2]) / max_side)
    if min(a.shape[:2]) < k:  # a sliver (e.g. 1 x 100000): keep at least one row/column
        k = max(1, min(a.shape[:2]))
    small = _block_mean(a, k) if a.dtype.kind in "uifb" else a[::k, ::k]
    if a.dtype.kind in "ui":
        return np.clip(np.round(small), np.iinfo(a.dtype).min, np.iinfo(a.dtype).max).astype(a.dtype)
    if a.dtype.kind == "b":
        return small >= 0.5
    return small


def _evenly(n: int, keep: int) -> np.ndarray:
    """`keep` indices spread evenly over range(n), first and last included."""
    return np.unique(np.round(np.linspace(0, n - 1, keep)).astype(np.int64))


def bound_strokes(strokes: Any, max_points: int = MAX_STROKE_POINTS, max_strokes: int = MAX_STROKES) -> Any:
    """Strokes thinned to at most `max_strokes` strokes and `max_points` points in total.

    Drawings within the limits are returned untouched (the same object). Over them, strokes are
    kept evenly and each stroke is resampled evenly along its points (first and last kept), in
    proportion to its length. Malformed strokes are passed through for the caller to drop.
    """
    if strokes is None:
        return strokes
    if isinstance(strokes, np.ndarray):
        items: Sequence = list(strokes) if strokes.ndim >= 1 else []
    elif isinstance(strokes, Sequence):
        items = strokes
    else:
        import itertools

        items = list(itertools.islice(strokes, max_strokes * 16))
    if len(items) > max_strokes:
        items = [items[i] for i in _evenly(len(items), max_strokes)]
    arrays: list[Any] = []
    total = 0
    for s in items:
        try:
            arr = np.asarray(s, dtype=np.float64).reshape(-1, 2)
        except (TypeError, ValueError):
            arrays.append(s)  # the caller drops what is not a polyline
            continue
        arrays.append(arr)
        total += len(arr)
    if total <= max_points:
        return strokes if items is strokes else arrays
    share = max_points / total
    out: list[Any] = []
    for arr in arrays:
        if isinstance(arr, np.ndarray) and len(arr) > 2:
            arr = arr[_evenly(len(arr), max(2, int(len(arr) * share)))]
        out.append(arr)
    return out
