"""Hand-written image maths against the stack's own: Pillow for resampling and morphology, Keras 3's
image ops for augmentation. Each pair is checked for the same numbers on MNIST digits and timed in
the same run, old and new interleaved (medians), so the faster can be kept with its number beside it.

    python benchmarks/bench_image_ops.py [--quick] [--part pillow|keras|all]

Pillow (the picture path, kpgui.core.reading.preprocess / segment; MNIST test digits scaled into
pictures of 40-300 px):
  * area resize (`_resize_area`) vs `Image.resize(BOX)`;
  * 3x3 grey dilation / erosion repeated n times vs one `MaxFilter` / `MinFilter` of 2n+1;
  * the mask growth of picture splitting vs `MaxFilter(5)` on a mode "L" mask;
  * RGBA -> grey (`rgb @ (0.299, 0.587, 0.114)`) vs `convert("L")`.
Keras (augmentation, kpgui.core.data.augment, in keras.ops inside the train step; a batch of 128
MNIST training digits, jit-compiled on the JAX backend the training process uses):
  * the affine warp kpgui samples (`sample_bilinear` at the affine positions) vs
    `keras.ops.image.affine_transform`;
  * kpgui's whole augmentation with an elastic field (`make_augment`, as the train step runs it)
    vs `keras.ops.image.elastic_transform` (eager: it cannot be jit-compiled on JAX).
The Keras part runs in its own process (KERAS_BACKEND=jax).

Prints numbers only; results.json is not touched. Run it alone on a quiet core
(`taskset -c 1`), the numbers are medians of interleaved repeats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MNIST = os.environ.get("KPGUI_MNIST") or str(ROOT.parent / "shared" / "data" / "mnist.npz")


def interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median ms of each function, called in turn `repeats` times (a shared machine's load hits
    both alike)."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for f in fns.values():  # warm up (imports, JIT)
        f()
    for _ in range(repeats):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[k].append((time.perf_counter() - t0) * 1000.0)
    return {k: statistics.median(v) for k, v in times.items()}


def _mnist(split: str, n: int) -> np.ndarray:
    with np.load(MNIST) as d:
        return d[f"x_{split}"][:n]


# -- Pillow ------------------------------------------------------------------------------------


def _pictures(n: int, seed: int = 0) -> list[np.ndarray]:
    """MNIST test digits as grey pictures of 40-300 px (bilinear upscale), some dark on light."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = []
    for img in _mnist("test", n):
        side = int(rng.integers(40, 300))
        big = np.asarray(Image.fromarray(img).resize((side, side), Image.Resampling.BILINEAR))
        out.append(255 - big if rng.random() < 0.5 else big)
    return out


def _pil_resize(img: np.ndarray, h: int, w: int) -> np.ndarray:
    from PIL import Image

    im = Image.fromarray(img.astype(np.float32)).resize((w, h), Image.Resampling.BOX)
    return np.asarray(im, dtype=np.float64)


def _pil_rank(img: np.ndarray, grow: bool, steps: int) -> np.ndarray:
    """Grey dilation / erosion by a (2 steps + 1) square: one Pillow MaxFilter / MinFilter."""
    from PIL import Image, ImageFilter

    size = 2 * steps + 1
    rank = ImageFilter.MaxFilter(size) if grow else ImageFilter.MinFilter(size)
    return np.asarray(Image.fromarray(img.astype(np.float32)).filter(rank), np.float64)


def _kpgui_morph(img: np.ndarray, grow: bool, steps: int) -> np.ndarray:
    from kpgui.core.reading.preprocess import _grey_morph

    for _ in range(steps):
        img = _grey_morph(img, grow)
    return img


def _pil_grow_rank(mask: np.ndarray, steps: int) -> np.ndarray:
    from PIL import Image, ImageFilter

    grown = Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(2 * steps + 1))
    return np.asarray(grown) > 0


