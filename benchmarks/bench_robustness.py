"""6. Drawn-digit robustness: MNIST test digits put on a 400 px canvas, read by the shipped model.

Raster variants: each digit is scaled (aspect kept) to a height of 60-350 px, placed at the
centre or near a corner, its stroke thinned or thickened, and drawn dark on white paper. Stroke
variants: each digit is thinned to its skeleton (Zhang-Suen, NumPy) and the skeleton's pixel
links become strokes, drawn at various sizes and pen widths. kpgui reads rasters with
`image_to_mnist` and strokes with `strokes_to_mnist`. The alternative, on the same canvases in
the same run, is the strongest obvious one: crop the ink's bounding box, scale it (aspect kept,
Pillow Lanczos) into a 20x20 box and pad it to 28x28 (no centre of mass, no stroke-width
normalisation); the weaker common one, resizing the whole canvas to 28x28 (Pillow box filter),
is given beside each row. The reference is the model's accuracy on the same MNIST digits as
they are.

    python benchmarks/bench_robustness.py [--quick] [--digits N] [--json out.json]
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import _common as C
import numpy as np
from handwriting.trace import skeletons
from PIL import Image, ImageDraw

NAME = "robustness"
CANVAS = 400


@dataclass(frozen=True)
class Variant:
    name: str
    height: int  # digit height on the canvas, px
    where: tuple[float, float] = (0.5, 0.5)  # position of the digit in the free space, 0..1
    thickness: int = 0  # raster: + dilate / - erode radius in px; strokes: unused
    pen: float = 18.0  # strokes: pen width in px


RASTER = [
    Variant("60 px, centre", 60),
    Variant("120 px, centre", 120),
    Variant("200 px, centre", 200),
    Variant("350 px, centre", 350),
    Variant("120 px, top-left", 120, (0.03, 0.03)),
    Variant("120 px, bottom-right", 120, (0.97, 0.97)),
    Variant("200 px, thin pen", 200, thickness=-6),
    Variant("200 px, thick pen", 200, thickness=10),
    Variant("60 px, thick pen", 60, thickness=4),
]
STROKES = [
    Variant("60 px, pen 8", 60, pen=8.0),
    Variant("120 px, pen 18, top-left", 120, (0.03, 0.03), pen=18.0),
    Variant("200 px, pen 18", 200, pen=18.0),
    Variant("350 px, pen 40", 350, pen=40.0),
]
QUICK_RASTER = ("60 px, centre", "200 px, centre", "200 px, thick pen")
QUICK_STROKES = ("200 px, pen 18",)


# -- raster canvases ---------------------------------------------------------------------------


def _crop(digit: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(digit > 0)
    return digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _scaled(digit: np.ndarray, height: int) -> np.ndarray:
    """Ink in [0, 1], the digit's ink box scaled to `height` px (aspect kept), bilinear."""
    ink = _crop(digit).astype(np.float32) / 255.0
    h, w = ink.shape
    new_w = max(1, round(w * height / h))
    if new_w > CANVAS - 4:  # a very wide digit: fit the width instead
        height, new_w = max(1, round(height * (CANVAS - 4) / new_w)), CANVAS - 4
    img = Image.fromarray(ink, mode="F").resize((new_w, height), Image.BILINEAR)
    return np.clip(np.asarray(img), 0.0, 1.0)


def _morph(ink: np.ndarray, radius: int) -> np.ndarray:
    """Grey dilation (radius > 0) or erosion (< 0) with a (2r+1) square, separable."""
    if radius == 0:
        return ink
    grow = radius > 0
    r = abs(radius)
    op = np.maximum if grow else np.minimum
    pad = np.pad(ink, r) if grow else np.pad(ink, r, constant_values=0.0)
    out = pad
    for axis in (0, 1):
        acc = out.copy()
        for k in range(1, r + 1):
            acc = op(acc, np.roll(out, k, axis=axis))
            acc = op(acc, np.roll(out, -k, axis=axis))
        out = acc
    return out[r:-r, r:-r] if not grow else out


def _place(ink: np.ndarray, where: tuple[float, float]) -> np.ndarray:
    """uint8 400x400 canvas, white paper, the ink dark, its box at `where` of the free space."""
    ink = ink[:CANVAS, :CANVAS]
    h, w = ink.shape
    top = round((CANVAS - h) * where[1])
    left = round((CANVAS - w) * where[0])
    canvas = np.zeros((CANVAS, CANVAS), np.float32)
    canvas[top : top + h, left : left + w] = ink
    return np.round(255.0 * (1.0 - canvas)).astype(np.uint8)


