"""Hostile files and places for the tests: headers that claim far more than the file holds,
a small disk that fills up or turns read-only."""

from __future__ import annotations

import contextlib
import io
import os
import struct
import subprocess
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
        np.lib.format.write_array_header_2_0(f, {"descr": descr, "fortran_order": False, "shape": shape})
        f.write(bytes(64))
    return path


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "2m"):
    """A tiny tmpfs mounted at `folder` for the block (skips the test where mounting is not
    allowed): a real full or read-only disk, as root cannot be stopped by permissions."""
    import pytest

    folder.mkdir(parents=True, exist_ok=True)
    if (
        not hasattr(os, "geteuid")
        or os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
        ).returncode
        != 0
    ):
        pytest.skip("needs root and mount to make a small disk")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill_disk(folder: Path) -> None:
    """Write to `folder` until its disk is full (to the last byte)."""
    for i, chunk in enumerate((64 * 1024, 512, 1)):
        try:
            with open(folder / f"filler{i}.bin", "wb", buffering=0) as f:
                while True:
                    f.write(bytes(chunk))
        except OSError:
            pass


def remount_read_only(folder: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, capture_output=True)
