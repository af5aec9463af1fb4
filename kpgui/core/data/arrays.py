"""The one place images change representation: uint8 0-255 (how MNIST and the store keep them)
<-> float32 0-1 (what the network and the preprocessing use)."""

from __future__ import annotations

import numpy as np


def as_uint8_images(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 from uint8 or float-in-[0, 1] images of shape (N, 28, 28) or (N, 784).

    Floats are rounded to 1/255 steps (lossless for training: MNIST itself is uint8)."""
    x = np.asarray(images)
    if x.dtype != np.uint8:
        x = np.round(np.clip(np.nan_to_num(x.astype(np.float32)), 0.0, 1.0) * 255.0)
    return x.astype(np.uint8, copy=False).reshape(-1, 28, 28)


def as_float_images(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) float32 in [0, 1] from uint8 or float images."""
    x = np.asarray(images)
    if x.dtype == np.uint8:  # one pass, no float temporary: the same values as astype() / 255
        return np.divide(x, np.float32(255.0), dtype=np.float32).reshape(-1, 28, 28)
    return np.clip(x.astype(np.float32, copy=False), 0.0, 1.0).reshape(-1, 28, 28)


def as_model_input(images: np.ndarray) -> np.ndarray:
    """(N, 784) float32 in [0, 1], what the dense networks take."""
    x = as_float_images(images)
    return x.reshape(len(x), 784)