def raster_canvas(digit: np.ndarray, v: Variant) -> np.ndarray:
    ink = _morph(_scaled(digit, v.height), v.thickness)
    return _place(ink, v.where)


def naive(canvas: np.ndarray) -> np.ndarray:
    """The weak common approach: resize the whole canvas to 28x28 (area filter), invert."""
    small = Image.fromarray(canvas).resize((28, 28), Image.BOX)
    return 1.0 - np.asarray(small, np.float32) / 255.0


CROP_FILTER = Image.LANCZOS


def crop_box_pad(canvas: np.ndarray) -> np.ndarray:
    """The strongest obvious alternative: crop the ink's bounding box, scale it (aspect kept,
    anti-aliased) into a 20x20 box, pad to 28x28 with the box in the middle. No centre of mass,
    no stroke-width normalisation."""
    ink = 1.0 - canvas.astype(np.float32) / 255.0
    rows, cols = np.nonzero(ink > 0.1)
    if len(rows) == 0:
        return np.zeros((28, 28), np.float32)
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = crop.shape
    k = 20.0 / max(h, w)
    nh, nw = max(1, round(h * k)), max(1, round(w * k))
    small = np.asarray(Image.fromarray(crop, mode="F").resize((nw, nh), CROP_FILTER), np.float32)
    out = np.zeros((28, 28), np.float32)
    top, left = (28 - nh) // 2, (28 - nw) // 2
    out[top : top + nh, left : left + nw] = np.clip(small, 0.0, 1.0)
    return out


# -- strokes from skeletons --------------------------------------------------------------------


def skeleton_strokes(skel: np.ndarray) -> list[np.ndarray]:
    """Two-point strokes linking 8-neighbouring skeleton pixels, (x, y); lone pixels as dots."""
    ys, xs = np.nonzero(skel)
    on = set(zip(ys.tolist(), xs.tolist(), strict=True))
    strokes, linked = [], set()
    for y, x in on:
        for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):
            if (y + dy, x + dx) in on:
                strokes.append(np.array([[x, y], [x + dx, y + dy]], np.float64))
                linked.update({(y, x), (y + dy, x + dx)})
    strokes.extend(np.array([[x, y]], np.float64) for y, x in on - linked)
    return strokes


def place_strokes(strokes: list[np.ndarray], v: Variant) -> list[np.ndarray]:
    """Strokes scaled so their centre-line box is v.height px tall, placed on the canvas."""
    pts = np.concatenate(strokes)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = hi - lo
    k = (v.height - v.pen) / max(span[1], 1.0)
    k = min(k, (CANVAS - 4 - v.pen) / max(span[0], 1.0))
    size = span * k
    free = CANVAS - v.pen - size
    origin = v.pen / 2 + free * np.asarray(v.where)
    return [origin + (s - lo) * k for s in strokes]


def strokes_canvas(strokes: list[np.ndarray], pen: float) -> np.ndarray:
    """The strokes painted on a white 400 px canvas with a round pen (what the window shows)."""
    img = Image.new("L", (CANVAS, CANVAS), 255)
    draw = ImageDraw.Draw(img)
    r = pen / 2
    for s in strokes:
        if len(s) > 1:
            draw.line([tuple(p) for p in s.tolist()], fill=0, width=max(1, round(pen)))
        for x, y in (s[0], s[-1]):
            draw.ellipse([x - r, y - r, x + r, y + r], fill=0)
    return np.asarray(img)


# -- the benchmark ------------------------------------------------------------------------------


def _accuracy(predictor, images: list[np.ndarray], labels: np.ndarray) -> float:
    probs = predictor.predict(np.stack(images).reshape(len(images), 784).astype(np.float32))
    return float(np.mean(probs.argmax(axis=1) == labels))


def _pick(n: int, labels: np.ndarray, seed: int = 0) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).choice(len(labels), n, replace=False))


def run_raster(predictor, digits, labels, variants) -> list[dict]:
    from kpgui.core.reading.preprocess import image_to_mnist

    out = []
    for v in variants:
        ours, crop, plain, ms = [], [], [], []
        for d in digits:
            canvas = raster_canvas(d, v)
            t0 = time.perf_counter()
            ours.append(image_to_mnist(canvas, ink="dark"))
            ms.append((time.perf_counter() - t0) * 1e3)
            crop.append(crop_box_pad(canvas))
            plain.append(naive(canvas))
        out.append(
            {
                "kind": "raster",
                "variant": v.name,
                "kpgui": _accuracy(predictor, ours, labels),
                "crop": _accuracy(predictor, crop, labels),
                "naive": _accuracy(predictor, plain, labels),
                "image_to_mnist_ms_p50": C.median(ms),
            }
        )
    return out


