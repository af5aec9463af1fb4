"""Small helpers turning 28x28 arrays into Qt pictures (thumbnails, pixel-exact scaling)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListView, QListWidget


def as_unit_float(image: np.ndarray) -> np.ndarray:
    """A 28x28 float32 image in [0, 1] (uint8 0..255 input is scaled)."""
    a = np.asarray(image)
    if a.dtype == np.uint8:
        return a.reshape(28, 28).astype(np.float32) / 255.0
    return np.clip(a.astype(np.float32).reshape(28, 28), 0.0, 1.0)


def thumbnail(image: np.ndarray, scale: int = 2, dark_ink: bool = True) -> QPixmap:
    """A 28x28 image as a pixmap scaled by nearest neighbour (no blur): dark ink on white."""
    a = as_unit_float(image)
    gray = np.round((1.0 - a if dark_ink else a) * 255).astype(np.uint8)
    gray = np.ascontiguousarray(gray)
    qimg = QImage(gray.data, 28, 28, 28, QImage.Format.Format_Grayscale8).copy()
    size = 28 * max(1, int(scale))
    return QPixmap.fromImage(qimg).scaled(
        size, size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation
    )


def thumbnail_icon(image: np.ndarray, scale: int = 2) -> QIcon:
    return QIcon(thumbnail(image, scale))


# Distinct, colour-blind-friendly-ish colours for overlaid runs (Okabe-Ito plus a few).
RUN_COLOURS = [
    "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#CC79A7", "#0072B2", "#F0E442", "#999999",
    "#8C564B", "#17BECF",
]


def thumbnail_list(cell: QSize, icon: int = 56) -> QListWidget:
    """A wrapping grid of fixed-size digit thumbnails (evaluation gallery, samples view)."""
    view = QListWidget()
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setIconSize(QSize(icon, icon))
    view.setGridSize(cell)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setMovement(QListView.Movement.Static)
    view.setUniformItemSizes(True)
    return view
