"""Turn drawn strokes or imported pictures into 28x28 images made the way MNIST was made.

MNIST digits were scaled (aspect kept) into a 20x20 box with anti-aliasing, then placed in a
28x28 frame so that their centre of mass sits at pixel (14, 14). Strokes there are about 2 px
wide. We reproduce exactly that, and also normalise the stroke width, so a digit drawn tiny or
huge, with a thin or a fat pen, anywhere on the canvas, reaches the network looking like MNIST.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kpgui.core.storage.bounded import bound_strokes, shrink_image

SIZE = 28
BOX = 20.0
CENTRE = 14.0  # MNIST's mean centre of mass, in pixel-index coordinates (measured: 14.00, 14.01)
STROKE_RADIUS = 0.6  # half the fully inked core of a stroke, in output pixels
EDGE = 1.0  # width of the anti-aliased ramp around that core
_LIMIT = 1e9  # coordinates beyond this are clipped: nobody draws there, but floats must not overflow
_COM_TOLERANCE = 0.1  # px; MNIST itself centred to whole pixels
_MIN_STEP = 0.7  # points closer than this (output px) add nothing visible; dropping them is cheap

_YY, _XX = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)  # for centres of mass


def clean_strokes(strokes: Sequence | None) -> tuple[list[np.ndarray], list[int]]:
    """Finite float64 (N, 2) polylines, and the index of the input stroke each came from; bad
    points and empty strokes dropped, never raised on. What `strokes_to_mnist` draws, so the
    number splitter sees exactly the same ink."""
    out, ids = [], []
    for i, stroke in enumerate(strokes if strokes is not None else ()):
        try:
            pts = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        except (TypeError, ValueError):
            continue
        pts = pts[np.isfinite(pts).all(axis=1)]
        if len(pts):
            out.append(np.clip(pts, -_LIMIT, _LIMIT))
            ids.append(i)
    return out, ids


def _decimate(pts: np.ndarray) -> np.ndarray:
    """Drop points closer than _MIN_STEP (output px, along the path) to the last kept one."""
    if len(pts) <= 2:
        return pts
    step = np.abs(np.diff(pts, axis=0)).sum(axis=1)
    bucket = np.floor(np.concatenate([[0.0], np.cumsum(step)]) / _MIN_STEP)
    keep = np.flatnonzero(np.diff(bucket, prepend=-1.0) > 0)
    if keep[-1] != len(pts) - 1:
        keep = np.append(keep, len(pts) - 1)
    return pts[keep]


def _segments(polylines: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Start points and direction vectors of every segment; a lone point is a zero-length one."""
    starts, ends = [], []
    for pts in polylines:
        if len(pts) == 1:
            starts.append(pts)
            ends.append(pts)
        else:
            starts.append(pts[:-1])
            ends.append(pts[1:])
    a = np.concatenate(starts)
    return a, np.concatenate(ends) - a


_REACH = STROKE_RADIUS + EDGE  # how far from the centre line ink reaches
_PIECE = 1.5  # long segments are cut into pieces this long, so each touches a small window
_WIN = int(np.ceil(_PIECE + 2 * _REACH)) + 1
_WIN_Y, _WIN_X = (g.ravel().astype(np.float32) for g in np.mgrid[0:_WIN, 0:_WIN])


