"""Hostile files for the tests: headers that claim far more than the file holds."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A real 1x1 PNG whose header is rewritten to claim width x height (CRC fixed)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def npy_claiming(path: Path, shape: tuple, descr: str = "<f8") -> Path:
    """A .npy whose header claims `shape` but holds 64 bytes."""
    with open(path, "wb") as f:
        np.lib.format.write_array_header_2_0(f, {"descr": descr, "fortran_order": False,
                                                "shape": shape})
        f.write(bytes(64))
    return path
