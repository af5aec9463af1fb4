"""Downloading MNIST into the Keras cache, with progress, for the window's "Download" button.

Keras' own `mnist.load_data()` downloads the same file from the same address into the same
place, but it reports progress only as a terminal bar and needs TensorFlow imported (3-4 s);
the window wants a progress bar and no TensorFlow, so this fetches it with urllib (chunked,
checked against Keras' SHA-256, written atomically). The CLI and the training process still
let Keras download when nothing else worked (kpgui.core.data.mnist.load_mnist).
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.error import URLError

from kpgui.core.data.mnist import DatasetError, keras_cache_path
from kpgui.core.storage.atomic import atomic_write

URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # Keras' own check
MAX_BYTES = 64 * 1024 * 1024  # the real file is 11 MB; a server sending more is not MNIST
CHUNK = 256 * 1024


def download_mnist(
    target: str | os.PathLike | None = None,
    url: str = URL,
    sha256: str | None = SHA256,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    timeout: float = 30.0,
) -> Path:
    """Fetch MNIST to `target` (default: the Keras cache) and return its path.

    `progress(done_bytes, total_bytes)` is called as it arrives (total 0 if unknown); when
    `cancelled()` becomes true the download stops and nothing is written. Raises DatasetError
    naming the cause and what to do."""
    path = Path(target) if target is not None else keras_cache_path()
    digest = hashlib.sha256()

    def write(tmp: str) -> None:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while True:
                if cancelled():
                    raise InterruptedError("download cancelled")
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                done += len(chunk)
                if done > MAX_BYTES:
                    raise DatasetError(
                        f"{url} sent more than {MAX_BYTES // 2**20} MB: that is not "
                        "the MNIST file; nothing was saved."
                    )
                digest.update(chunk)
                out.write(chunk)
                if progress is not None:
                    progress(done, total)
        if sha256 and digest.hexdigest() != sha256:
            raise DatasetError(
                f"The file downloaded from {url} is damaged or not MNIST (its "
                "checksum is wrong); nothing was saved. Try again later."
            )

    try:
        atomic_write(path, write)
    except DatasetError:
        raise
    except InterruptedError:
        raise
    except OSError as exc:  # network down, DNS, refused, disk full
        raise DatasetError(
            f"Downloading MNIST from {url} failed ({exc.reason if isinstance(exc, URLError) else exc}). "
            f"Connect to the internet and try again, or copy mnist.npz to {path}."
        ) from exc
    return path