class _Ink:
    """Thick round-capped segments cut into short pieces, ready to be rasterised at any offset:
    the second render that corrects the centre of mass reuses the pieces (40 of its 150 us)."""

    def __init__(self, a: np.ndarray, d: np.ndarray) -> None:
        a = a.astype(np.float32)
        d = d.astype(np.float32)
        pieces = np.maximum(1, np.ceil(np.hypot(d[:, 0], d[:, 1]) / _PIECE).astype(np.int64))
        owner = np.repeat(np.arange(len(a)), pieces)
        k = np.arange(len(owner)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        self.pd = d[owner] / pieces[owner, None].astype(np.float32)
        self.pa = a[owner] + self.pd * k[:, None].astype(np.float32)
        self.low = np.minimum(self.pa, self.pa + self.pd) - _REACH
        self.dx, self.dy = self.pd[:, 0:1], self.pd[:, 1:2]
        len2 = self.dx * self.dx + self.dy * self.dy
        self.safe = np.where(len2 > 0, len2, np.float32(1.0))

    def render(self, offset: np.ndarray) -> np.ndarray:
        """Anti-aliased union of the segments on the 28x28 grid, moved by `offset`.

        Each (short) piece is compared only with the few pixels of its own window, so the cost
        grows with the length of ink, not with pixels x segments.
        """
        shift = np.asarray(offset, np.float32)
        pa = self.pa + shift
        corner = np.floor(self.low + shift)
        px = corner[:, 0:1] + _WIN_X
        py = corner[:, 1:2] + _WIN_Y
        dx, dy = self.dx, self.dy
        rx, ry = px - pa[:, 0:1], py - pa[:, 1:2]
        t = np.clip((rx * dx + ry * dy) / self.safe, 0.0, 1.0)
        ex, ey = rx - t * dx, ry - t * dy
        ink = np.clip((_REACH - np.sqrt(ex * ex + ey * ey)) / EDGE, 0.0, 1.0)
        ix, iy = px.astype(np.int64), py.astype(np.int64)
        inside = (ink > 0) & (ix >= 0) & (ix < SIZE) & (iy >= 0) & (iy < SIZE)
        img = np.zeros(SIZE * SIZE, np.float32)
        np.maximum.at(img, iy[inside] * SIZE + ix[inside], ink[inside])
        return img.reshape(SIZE, SIZE)


def _centre_of_mass(img: np.ndarray) -> np.ndarray | None:
    total = float(img.sum())
    if total <= 0:
        return None
    return np.array([(img * _XX).sum() / total, (img * _YY).sum() / total])


_INK_RADIUS = STROKE_RADIUS + EDGE / 2  # the ink's half width, ramp counted half


def _ink_centre(polylines: list[np.ndarray], a: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Where the rendered ink's centre of mass will be, from the centre lines: every segment
    weighted by its length, plus each stroke's round caps (a half disc beyond either end, a whole
    disc for a dot). The caps halve how often a second render is needed to put the centre within
    _COM_TOLERANCE (79 % -> 43 % of the states a digit passes through while drawn)."""
    lengths = np.hypot(d[:, 0], d[:, 1]) + 1e-3
    moment = ((a + d / 2) * lengths[:, None]).sum(axis=0)
    mass = float(lengths.sum())
    r = _INK_RADIUS
    cap = np.pi * r / 4  # a half disc's ink, in lengths of stroke (which is 2r wide)
    for pts in polylines:
        if len(pts) == 1:
            moment = moment + pts[0] * 2 * cap
            mass += 2 * cap
            continue
        for end, inner in ((pts[0], pts[1]), (pts[-1], pts[-2])):
            out = end - inner
            norm = float(np.hypot(out[0], out[1]))
            beyond = out * (4 * r / (3 * np.pi) / norm) if norm > 0 else 0.0
            moment = moment + (end + beyond) * cap
            mass += cap
    return moment / mass


def strokes_to_mnist(strokes: Sequence, pen_width: float = 1.0) -> np.ndarray:
    """28x28 float32 image in [0, 1] of the drawn digit, normalised like MNIST.

    `strokes` are polylines of canvas pixel coordinates (x right, y down), each (N, 2) with N >= 1;
    `pen_width` is the pen's diameter in the same pixels. It sets how far the ink reaches (so a dot
    or a short dash keeps its real size relative to the digit); the output stroke width is fixed at
    MNIST's, whatever pen was used. Bad input (empty, NaN, inf, huge) never raises; more than
    limits.MAX_STROKE_POINTS points (or MAX_STROKES strokes) are first resampled evenly, so the
    cost stays bounded whatever is passed in.
    """
    polylines, _ = clean_strokes(bound_strokes(strokes))
    if not polylines:
        return np.zeros((SIZE, SIZE), np.float32)
    try:
        pen = float(pen_width)
    except (TypeError, ValueError):
        pen = 1.0
    pen = pen if np.isfinite(pen) and pen > 0 else 1.0
    pen = min(pen, _LIMIT)

    allpts = np.concatenate(polylines)
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    # The ink's box is the centre line's box grown by the pen's radius; it must fit 20x20.
    extent = float((hi - lo).max()) + pen
    ink_px = 2.0 * (STROKE_RADIUS + EDGE / 2)  # ink width the 20x20 box will show
    scale = (BOX - ink_px) / max(extent - pen, 1e-12)
    # A dot or tiny mark is not blown up to fill the box: it keeps its size relative to the pen.
    scale = min(scale, BOX / pen)
    if not np.isfinite(scale) or scale <= 0:
        scale = 1.0
    centre = (lo + hi) / 2.0
    scaled = [_decimate((p - centre) * scale) for p in polylines]
    a, d = _segments(scaled)

    # Place the ink's centre of mass at (14, 14). The centre line's own centre of mass predicts
    # it well enough that one render usually suffices; a second one corrects what caps and
    # overlaps moved.
    target = np.array([CENTRE, CENTRE])
    estimate = _ink_centre(scaled, a, d)
    ink = _Ink(a, d)
    img = ink.render(target - estimate)
    com = _centre_of_mass(img)
    if com is None:
        return img
    residual = target - com
    if np.abs(residual).max() <= _COM_TOLERANCE:
        return img
    return ink.render(target - estimate + residual)


# ---------------------------------------------------------------------------------------------
# Raster pictures


def _to_gray(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] in (3, 4):
        rgb = to_unit_range(img[..., :3])
        gray = rgb @ np.array([0.299, 0.587, 0.114])
        if img.shape[2] == 4:
            return flatten_alpha(gray, to_unit_range(img[..., 3]))
        return gray
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim != 2:
        raise ValueError(f"expected a (H, W) grayscale image, got shape {img.shape}")
    return to_unit_range(img)


# Full-scale values of the integer depths pictures come in (8, 10, 12, 14, 16 bits); deeper ones
# are scaled by their type's largest value (2**31 - 1 for Pillow's 32-bit "I" pictures).
_FULL_SCALES = tuple(float(2**bits - 1) for bits in (8, 10, 12, 14, 16))


def to_unit_range(image: np.ndarray) -> np.ndarray:
    """Pixel values of any depth as float64 in [0, 1], by their real range: integers by the
    smallest bit depth up to 16 that holds their largest value (a 12-bit scan in a 16-bit PNG
    is not read as nearly black, nor a 16-bit one clipped to white), deeper ones by their type's
    largest value; floats in [0, 1] as they are,
    larger ones by their peak, negative ones by their span. NaN/inf count as 0."""
    a = np.asarray(image)
    if a.dtype == np.bool_:
        return a.astype(np.float64)
    g = np.nan_to_num(a.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if g.size == 0:
        return g
    lo, hi = float(g.min()), float(g.max())
    if a.dtype.kind in "ui":
        if lo < 0:  # signed pictures: shift to start at 0
            g, hi = g - lo, hi - lo
        scale = next((f for f in _FULL_SCALES if hi <= f), float(np.iinfo(a.dtype).max))
        return g / max(scale, hi)
    if lo >= 0.0 and hi <= 1.0:
        return g
    if lo < 0.0:
        return (g - lo) / (hi - lo) if hi > lo else np.zeros_like(g)
    return g / hi


def flatten_alpha(gray: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """A picture with transparency as plain grey in [0, 1]. Transparent pixels are paper
    (white) under ink that has a colour of its own; but when every visible pixel has the same
    colour — a digit drawn with the alpha channel only (white or black) — the background is
    the opposite of that colour, so the digit stays visible (a white digit on nothing reads
    as a light digit on dark, with --ink light too)."""
    visible = alpha > 0.5
    if not visible.any():
        return np.ones_like(gray)  # nothing drawn: blank paper
    if alpha.min() >= 0.99:
        return gray
    ink = gray[visible]
    if float(ink.std()) < 0.05:  # one colour everywhere: the alpha channel draws the digit
        background = 0.0 if float(ink.mean()) > 0.5 else 1.0
    else:
        background = 1.0
    return gray * alpha + background * (1.0 - alpha)


def _ink_is_dark(gray: np.ndarray) -> bool:
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(np.median(border)) > 0.5


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights that average input cells into output cells (box-filter resampling)."""
    edges = np.linspace(0.0, n_in, n_out + 1)
    starts = np.arange(n_in, dtype=np.float64)
    lo = np.maximum(edges[:-1, None], starts[None, :])
    hi = np.minimum(edges[1:, None], starts[None, :] + 1.0)
    w = np.clip(hi - lo, 0.0, None)
    return w / w.sum(axis=1, keepdims=True)


