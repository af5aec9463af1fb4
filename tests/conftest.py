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


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST arrays (x_train, y_train, x_test, y_test), loaded once per session."""
    from kpgui.core.data.mnist import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def small_model_path(tmp_path_factory, mnist):
    """A small real model (784-64-10, 2 epochs on 12 000 images, ~93 % accurate), saved once."""
    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.storage.saving import save_model
    from kpgui.core.training.trainer import Trainer

    x, y, xt, yt = mnist
    spec = ModelSpec(hidden=(64,), epochs=2, validation_split=0.0, seed=1)
    trainer = Trainer(spec, data=(x[:12000], y[:12000], xt[:1000], yt[:1000]))
    result = trainer.run()
    return save_model(trainer.model, tmp_path_factory.mktemp("models") / "small.keras", result)


def draw_polyline(points, n: int = 40) -> np.ndarray:
    """Densely sampled polyline through `points`, as a drawing hand would produce it."""
    pts = np.asarray(points, np.float64)
    seg = np.linspace(0, len(pts) - 1, n)
    i = np.minimum(seg.astype(int), len(pts) - 2)
    f = (seg - i)[:, None]
    return pts[i] * (1 - f) + pts[i + 1] * f
