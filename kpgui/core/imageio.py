"""Reading pictures of digits from disk for `kpgui predict` and the import dialog."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class ImageReadError(RuntimeError):
    """The file is not a picture we can read; the message says why."""


def read_image(path: str | Path) -> np.ndarray:
    """Grayscale float64 (H, W) array in [0, 1] from PNG/JPEG/BMP/GIF/TIFF, or .npy arrays."""
    p = Path(path)
    if not p.is_file():
        raise ImageReadError(f"no file at {p}")
    if p.suffix.lower() == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ImageReadError(f"{p.name} is not a readable .npy array ({exc})") from exc
        arr = np.squeeze(arr)
        if arr.ndim == 1 and arr.size == 784:
            arr = arr.reshape(28, 28)
        if arr.ndim != 2 or arr.dtype.kind not in "uif":
            raise ImageReadError(f"{p.name} holds a {arr.dtype} array of shape {arr.shape}, not an image")
        arr = arr.astype(np.float64)
        return arr / 255.0 if arr.max() > 1.0 else arr
    try:
        from PIL import Image, UnidentifiedImageError

        with Image.open(p) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "P"):
                im = im.convert("RGBA")
                rgba = np.asarray(im, dtype=np.float64) / 255.0
                alpha = rgba[..., 3]
                gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
                # Transparent pixels: a dark digit on nothing reads as ink on white paper.
                return gray * alpha + (1.0 - alpha)
            return np.asarray(im.convert("L"), dtype=np.float64) / 255.0
    except UnidentifiedImageError as exc:
        raise ImageReadError(f"{p.name} is not an image kpgui can read (PNG, JPEG, BMP, GIF, TIFF)") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageReadError(f"{p.name} could not be read: {exc}") from exc
