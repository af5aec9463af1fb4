"""How the network sees a drawing, step by step — for teaching what `strokes_to_mnist` does.

MNIST digits were made by (1) taking the ink's bounding box, (2) scaling it into a 20x20 box with
its aspect kept, (3) with the stroke about 2 px wide at that size, and (4) moving its centre of
mass to pixel (14, 14) of a 28x28 frame. `steps(strokes, pen)` returns those stages as pictures
a window can show as a strip; the last one is exactly what the network reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kpgui.core.reading.preprocess import BOX, CENTRE, SIZE, strokes_to_mnist

VIEW = 112  # side of the "your drawing" picture


@dataclass(frozen=True)
class Step:
    """One stage: its picture (float (H, W) in [0, 1], 1 = ink), a caption, and marks to draw
    over it in the picture's pixel coordinates: a box (x0, y0, x1, y1) and/or a point (x, y)."""

    title: str
    caption: str
    image: np.ndarray
    box: tuple[float, float, float, float] | None = None
    point: tuple[float, float] | None = None


def _raster(
    strokes: list[np.ndarray], pen: float, origin: np.ndarray, scale: float, shape: tuple[int, int]
) -> np.ndarray:
    """Strokes drawn with a round pen of `pen` px (scaled) on a small grid, anti-aliased by 4x
    supersampling (Pillow: a display picture, not the network's input)."""
    from PIL import Image, ImageDraw

    k = 4
    h, w = shape
    canvas = Image.new("L", (w * k, h * k), 0)
    draw = ImageDraw.Draw(canvas)
    width = max(1, int(round(pen * scale * k)))
    for s in strokes:
        pts = [tuple(p) for p in ((s - origin) * scale * k).tolist()]
        if len(pts) == 1:
            x, y = pts[0]
            draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=255)
        else:
            draw.line(pts, fill=255, width=width, joint="curve")
            for x, y in (pts[0], pts[-1]):
                draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=255)
    small = canvas.resize((w, h), Image.Resampling.BOX)
    return np.asarray(small, np.float32) / 255.0


def _centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    total = float(img.sum())
    if total <= 0:
        return CENTRE, CENTRE
    yy, xx = np.mgrid[0 : img.shape[0], 0 : img.shape[1]]
    return float((img * xx).sum() / total), float((img * yy).sum() / total)


def _shift(img: np.ndarray, dx: int, dy: int) -> np.ndarray:
    out = np.zeros_like(img)
    h, w = img.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = img[ys, xs]
    return out


def steps(strokes: Sequence[np.ndarray], pen_width: float) -> list[Step]:
    """The four stages for these canvas strokes ([] when nothing is drawn)."""
    lines = [np.asarray(s, np.float64).reshape(-1, 2) for s in strokes if len(s)]
    lines = [s[np.isfinite(s).all(axis=1)] for s in lines]
    lines = [s for s in lines if len(s)]
    if not lines:
        return []
    pen = float(pen_width) if np.isfinite(pen_width) and pen_width > 0 else 1.0
    pts = np.concatenate(lines)
    lo, hi = pts.min(axis=0) - pen / 2, pts.max(axis=0) + pen / 2
    extent = float((hi - lo).max())
    pad = 0.15 * extent
    scale = VIEW / (extent + 2 * pad)
    origin = (lo + hi) / 2 - (VIEW / 2) / scale
    drawing = _raster(lines, pen, origin, scale, (VIEW, VIEW))
    b0, b1 = (lo - origin) * scale, (hi - origin) * scale
    first = Step(
        "1. Your drawing",
        f"its ink fits a {hi[0] - lo[0]:.0f} × {hi[1] - lo[1]:.0f} px box",
        drawing,
        (float(b0[0]), float(b0[1]), float(b1[0]), float(b1[1])),
    )

    # 2. The box scaled (aspect kept) into 20x20, centred by its box; the pen scaled with it.
    box_scale = BOX / extent
    fitted = _raster(lines, pen, (lo + hi) / 2 - (SIZE / 2) / box_scale, box_scale, (SIZE, SIZE))
    m = (SIZE - BOX) / 2
    second = Step(
        "2. Scaled into 20 × 20",
        f"× {box_scale:.3f}, aspect kept; your pen becomes {pen * box_scale:.1f} px",
        fitted,
        (m, m, m + BOX, m + BOX),
    )

    # 3-4. MNIST's 2 px stroke, then the centre of mass moved to (14, 14) (the real input).
    final = strokes_to_mnist(lines, pen)
    cx, cy = _centre_of_mass(final)
    ink = np.argwhere(final > 0.05)
    if len(ink):
        (y0, x0), (y1, x1) = ink.min(axis=0), ink.max(axis=0)
        bx, by = (x0 + x1) / 2, (y0 + y1) / 2
    else:
        bx = by = CENTRE
    boxed = _shift(final, int(round(CENTRE - 0.5 - bx)), int(round(CENTRE - 0.5 - by)))
    third = Step(
        "3. Stroke width 2 px",
        "drawn with MNIST's pen, whatever pen you used",
        boxed,
        (m, m, m + BOX, m + BOX),
    )
    bcx, bcy = _centre_of_mass(boxed)
    fourth = Step(
        "4. Centre of mass → (14, 14)",
        f"moved by ({cx - bcx:+.1f}, {cy - bcy:+.1f}) px: this is what the network reads",
        final,
        None,
        (cx, cy),
    )
    return [first, second, third, fourth]
