"""Reading pictures of digits from disk for `kpgui predict` and the import dialog.

Pictures can be forged or simply huge. The size a file claims is checked before its pixels are
decoded (limits.MAX_IMAGE_PIXELS), and an allowed but large picture is downscaled as it is read
(limits.MAX_IMAGE_SIDE), so the steps after it stay cheap whatever was opened.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kpgui.core.reading.preprocess import flatten_alpha, to_unit_range
from kpgui.core.storage.bounded import (
    MAX_IMAGE_PIXELS,
    MAX_IMAGE_SIDE,
    BadInput,
    millions,
    npy_header_of_file,
    shrink_image,
)


class ImageReadError(RuntimeError):
    """The file is not a picture we can read; the message says why."""


_LIMIT = (
    f"kpgui reads pictures of up to {millions(MAX_IMAGE_PIXELS)} pixels; crop or scale it "
    "down to the digit and try again"
)


def _too_big(name: str, width: int, height: int) -> ImageReadError:
    return ImageReadError(
        f"{name} is {width:,} x {height:,} = {millions(width * height)} pixels, too big: {_LIMIT}"
    )


def read_image(path: str | Path) -> np.ndarray:
    """Grayscale float64 (H, W) array in [0, 1] from PNG/JPEG/BMP/GIF/TIFF, or .npy arrays.

    Pictures over limits.MAX_IMAGE_PIXELS are refused before decoding; larger sides than
    limits.MAX_IMAGE_SIDE are downscaled (box filter) while reading. Raises ImageReadError.
    """
    p = Path(path)
    if not p.is_file():
        raise ImageReadError(f"no file at {p}")
    if p.suffix.lower() == ".npy":
        return _read_npy(p)
    return _read_picture(p)


def _read_npy(p: Path) -> np.ndarray:
    try:
        header = npy_header_of_file(p)
    except BadInput as exc:
        raise ImageReadError(f"{p.name} is not a readable .npy array: {exc}") from exc
    except OSError as exc:
        raise ImageReadError(f"{p.name} could not be read ({exc.strerror or exc})") from exc
    dims = [d for d in header.shape if d != 1]
    if header.dtype.kind not in "uif" or not (len(dims) == 2 or dims == [784]):
        raise ImageReadError(f"{p.name} holds a {header.dtype} array of shape {header.shape}, not an image")
    if header.size > MAX_IMAGE_PIXELS:
        raise _too_big(p.name, dims[-1], dims[0])
    if p.stat().st_size < header.nbytes:
        raise ImageReadError(
            f"{p.name} is cut short: its header promises {header.nbytes:,} bytes "
            "of pixels that are not in the file"
        )
    try:
        arr = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise ImageReadError(f"{p.name} is not a readable .npy array ({exc})") from exc
    arr = np.squeeze(arr)
    if arr.ndim == 1 and arr.size == 784:
        arr = arr.reshape(28, 28)
    if arr.ndim != 2 or arr.dtype.kind not in "uif":
        raise ImageReadError(f"{p.name} holds a {arr.dtype} array of shape {arr.shape}, not an image")
    return to_unit_range(shrink_image(arr))


def _read_picture(p: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(p) as im:
            width, height = im.size
            if width * height > MAX_IMAGE_PIXELS:
                raise _too_big(p.name, width, height)
            if max(width, height) > MAX_IMAGE_SIDE:
                im.draft(None, (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))  # JPEG: decode at reduced scale
            im.load()
            if im.mode in ("RGBA", "LA", "P", "PA", "La", "RGBa") or "transparency" in im.info:
                rgba = im if im.mode == "RGBA" else im.convert("RGBA")
                rgba.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.Resampling.BOX)
                # Pillow's grey, as for opaque pictures below (ITU-R 601-2 luma rounded to 1/255;
                # benchmarks/bench_image_ops.py: 0.38 ms vs 0.74 ms for the same sum in NumPy).
                gray = np.asarray(rgba.convert("L"), dtype=np.float64) / 255.0
                alpha = np.asarray(rgba.getchannel("A"), dtype=np.float64) / 255.0
                return flatten_alpha(gray, alpha)
            if im.mode.startswith(("I", "F")):  # 16/32-bit integer or float grey: every level
                deep = np.asarray(im.convert("I") if im.mode.startswith("I;") else im)
                return to_unit_range(shrink_image(deep))
            gray_im = im.convert("L")
            gray_im.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.Resampling.BOX)
            return np.asarray(gray_im, dtype=np.float64) / 255.0
    except ImageReadError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"{p.name} claims to be an enormous picture ({exc}); {_LIMIT}") from exc
    except UnidentifiedImageError as exc:
        raise ImageReadError(f"{p.name} is not an image kpgui can read (PNG, JPEG, BMP, GIF, TIFF)") from exc
    except MemoryError as exc:
        raise ImageReadError(f"{p.name} is too big to read in this computer's memory; {_LIMIT}") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageReadError(f"{p.name} could not be read: {exc}") from exc