def _pil_grow_morph(mask: np.ndarray, steps: int) -> np.ndarray:
    from PIL import Image, ImageMorph

    op = ImageMorph.MorphOp(op_name="dilation8")
    im = Image.fromarray(mask.astype(np.uint8) * 255)
    for _ in range(steps):
        _, im = op.apply(im)
    return np.asarray(im) > 0


def pillow_part(quick: bool) -> None:
    from PIL import Image

    from kpgui.core.reading import preprocess as pp
    from kpgui.core.reading.segment import _picture

    pictures = _pictures(60 if quick else 300)
    repeats = 5 if quick else 21
    print(f"Pillow vs hand-written ({len(pictures)} MNIST test digits as 40-300 px pictures)")

    # Area resize: each picture's crop to the 80 px working size and a working image to 20 px.
    grey = [p.astype(np.float64) / 255.0 for p in pictures]
    jobs = [(g, 80, 80) for g in grey] + [(pp._resize_area(g, 96, 96), 20, 20) for g in grey[:50]]
    diff = max(float(np.abs(pp._resize_area(g, h, w) - _pil_resize(g, h, w)).max()) for g, h, w in jobs)
    t = interleaved(
        {
            "kpgui": lambda: [pp._resize_area(g, h, w) for g, h, w in jobs],
            "pillow": lambda: [_pil_resize(g, h, w) for g, h, w in jobs],
        },
        repeats,
    )
    # What it would change at the end: the 28x28 images the network reads.
    kept = pp._resize_area
    old = [pp.image_to_mnist(p) for p in pictures]
    try:
        pp._resize_area = _pil_resize
        new = [pp.image_to_mnist(p) for p in pictures]
    finally:
        pp._resize_area = kept
    end = max(float(np.abs(a - b).max()) for a, b in zip(old, new, strict=True))
    mean = float(np.mean([np.abs(a - b).mean() for a, b in zip(old, new, strict=True)]))
    print(
        f"  area resize      largest pixel difference {diff:.3f} (of 1; Pillow's BOX counts whole input "
        f"pixels, no partial cover), in the 28x28 image {end:.3f} (mean {mean:.4f}); "
        f"{t['kpgui'] / len(jobs):.3f} ms kpgui vs {t['pillow'] / len(jobs):.3f} ms Pillow per resize"
    )

    # Grey morphology on the working images, as image_to_mnist uses it (8 px of zeros around).
    work = [np.pad(pp._resize_area(g, 80, 80), 8) for g in grey[:100]]
    worst = max(
        float(np.abs(_kpgui_morph(w, grow, n) - _pil_rank(w, grow, n)).max())
        for w in work
        for n, grow in ((1, True), (3, True), (6, True), (1, False), (3, False))
    )
    print(f"  grey morphology  largest difference {worst:.1e} (float32 rounding)")
    for n in (1, 3, 6):
        t = interleaved(
            {
                "kpgui": lambda n=n: [_kpgui_morph(w, True, n) for w in work],
                "pillow": lambda n=n: [_pil_rank(w, True, n) for w in work],
            },
            repeats,
        )
        print(
            f"  grey dilation x{n}  {t['kpgui'] / len(work):.3f} ms kpgui (3x3 numpy, {n} times) vs "
            f"{t['pillow'] / len(work):.3f} ms Pillow MaxFilter({2 * n + 1}) per 96 px image"
        )

    # Mask growth (picture splitting): a digit's ink mask grown by 2 px.
    masks = [(p if p.mean() < 128 else 255 - p) > 80 for p in pictures[:100]]
    same_rank = all(np.array_equal(_picture._grow(m, 2), _pil_grow_rank(m, 2)) for m in masks)
    same_morph = all(np.array_equal(_picture._grow(m, 2), _pil_grow_morph(m, 2)) for m in masks)
    t = interleaved(
        {
            "kpgui": lambda: [_picture._grow(m, 2) for m in masks],
            "rank": lambda: [_pil_grow_rank(m, 2) for m in masks],
            "morph": lambda: [_pil_grow_morph(m, 2) for m in masks],
        },
        repeats,
    )
    print(
        f"  mask growth x2   {t['kpgui'] / len(masks):.3f} ms kpgui vs {t['rank'] / len(masks):.3f} ms "
        f"Pillow MaxFilter(5) (same: {same_rank}) vs {t['morph'] / len(masks):.3f} ms ImageMorph "
        f"dilation8 x2 (same: {same_morph}) per picture"
    )

    # RGBA -> grey, the picture reader's path for pictures with transparency.
    rng = np.random.default_rng(1)
    rgba = []
    for p in pictures[:100]:
        tint = rng.integers(-40, 40, 3)
        rgb = np.clip(p[..., None].astype(int) + tint, 0, 255)
        rgba.append(np.dstack([rgb, p]).astype(np.uint8))
    w601 = np.array([0.299, 0.587, 0.114])
    numpy_grey = [(a[..., :3].astype(np.float64) / 255.0) @ w601 for a in rgba]
    pil_grey = [np.asarray(Image.fromarray(a).convert("L"), np.float64) / 255.0 for a in rgba]
    diff = max(float(np.abs(a - b).max()) for a, b in zip(numpy_grey, pil_grey, strict=True))
    t = interleaved(
        {
            "numpy": lambda: [
                (np.asarray(Image.fromarray(a), np.float64) / 255.0)[..., :3] @ w601 for a in rgba
            ],
            "pillow": lambda: [np.asarray(Image.fromarray(a).convert("L"), np.float64) / 255.0 for a in rgba],
        },
        repeats,
    )
    print(
        f"  RGBA -> grey     largest difference {diff:.4f} (Pillow rounds to 1/255); "
        f"{t['numpy'] / len(rgba):.3f} ms numpy vs {t['pillow'] / len(rgba):.3f} ms Pillow convert('L') "
        "per picture"
    )


