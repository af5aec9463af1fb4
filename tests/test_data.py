"""Finding and loading MNIST: the happy path and every way it can go wrong."""

from __future__ import annotations

import numpy as np
import pytest

from kpgui.core.data.mnist import DatasetError, find_mnist, load_mnist


def _write_mnist(path, n=20, **override):
    arrays = {
        "x_train": np.zeros((n, 28, 28), np.uint8),
        "y_train": np.arange(n, dtype=np.uint8) % 10,
        "x_test": np.zeros((n // 2, 28, 28), np.uint8),
        "y_test": np.arange(n // 2, dtype=np.uint8) % 10,
    }
    arrays.update(override)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(path, **arrays)
    return path


def test_real_mnist_has_the_keras_layout(mnist):
    x_train, y_train, x_test, y_test = mnist
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_explicit_path_wins_over_environment(tmp_path, monkeypatch):
    mine = _write_mnist(tmp_path / "mine.npz", n=30)
    monkeypatch.setenv("KPGUI_MNIST", str(_write_mnist(tmp_path / "env.npz", n=40)))
    assert len(load_mnist(mine)[0]) == 30
    assert len(load_mnist()[0]) == 40


def test_keras_cache_is_used_when_nothing_else_is_set(tmp_path, monkeypatch):
    monkeypatch.delenv("KPGUI_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    (tmp_path / "kh" / "datasets").mkdir(parents=True)
    cached = _write_mnist(tmp_path / "kh" / "datasets" / "mnist.npz", n=12)
    assert find_mnist() == cached
    assert len(load_mnist()[0]) == 12


def test_missing_explicit_file_names_the_remedy(tmp_path):
    with pytest.raises(DatasetError) as err:
        load_mnist(tmp_path / "nope.npz")
    assert "nope.npz" in str(err.value) and "KPGUI_MNIST" in str(err.value)


def test_env_var_pointing_nowhere_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("KPGUI_MNIST", str(tmp_path / "gone.npz"))
    with pytest.raises(DatasetError, match="KPGUI_MNIST is set to"):
        load_mnist()


def test_failed_download_explains_how_to_work_offline(tmp_path, monkeypatch):
    """The download is kpgui's own (no TensorFlow import: no chatter, a quick answer offline)."""
    import kpgui.core.data.download as download

    monkeypatch.delenv("KPGUI_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty"))

    def no_network(*_a, **_k):
        raise OSError("network is unreachable")

    monkeypatch.setattr(download.urllib.request, "urlopen", no_network)
    with pytest.raises(DatasetError) as err:
        load_mnist()
    msg = str(err.value)
    assert "downloading it failed" in msg and "network is unreachable" in msg
    assert "mnist.npz" in msg and "KPGUI_MNIST" in msg


def test_corrupt_and_truncated_files_are_refused(tmp_path, mnist):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"this is not a zip file at all" * 10)
    with pytest.raises(DatasetError, match="corrupt"):
        load_mnist(junk)
    good = _write_mnist(tmp_path / "good.npz", n=200)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DatasetError):
        load_mnist(truncated)


@pytest.mark.parametrize(
    "override, reason",
    [
        ({"y_test": None}, "lacks y_test"),
        ({"x_train": np.zeros((20, 32, 32), np.uint8)}, "x_train should be uint8"),
        ({"x_train": np.zeros((20, 28, 28), np.float32)}, "x_train should be uint8"),
        ({"y_train": np.full(20, 11, np.uint8)}, "outside 0-9"),
        ({"y_train": np.zeros(5, np.uint8)}, "one integer label per image"),
    ],
)
def test_wrong_contents_are_named(tmp_path, override, reason):
    bad = _write_mnist(tmp_path / "bad.npz", **override)
    with pytest.raises(DatasetError, match=reason):
        load_mnist(bad)


def test_pickled_objects_are_never_loaded(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(
        path,
        x_train=np.array([{"evil": 1}], dtype=object),
        y_train=np.zeros(1),
        x_test=np.zeros(1),
        y_test=np.zeros(1),
    )
    with pytest.raises(DatasetError):
        load_mnist(path)