def run_strokes(predictor, digits, labels, variants) -> list[dict]:
    from kpgui.core.reading.preprocess import strokes_to_mnist

    skels = skeletons(digits)
    base = [skeleton_strokes(s) for s in skels]
    out = []
    for v in variants:
        ours, crop, plain, ms = [], [], [], []
        for strokes in base:
            placed = place_strokes(strokes, v)
            t0 = time.perf_counter()
            ours.append(strokes_to_mnist(placed, v.pen))
            ms.append((time.perf_counter() - t0) * 1e3)
            canvas = strokes_canvas(placed, v.pen)
            crop.append(crop_box_pad(canvas))
            plain.append(naive(canvas))
        out.append(
            {
                "kind": "strokes (skeleton)",
                "variant": v.name,
                "kpgui": _accuracy(predictor, ours, labels),
                "crop": _accuracy(predictor, crop, labels),
                "naive": _accuracy(predictor, plain, labels),
                "strokes_to_mnist_ms_p50": C.median(ms),
                "strokes_per_digit_median": C.median([len(s) for s in base]),
            }
        )
    return out


def _rows(reference: float, results: list[dict], n: int) -> list[dict]:
    bench = "6 robustness"
    alt = "crop -> 20x20 -> pad"
    rows = [C.row(bench, f"MNIST test digits as they are (reference, n={n})", 100 * reference, "%")]
    rows.append(
        C.row(
            bench,
            f"mean over the {len(results)} canvas variants below",
            100 * float(np.mean([r["kpgui"] for r in results])),
            "%",
            alt_name=alt,
            alt_value=100 * float(np.mean([r["crop"] for r in results])),
        )
    )
    for r in results:
        fn = "image_to_mnist" if r["kind"] == "raster" else "strokes_to_mnist"
        rows.append(
            C.row(
                bench,
                f"{r['kind']} {r['variant']}: {fn}",
                100 * r["kpgui"],
                "%",
                alt_name=alt,
                alt_value=100 * r["crop"],
                note=f"whole-canvas resize: {100 * r['naive']:.1f} %",
            )
        )
    raster = [r["image_to_mnist_ms_p50"] for r in results if "image_to_mnist_ms_p50" in r]
    drawn = [r["strokes_to_mnist_ms_p50"] for r in results if "strokes_to_mnist_ms_p50" in r]
    if raster and drawn:
        rows.append(
            C.row(
                bench,
                f"image_to_mnist time per {CANVAS} px canvas, p50",
                C.median(raster),
                "ms",
                alt_name="strokes_to_mnist (skeleton strokes)",
                alt_value=C.median(drawn),
                note="diagnostic",
            )
        )
    return rows


def run(quick: bool, n_digits: int | None) -> tuple[list, dict]:
    from kpgui.core.model.inference import Predictor

    predictor = Predictor.load()
    _, _, x_test, y_test = C.load_mnist()
    n = n_digits or (60 if quick else 1000)
    idx = _pick(n, y_test)
    digits, labels = x_test[idx], y_test[idx].astype(int)
    raster = [v for v in RASTER if not quick or v.name in QUICK_RASTER]
    strokes = [v for v in STROKES if not quick or v.name in QUICK_STROKES]
    reference = _accuracy(predictor, [d.astype(np.float32) / 255.0 for d in digits], labels)
    results = run_raster(predictor, digits, labels, raster)
    results += run_strokes(predictor, digits, labels, strokes)
    details = {
        "digits": n,
        "canvas_px": CANVAS,
        "reference_accuracy": reference,
        "results": results,
        "model": str(C.default_model_path()),
        "model_card_test_accuracy": C.default_card().get("test_accuracy"),
        "notes": [
            f"{n} MNIST test digits (fixed random subset), shipped model "
            f"({C.default_card().get('description')}).",
            "Stroke variants: Zhang-Suen skeleton at 4x resolution, every link between "
            "8-neighbouring skeleton pixels is a 2-point stroke (no stroke order; real "
            "pen strokes are smoother).",
        ],
    }
    return _rows(reference, results, n), details


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument("--digits", type=int, help="how many MNIST test digits (default 1000, quick 60)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    rows, details = run(args.quick, args.digits)
    C.finish(NAME, rows, details, args, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
