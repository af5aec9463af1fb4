"""The one place arrays become Qt pictures: the preview, picture imports, thumbnails, heat maps."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListView, QListWidget

from kpgui.core.data.arrays import as_float_images
from kpgui.ui import theme


def ink_qimage(image: np.ndarray, ink: QColor | None = None, paper: QColor | None = None) -> QImage:
    """An (H, W) float image in [0, 1] (1 = ink) as an RGB QImage in the theme's ink on paper."""
    a = np.clip(np.nan_to_num(np.asarray(image, np.float32)), 0.0, 1.0)[..., None]
    i, p = ink or theme.ink(), paper or theme.paper()
    ink_rgb = np.array([i.red(), i.green(), i.blue()], np.float32)
    paper_rgb = np.array([p.red(), p.green(), p.blue()], np.float32)
    rgb = np.ascontiguousarray(np.round(paper_rgb + a * (ink_rgb - paper_rgb)).astype(np.uint8))
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def picture_qimage(gray: np.ndarray) -> QImage:
    """A picture as read from a file ((H, W) gray in [0, 1], 1 = white), shown as it is."""
    a = np.ascontiguousarray(np.round(np.clip(np.nan_to_num(gray), 0, 1) * 255).astype(np.uint8))
    h, w = a.shape
    return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def heat_qimage(heat: np.ndarray, opacity: float = 0.65) -> QImage:
    """A red-yellow, semi-transparent RGBA QImage of a non-negative heat map (normalised to max)."""
    h = np.clip(np.nan_to_num(np.asarray(heat, np.float32), nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)
    peak = float(h.max()) if h.size else 0.0
    h = h / peak if peak > 0 else np.zeros_like(h)
    rgba = np.empty(h.shape + (4,), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 1] = np.clip(h * 2.0 - 0.5, 0.0, 1.0) * 230
    rgba[..., 2] = 0
    rgba[..., 3] = np.clip(h * opacity * 255.0, 0, 255)
    rgba = np.ascontiguousarray(rgba)
    rows, cols = h.shape
    return QImage(rgba.data, cols, rows, cols * 4, QImage.Format.Format_RGBA8888).copy()


def heat_legend(width: int = 120, height: int = 10) -> QImage:
    """The saliency colour scale (none -> most), as drawn over the preview."""
    ramp = np.tile(np.linspace(0.0, 1.0, width, dtype=np.float32), (height, 1))
    img = heat_qimage(ramp, opacity=1.0).convertToFormat(QImage.Format.Format_ARGB32)
    return img


def thumbnail(image: np.ndarray, scale: int = 2) -> QPixmap:
    """A 28x28 image (uint8 or float) as a crisp (nearest-neighbour) pixmap in theme colours."""
    qimg = ink_qimage(as_float_images(image)[0])
    size = 28 * max(1, int(scale))
    return QPixmap.fromImage(qimg).scaled(
        size, size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation
    )


def thumbnail_icon(image: np.ndarray, scale: int = 2) -> QIcon:
    return QIcon(thumbnail(image, scale))


def thumbnail_list(cell: QSize, icon: int = 56, kind: type[QListView] = QListWidget) -> QListView:
    """A wrapping grid of fixed-size digit thumbnails (evaluation gallery; with kind=QListView,
    a view of a model: the samples view)."""
    view = kind()
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setIconSize(QSize(icon, icon))
    view.setGridSize(cell)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setMovement(QListView.Movement.Static)
    view.setUniformItemSizes(True)
    return view


def diverging_qimage(values: np.ndarray, scale: float | None = None) -> QImage:
    """Signed values as blue (negative) - white - red (positive), like the Weights tab's tiles;
    `scale` is the |value| drawn at full colour (default: the largest |value|)."""
    v = np.nan_to_num(np.asarray(values, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    peak = float(np.abs(v).max()) if scale is None and v.size else float(scale or 0.0)
    t = np.clip(v / peak, -1.0, 1.0)[..., None] if peak > 0 else np.zeros(v.shape + (1,), np.float32)
    white = np.array([247, 247, 247], np.float32)
    red, blue = np.array([178, 24, 43], np.float32), np.array([33, 102, 172], np.float32)
    rgb = np.where(t >= 0, white + t * (red - white), white - t * (blue - white))
    rgb = np.ascontiguousarray(np.round(rgb).astype(np.uint8))
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
