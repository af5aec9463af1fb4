"""Test set-up: offscreen Qt, the shared MNIST file, and a private user folder for every test."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"
if not os.environ.get("KPGUI_MNIST") and _SHARED_MNIST.is_file():
    os.environ["KPGUI_MNIST"] = str(_SHARED_MNIST)


@pytest.fixture(autouse=True)
def _private_user_dirs(tmp_path_factory, monkeypatch):
    """Each test gets its own data and settings folders: nothing leaks into ~ or between tests."""
    root = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("KPGUI_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("KPGUI_CONFIG_DIR", str(root / "config"))
    yield root


@pytest.fixture
def short_busy_timeout(monkeypatch):
    """Stores opened in this test give up on another program's lock after 0.1 s instead of 2 s
    (tests that hold the lock on purpose need not wait the whole production timeout)."""
    from kpgui.core.storage.store import Store

    monkeypatch.setattr(Store, "busy_timeout", 0.1)


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST arrays (x_train, y_train, x_test, y_test), loaded once per session."""
    from kpgui.core.data.mnist import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def mnist_slice(tmp_path_factory, mnist):
    """A real MNIST file cut short (the first 6 000 training and 2 000 test digits), for tests
    of what the window does with a whole test set (evaluate, measure a candidate) that need not
    read all 10 000 digits with their views: (path, (x_train, y_train, x_test, y_test))."""
    x, y, xt, yt = mnist
    arrays = (x[:6000], y[:6000], xt[:2000], yt[:2000])
    path = tmp_path_factory.mktemp("mnist-slice") / "mnist.npz"
    np.savez(path, x_train=arrays[0], y_train=arrays[1], x_test=arrays[2], y_test=arrays[3])
    return path, arrays


@pytest.fixture(scope="session")
def small_model_path(tmp_path_factory, mnist):
    """A small real model (784-64-10, 2 epochs on 12 000 images, ~93 % accurate), saved once.
    It trains with Keras (TensorFlow's import alone is seconds): for slow tests only; fast tests
    use `small_predictor`, `model_copy_path` or `worse_model_path`."""
    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.storage.saving import save_model
    from kpgui.core.training.trainer import Trainer

    x, y, xt, yt = mnist
    spec = ModelSpec(hidden=(64,), epochs=2, validation_split=0.0, seed=1)
    trainer = Trainer(spec, data=(x[:12000], y[:12000], xt[:1000], yt[:1000]))
    result = trainer.run()
    return save_model(trainer.model, tmp_path_factory.mktemp("models") / "small.keras", result)


@pytest.fixture(scope="session")
def small_predictor(mnist):
    """A small real model (784-64-10 ReLU, about 88 % accurate) in memory, trained here with
    plain NumPy mini-batch gradient descent (1 epoch on 12 000 MNIST images, under a second):
    for tests about other widths that need no file and no TensorFlow."""
    from kpgui.core.model.inference import DenseLayer, Predictor

    rng = np.random.default_rng(1)
    x = (mnist[0][:12000].reshape(-1, 784) / 255.0).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[mnist[1][:12000]]
    w1 = rng.normal(0, np.sqrt(2 / 784), (784, 64)).astype(np.float32)
    w2 = rng.normal(0, np.sqrt(1 / 64), (64, 10)).astype(np.float32)
    b1, b2 = np.zeros(64, np.float32), np.zeros(10, np.float32)
    order = rng.permutation(len(x))
    for start in range(0, len(x), 64):
        xb, yb = x[order[start : start + 64]], y[order[start : start + 64]]
        h = np.maximum(xb @ w1 + b1, 0)
        z = h @ w2 + b2
        p = np.exp(z - z.max(axis=1, keepdims=True))
        dz = (p / p.sum(axis=1, keepdims=True) - yb) / len(xb)  # softmax cross-entropy
        dh = (dz @ w2.T) * (h > 0)
        w2 -= 0.1 * h.T @ dz
        b2 -= 0.1 * dz.sum(axis=0)
        w1 -= 0.1 * xb.T @ dh
        b1 -= 0.1 * dh.sum(axis=0)
    return Predictor(layers=[DenseLayer(w1, b1, "relu"), DenseLayer(w2, b2, "softmax")], name="small")


@pytest.fixture(scope="session")
def model_copy_path(tmp_path_factory):
    """A copy of the shipped model and its card as a file someone opens (`other.keras`)."""
    from kpgui.core.storage.resources import default_model_path
    from kpgui.core.storage.saving import copy_model

    return copy_model(default_model_path(), tmp_path_factory.mktemp("models") / "other.keras")


@pytest.fixture(scope="session")
def worse_model_path(tmp_path_factory, mnist):
    """The shipped model with noise added to its weights, saved as `worse.keras`: a readable
    model that is clearly worse on MNIST (its card says how much, measured on 2,000 test
    images), made without TensorFlow."""
    import shutil
    import zipfile

    import h5py

    from kpgui.core.model.inference import Predictor
    from kpgui.core.storage.resources import default_model_path
    from kpgui.core.storage.saving import copy_model

    folder = tmp_path_factory.mktemp("worse")
    with zipfile.ZipFile(default_model_path()) as shipped:
        shipped.extractall(folder / "parts")
        names = shipped.namelist()
    rng = np.random.default_rng(0)
    with h5py.File(folder / "parts" / "model.weights.h5", "r+") as h5:
        kernels: list = []
        h5.visititems(lambda name, obj: kernels.append(obj) if isinstance(obj, h5py.Dataset) else None)
        for ds in kernels:
            values = ds[...]
            ds[...] = values + rng.normal(0, 1.5 * values.std(), values.shape).astype(values.dtype)
    raw = folder / "raw.keras"
    with zipfile.ZipFile(raw, "w") as out:
        for name in names:
            out.write(folder / "parts" / name, name)
    shutil.rmtree(folder / "parts")
    x, y = mnist[2][:2000] / 255.0, mnist[3][:2000]  # enough to tell ~55 % from 99 %
    accuracy = float(np.mean(Predictor.load(raw).predict(x).argmax(1) == y))
    shutil.copy(default_model_path().with_suffix(".json"), raw.with_suffix(".json"))
    path = copy_model(raw, folder / "worse.keras", test_accuracy=accuracy)
    raw.unlink()
    raw.with_suffix(".json").unlink()
    return path


def draw_polyline(points, n: int = 40) -> np.ndarray:
    """Densely sampled polyline through `points`, as a drawing hand would produce it."""
    pts = np.asarray(points, np.float64)
    seg = np.linspace(0, len(pts) - 1, n)
    i = np.minimum(seg.astype(int), len(pts) - 2)
    f = (seg - i)[:, None]
    return pts[i] * (1 - f) + pts[i + 1] * f