# -- Keras ------------------------------------------------------------------------------------


def keras_part(quick: bool) -> None:
    """Run in a process of its own with KERAS_BACKEND=jax (see main)."""
    import jax
    import keras

    from kpgui.core.data import augment as A

    assert keras.backend.backend() == "jax", keras.backend.backend()
    repeats = 7 if quick else 31
    images = _mnist("train", 128).astype(np.float32) / 255.0
    rng = np.random.default_rng(0)
    print(
        f"Keras {keras.__version__} (JAX {jax.__version__}): kpgui's keras.ops vs Keras' image ops, "
        "batch of 128 MNIST"
    )

    # The same random affine maps for both: output -> input, [a0 a1 a2 b0 b1 b2 0 0] per image.
    theta = rng.uniform(-1, 1, 128) * np.deg2rad(A.MAX_ROTATION_DEG)
    s = rng.uniform(*A.SCALE_RANGE, 128)
    c, si = np.cos(theta) / s, np.sin(theta) / s
    shift = rng.uniform(-A.MAX_SHIFT_PX, A.MAX_SHIFT_PX, (2, 128))
    b0 = 13.5 - (c * 13.5 - si * 13.5) - shift[0]
    b1 = 13.5 - (si * 13.5 + c * 13.5) - shift[1]
    z = np.zeros(128)
    transforms = np.stack([c, -si, b0, si, c, b1, z, z], axis=1).astype(np.float32)
    grid = np.arange(28, dtype=np.float32)

    @jax.jit
    def kpgui_affine(x, m):
        col = [m[:, k, None, None] for k in range(6)]
        src_x = col[0] * grid[None, :] + col[1] * grid[:, None] + col[2]
        src_y = col[3] * grid[None, :] + col[4] * grid[:, None] + col[5]
        return A.sample_bilinear(x, src_x, src_y)

    @jax.jit
    def keras_affine(x, m):
        return keras.ops.image.affine_transform(
            x[..., None], m, interpolation="bilinear", fill_mode="constant", data_format="channels_last"
        )[..., 0]

    jx, jm = jax.numpy.asarray(images), jax.numpy.asarray(transforms)
    ours = np.asarray(kpgui_affine(jx, jm))
    theirs = np.asarray(keras_affine(jx, jm))
    diff = float(np.abs(ours - theirs).max())
    t = interleaved(
        {
            "kpgui": lambda: np.asarray(kpgui_affine(jx, jm).block_until_ready()),
            "keras": lambda: np.asarray(keras_affine(jx, jm).block_until_ready()),
        },
        repeats,
    )
    print(
        f"  affine warp      largest difference {diff:.1e}; {t['kpgui']:.2f} ms kpgui "
        f"(sample_bilinear) vs {t['keras']:.2f} ms keras.ops.image.affine_transform (JAX)"
    )

    layer = A.make_augment(elastic=A.ELASTIC_ALPHA, seed=0)
    layer.build((None, 784))
    state = [v.value for v in layer.non_trainable_variables]

    @jax.jit
    def kpgui_augment(x, state):
        return layer.stateless_call([], state, x, training=True)

    seed_gen = keras.random.SeedGenerator(0)

    def keras_elastic(x):
        # Keras draws its own field (normal noise, its own alpha/sigma scale): timed, not compared.
        return keras.ops.image.elastic_transform(
            x[..., None],
            alpha=A.ELASTIC_ALPHA,
            sigma=A.ELASTIC_SIGMA,
            fill_mode="constant",
            seed=seed_gen,
            data_format="channels_last",
        )[..., 0]

    flat = jax.numpy.asarray(images.reshape(128, 784))
    # Keras' JAX elastic_transform cannot be jit-compiled (it turns sigma into a traced array, then
    # into an int for its kernel size), so it runs eagerly, as it would in a Keras training step.
    kept = float(np.asarray(keras_elastic(jx)).sum() / images.sum())
    # Its field, read off two ramps (bilinear sampling of x and y returns the sampled position);
    # alpha 1 keeps it well inside the image (at 34 it moves pixels by ~10 px, Simard's by ~1.5).
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float32)
    ramps = jax.numpy.asarray(np.stack([xx, yy], -1)[None].repeat(4, 0))
    moved = np.asarray(
        keras.ops.image.elastic_transform(
            ramps, alpha=1.0, sigma=A.ELASTIC_SIGMA, fill_mode="nearest", seed=seed_gen
        )
    )
    inside = (slice(None), slice(4, 24), slice(4, 24))
    dx, dy = (moved[..., 0] - xx)[inside], (moved[..., 1] - yy)[inside]
    diagonal = bool(np.abs(dx).max() > 0.05 and np.allclose(dx, dy, atol=1e-4))
    print(
        f"  (Keras' field at alpha 1: |dx| up to {np.abs(dx).max():.2f} px, |dx - dy| up to "
        f"{np.abs(dx - dy).max():.1e})"
    )
    t = interleaved(
        {
            "kpgui": lambda: np.asarray(kpgui_augment(flat, state)[0].block_until_ready()),
            "keras": lambda: np.asarray(keras_elastic(jx)),
        },
        max(3, repeats // 5),
    )
    print(
        f"  elastic          {t['kpgui']:.2f} ms kpgui's whole augmentation (affine + elastic + thickness, "
        f"jit) vs {t['keras']:.2f} ms keras.ops.image.elastic_transform (JAX, eager: it cannot be "
        f"jit-compiled); Keras keeps {100 * kept:.0f} % of the ink and moves every pixel along the "
        f"diagonal (dx == dy): {diagonal}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer images and repeats")
    ap.add_argument("--part", choices=("pillow", "keras", "all"), default="all")
    args = ap.parse_args(argv)
    if args.part in ("pillow", "all"):
        pillow_part(args.quick)
    if args.part == "keras" and os.environ.get("KERAS_BACKEND") == "jax":
        keras_part(args.quick)
    elif args.part in ("keras", "all"):  # Keras on JAX, in a process of its own
        env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="2")
        cmd = [sys.executable, __file__, "--part", "keras"] + (["--quick"] if args.quick else [])
        return subprocess.call(cmd, env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