def _resize_area(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Box-filter resize that counts the part of each input pixel an output pixel covers.

    Not Pillow's resize(BOX): that one counts whole input pixels only, so for sizes that are not
    whole multiples its pixels differ by up to 0.36 (of 1) on 300 MNIST digits as pictures (0.42 at
    most, 0.005 on average, in the 28x28 image the network reads), though it is faster: 0.47 vs
    1.5 ms per resize (benchmarks/bench_image_ops.py, shared machine)."""
    return _area_matrix(img.shape[0], out_h) @ img @ _area_matrix(img.shape[1], out_w).T


def _stroke_width(img: np.ndarray) -> float:
    """Mean stroke width in pixels, as 2 * area / perimeter of the ink (exact for long strokes)."""
    ink = img > 0.5
    area = int(ink.sum())
    if area == 0:
        return 0.0
    padded = np.pad(ink, 1)
    perimeter = int((padded[1:, :] != padded[:-1, :]).sum() + (padded[:, 1:] != padded[:, :-1]).sum())
    return 2.0 * area / max(perimeter, 1)


def _grey_morph(img: np.ndarray, grow: bool) -> np.ndarray:
    """One step of 3x3 grey dilation (grow) or erosion: the stroke gets 2 px wider or thinner.

    Hand-written because it is faster than Pillow's rank filters, which give the same numbers
    (benchmarks/bench_image_ops.py, 96 px working images): 0.57 ms vs 1.8 ms MaxFilter(3) for
    one step, 2.3 ms for six of these vs 17.6 ms for one MaxFilter(13)."""
    p = np.pad(img, 1)
    h, w = img.shape
    views = [p[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]
    return np.max(views, axis=0) if grow else np.min(views, axis=0)


def _overlap(offset: int) -> tuple[slice, slice]:
    """Source and destination slices of a 28-long axis moved by a whole `offset`."""
    if offset >= 0:
        return slice(0, SIZE - offset), slice(offset, SIZE)
    return slice(-offset, SIZE), slice(0, SIZE + offset)


def _shift_subpixel(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Translate by (dx, dy) pixels with bilinear interpolation, zeros shifted in."""
    ix, iy = int(np.floor(dx)), int(np.floor(dy))
    fx, fy = dx - ix, dy - iy
    out = np.zeros_like(img)
    for oy, wy in ((iy, 1 - fy), (iy + 1, fy)):
        for ox, wx in ((ix, 1 - fx), (ix + 1, fx)):
            if wx * wy == 0:
                continue
            if abs(oy) < SIZE and abs(ox) < SIZE:
                ys, yd = _overlap(oy)
                xs, xd = _overlap(ox)
                out[yd, xd] += wx * wy * img[ys, xs]
    return out


_WORK = 4  # the digit is reshaped at 4x the 20 px box before the final box-filter downscale


def image_to_mnist(image: np.ndarray, ink: str = "auto") -> np.ndarray:
    """28x28 float32 MNIST-style image from a picture of one digit.

    `image` is (H, W) grayscale (uint8, uint16 or float; RGB/RGBA is accepted too). `ink` is
    "light" (light digit on dark, like MNIST), "dark" (dark ink on paper) or "auto" (decided from
    the border). The digit is cropped, its stroke width brought to MNIST's, scaled into 20x20 and
    centred by mass, the same way as drawn strokes. Pictures with a side over
    limits.MAX_IMAGE_SIDE are first box-downscaled, so the cost stays bounded.
    """
    if ink not in ("auto", "light", "dark"):
        raise ValueError(f'ink must be "auto", "light" or "dark", not {ink!r}')
    gray = _to_gray(shrink_image(image))
    if gray.size == 0:
        return np.zeros((SIZE, SIZE), np.float32)
    if ink == "dark" or (ink == "auto" and _ink_is_dark(gray)):
        gray = 1.0 - gray
    # Paper is rarely pure black: subtract the background level and stretch what is left.
    background = float(np.percentile(gray, 50))
    peak = float(gray.max())
    if peak - background < 0.1:
        return np.zeros((SIZE, SIZE), np.float32)
    gray = np.clip((gray - background) / (peak - background), 0.0, 1.0)
    gray[gray < 0.15] = 0.0

    rows, cols = np.nonzero(gray > 0.3)
    if len(rows) == 0:
        return np.zeros((SIZE, SIZE), np.float32)
    crop = gray[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = crop.shape
    side = _WORK * int(BOX)
    k = side / max(h, w)
    crop = _resize_area(crop, max(1, round(h * k)), max(1, round(w * k)))
    # Stroke width to MNIST's (about 2 px at the final scale, 2 * _WORK here), in 2 px steps.
    target = 2.0 * _WORK
    width = _stroke_width(crop)
    work = np.pad(crop, _WORK * 2)
    steps = int(round((target - width) / 2.0)) if width > 0 else 0
    for _ in range(min(abs(steps), 3 * _WORK)):
        work = _grey_morph(work, grow=steps > 0)
    rows, cols = np.nonzero(work > 0.05)
    if len(rows) == 0:
        return np.zeros((SIZE, SIZE), np.float32)
    work = work[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = work.shape
    k = BOX / max(h, w)
    small = _resize_area(work, max(1, round(h * k)), max(1, round(w * k)))
    out = np.zeros((SIZE, SIZE))
    sh, sw = small.shape
    top, left = (SIZE - sh) // 2, (SIZE - sw) // 2
    out[top : top + sh, left : left + sw] = small
    com = _centre_of_mass(out)
    if com is not None:
        out = _shift_subpixel(out, CENTRE - com[0], CENTRE - com[1])
    return np.clip(out, 0.0, 1.0).astype(np.float32)
