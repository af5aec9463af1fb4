"""Downloading MNIST for the window: chunked with progress, checked, atomic, cancellable, and
every failure in words (no network here: a local file:// address stands in for the server)."""

from __future__ import annotations

import hashlib
import os

import pytest

from kpgui.core.data.download import download_mnist
from kpgui.core.data.mnist import DatasetError, load_mnist

MNIST = os.environ.get("KPGUI_MNIST", "")


@pytest.mark.skipif(not os.path.isfile(MNIST), reason="needs the MNIST file")
def test_download_reports_progress_checks_the_file_and_writes_it_whole(tmp_path):
    digest = hashlib.sha256(open(MNIST, "rb").read()).hexdigest()
    seen = []
    target = tmp_path / "cache" / "mnist.npz"
    path = download_mnist(
        target, url=f"file://{MNIST}", sha256=digest, progress=lambda done, total: seen.append((done, total))
    )
    assert path == target and seen[-1][0] == os.path.getsize(MNIST)
    assert len(seen) > 3 and all(a <= b for (a, _), (b, _) in zip(seen, seen[1:], strict=False))
    assert load_mnist(path)[0].shape == (60000, 28, 28)


@pytest.mark.skipif(not os.path.isfile(MNIST), reason="needs the MNIST file")
def test_a_wrong_checksum_or_a_cancel_saves_nothing(tmp_path):
    target = tmp_path / "mnist.npz"
    with pytest.raises(DatasetError, match="checksum"):
        download_mnist(target, url=f"file://{MNIST}", sha256="0" * 64)
    with pytest.raises(InterruptedError):
        download_mnist(target, url=f"file://{MNIST}", sha256=None, cancelled=lambda: True)
    assert list(tmp_path.iterdir()) == []


def test_no_network_is_one_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="Connect to the internet"):
        download_mnist(tmp_path / "m.npz", url="http://127.0.0.1:9/mnist.npz", timeout=2)
