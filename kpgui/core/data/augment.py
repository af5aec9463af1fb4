"""On-the-fly augmentation that makes a dense network read real drawings, not just MNIST.

People's digits are shifted, tilted, squashed and drawn with other pens than MNIST's. Each image
of each batch gets a fresh random affine warp (rotation, scale, shear, shift) and a
stroke-thickness change. Optionally (`elastic=alpha`, off by default) it is also bent by an
elastic distortion (Simard, Steinkraus & Platt 2003): a random displacement field, uniform noise
smoothed by a Gaussian of ELASTIC_SIGMA px and scaled by alpha, composed with the affine map so
the image is resampled once (bilinear).

It is a Keras layer (`make_augment`) written with `keras.ops` and `keras.random` only, active only
when called with training=True: the Trainer puts it in front of the network for `fit` alone
(kpgui.core.model.network.training_model), so it runs inside the compiled train step, the same
code on every backend (XLA under jit on JAX and tf.function on TensorFlow, both tested; PyTorch
is not installed here), and the saved network never contains it. Nor does a JAX training
process need TensorFlow for it any more.

Measured, the window's way (benchmarks/bench_backends.py's window_job: a warm training process,
the classic recipe on JAX, all of MNIST x 3 epochs, --augment --elastic 0.6 vs none, runs
interleaved, medians of 3, a shared 2-core machine at load ~1.5): no augmentation 24,000
samples/s at 98 µs of CPU per sample (the whole job); the old tf.data pipeline of TensorFlow ops
beside the JAX step 12,600 (0.52x, +70 µs of CPU per sample); in the train step 20,600 (0.87x,
+10 µs). The augmentation alone, jit-compiled on JAX: ~10.7 µs of CPU per image (the pipeline's
was ~63); the parts are measured beside each function.

Why not Keras 3's own image ops (benchmarks/bench_image_ops.py, a batch of 128 MNIST digits, jit
on JAX, shared 2-core machine):
  * the affine warp gives the same numbers as `keras.ops.image.affine_transform` (within 4e-6;
    tests/test_augment.py checks it within 1e-5) in 0.8 ms instead of 4.2 ms (four gathers
    instead of its map_coordinates), and the affine and elastic maps share one resampling.
  * `keras.ops.image.elastic_transform` is not the same distortion: normal noise scaled by sigma
    (at alpha 34 it moves pixels ~10 px, Simard et al.'s ~1.5 px), and dx and dy are drawn from one
    seed, so every pixel moves along the diagonal. On JAX it cannot be jit-compiled and loops over
    the batch: 776 ms vs 1.8 ms for the whole of this augmentation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MAX_ROTATION_DEG = 12.0
SCALE_RANGE = (0.85, 1.12)
SQUASH_RANGE = (0.92, 1.08)  # y scale / x scale: a little independent squash
MAX_SHEAR = 0.2
MAX_SHIFT_PX = 2.5
THICKNESS_RANGE = (-0.5, 0.7)  # < 0 thins (grey erosion blend), > 0 thickens (dilation blend)
ELASTIC_ALPHA = 34.0  # Simard et al.'s strength for 28x28 digits: a good value for `elastic`
ELASTIC_SIGMA = 4.0  # px; smoothness of the displacement field
ELASTIC_RANK = 8  # smooth components per axis the field is drawn from (see field_from_normals)
SIDE = 28  # MNIST images are SIDE x SIDE
# The per-image random numbers, in the columns of one (B, DRAWS) uniform draw, each U(0, 1),
# mapped to its range by augment_images: rotation, scale, squash, shear, shift x, shift y,
# thickness. One call, not seven: measured under jit on JAX, 0.2 instead of 0.4 µs of CPU per
# image. (Keras draws with JAX's default PRNG, threefry; "rbg" was 3x slower on this CPU. Drawing
# the field's normals in the same call, as sqrt(2) erfinv(2u - 1), saved a loop in the compiled
# step but cost as much in erfinv and layout: 10.6 vs 10.7 µs for the whole augmentation; they
# stay a normal draw of their own.)
DRAWS = 7


def _gaussian_matrix(sigma: float, size: int) -> np.ndarray:
    """(size, size) matrix G with G @ v = v convolved with a normalised Gaussian, zeros beyond the
    border (what Simard et al.'s filter does); smoothing a field f is then G @ f @ G^T."""
    radius = int(math.ceil(3.0 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    i = np.arange(size)
    offset = i[None, :] - i[:, None]
    g = np.where(np.abs(offset) <= radius, np.exp(-0.5 * (offset / sigma) ** 2), 0.0)
    return (g / taps.sum()).astype("float32")


def _field_basis(sigma: float, size: int, rank: int = ELASTIC_RANK) -> np.ndarray:
    """(size, rank) matrix A with A @ A.T = the best rank-`rank` approximation of G @ G.T (G: the
    Gaussian matrix): the smoothing's principal directions, each scaled by its spread."""
    g = _gaussian_matrix(sigma, size).astype(np.float64)
    lam, u = np.linalg.eigh(g @ g.T)
    top = np.argsort(lam)[::-1][:rank]
    return (u[:, top] * np.sqrt(np.clip(lam[top], 0.0, None))).astype("float32")


def field_from_normals(z: Any, alpha: float, sigma: float = ELASTIC_SIGMA, size: int = SIDE) -> Any:
    """(B, 2, size, size) displacements (dx, dy) in px from standard normal `z` (rank, B * 2,
    rank), laid out as the products want it (see below): Simard et al.'s field, U(-1, 1) noise
    smoothed by a Gaussian of `sigma` px (zero beyond the border) times `alpha`, drawn from its
    ELASTIC_RANK x ELASTIC_RANK smoothest components: field[n, a] = (alpha / sqrt 3) A @
    z[:, 2n + a, :] @ A.T.

    Smoothing noise N as G @ N @ G.T gives a field whose covariance is (alpha^2 / 3) GG^T (x) GG^T;
    (alpha / sqrt 3) A @ Z @ A.T with Z standard normal (rank x rank) and A @ A.T ~ G @ G.T has
    that covariance but for 0.002 % of its variance (8 of 28 components per axis carry 99.999 %),
    and is normal where the smoothed uniform noise is very nearly so (each value sums ~600 draws).
    Measured over 4,000 fields at alpha 20.4 (--elastic 0.6), the direct smoothing vs this: RMS
    displacement 0.768 vs 0.770 px, correlation with the pixel 1 / 4 / 8 px away 0.986 / 0.794 /
    0.386 vs 0.986 / 0.795 / 0.389, kurtosis 3.11 vs 3.14 (tests/test_augment.py checks it). It
    takes 128 normal draws and two thin matrix products per field instead of 1,568 draws and four
    28 x 28 products. The products are two plain 2-D ones, z laid out so that neither needs a
    transpose in between, and the positions read the last one in place (under jit on JAX, the
    whole augmentation: 10.7 instead of 11.6 µs of CPU per image with an einsum over z as
    (B, 2, rank, rank), whose products XLA split by a transposing copy)."""
    from keras import ops

    a = _field_basis(sigma, size) * (alpha / math.sqrt(3.0)) ** 0.5  # each side carries half the scale
    rank, n = a.shape[1], ops.shape(z)[1]
    right = ops.matmul(ops.reshape(z, [-1, rank]), ops.convert_to_tensor(a.T))  # (rank * 2B, size)
    field = ops.matmul(ops.convert_to_tensor(a), ops.reshape(right, [rank, -1]))  # (size, 2B * size)
    return ops.transpose(ops.reshape(field, [size, n // 2, 2, size]), [1, 2, 0, 3])


def affine_maps(u: Any) -> tuple[Any, ...]:
    """The output -> input maps (m00, m01, b0, m10, m11, b1), each (B,), of the random affine
    warps that the uniform draws `u` (B, DRAWS) pick: rotation, scale, squash, shear, shift about
    the image centre. Input x = m00 x' + m01 y' + b0, y = m10 x' + m11 y' + b1 for output (x', y')."""
    from keras import ops

    def pick(i: int, lo: float, hi: float) -> Any:
        return lo + (hi - lo) * u[:, i]

    theta = pick(0, -1.0, 1.0) * (MAX_ROTATION_DEG * math.pi / 180.0)
    sx = pick(1, *SCALE_RANGE)
    sy = sx * pick(2, *SQUASH_RANGE)
    shear = pick(3, -MAX_SHEAR, MAX_SHEAR)
    tx, ty = pick(4, -MAX_SHIFT_PX, MAX_SHIFT_PX), pick(5, -MAX_SHIFT_PX, MAX_SHIFT_PX)
    # Forward map A = R(theta) @ [[sx, shear*sx], [0, sy]]; sampling wants output->input, A^-1.
    c, s = ops.cos(theta), ops.sin(theta)
    a00, a01 = c * sx, c * shear * sx - s * sy
    a10, a11 = s * sx, s * shear * sx + c * sy
    det = a00 * a11 - a01 * a10
    m00, m01, m10, m11 = a11 / det, -a01 / det, -a10 / det, a00 / det
    centre = (SIDE - 1) / 2.0
    ox, oy = centre + tx, centre + ty
    return m00, m01, centre - (m00 * ox + m01 * oy), m10, m11, centre - (m10 * ox + m11 * oy)


def sample_bilinear(images: Any, src_x: Any, src_y: Any) -> Any:
    """images (B, H, W) sampled at float pixel-index positions (B, H, W) (x along W, y along H,
    as keras.ops.image.affine_transform does), zero outside. Returns (B, H, W).

    The image gets a border of zeros (1 px before, 2 after) and positions are clamped into it,
    so every sample's four neighbours exist: four gathers from the flat padded batch. (Measured
    under jit on JAX, the whole augmentation with the 3x3 pool of then: 15 µs of CPU per image
    with four scalar gathers, 21 with one gather of 4-float rows holding each pixel's quad, 15
    with one gather of the quad packed as four bytes of an int32, which XLA then ran on one
    thread instead of two.)"""
    from keras import ops

    b, h, w = ops.shape(images)[0], images.shape[1], images.shape[2]
    src_x = ops.clip(src_x, -1.0, float(w))
    src_y = ops.clip(src_y, -1.0, float(h))
    flat = ops.reshape(ops.pad(images, [[0, 0], [1, 2], [1, 2]]), [-1])
    x0, y0 = ops.floor(src_x), ops.floor(src_y)
    fx, fy = src_x - x0, src_y - y0
    first_row = ops.reshape(ops.arange(b, dtype="int32"), [-1, 1, 1]) * (h + 3)
    i = (first_row + ops.cast(y0, "int32") + 1) * (w + 3) + ops.cast(x0, "int32") + 1
    v00, v01, v10, v11 = (ops.take(flat, i + k) for k in (0, 1, w + 3, w + 4))
    top = v00 + (v01 - v00) * fx
    bottom = v10 + (v11 - v10) * fx
    return top + (bottom - top) * fy


def change_thickness(x: Any, amount: Any) -> Any:
    """Blend each image (B, H, W) toward its 3x3 grey dilation (amount > 0: thicker strokes) or
    erosion (amount < 0: thinner) by |amount| (B,), out-of-image pixels ignored; clipped to [0, 1].

    One max-pool serves both: with s = +-1 per image, s * maxpool(s * x) is the dilation (s = 1)
    or the erosion (s = -1). Pools, not shifted slices: under XLA a pool keeps the resampled
    image computed once, where nine shifted slices each recomputed the bilinear sampling and the
    positions (the whole augmentation, measured under jit on JAX: 41 µs of CPU per image with
    two windows of slices, 24 with one 3x3 pool, 11-13 with a 3x1 then a 1x3 pool, the same
    numbers)."""
    from keras import ops

    a = ops.reshape(amount, [-1, 1, 1])
    s = ops.where(a > 0, 1.0, -1.0)
    window = ops.max_pool((s * x)[..., None], (3, 1), 1, "same", data_format="channels_last")
    window = s * ops.max_pool(window, (1, 3), 1, "same", data_format="channels_last")[..., 0]
    return ops.clip(x + ops.abs(a) * (window - x), 0.0, 1.0)


def augment_images(images: Any, u: Any, z: Any = None, elastic: float = 0.0) -> Any:
    """Warp float images (B, SIDE, SIDE) in [0, 1] as the draws say: `u` (B, DRAWS) uniform in
    [0, 1) (see DRAWS) and, when `elastic` (alpha) > 0, `z` (ELASTIC_RANK, B * 2, ELASTIC_RANK)
    standard normal for the field (see field_from_normals). Returns (B, SIDE * SIDE). Plain
    keras.ops: the same numbers on every backend, inside a compiled step or not."""
    from keras import ops

    m00, m01, b0, m10, m11, b1 = (ops.reshape(m, [-1, 1, 1]) for m in affine_maps(u))
    grid = np.arange(SIDE, dtype="float32")
    gx, gy = ops.convert_to_tensor(grid[None, :]), ops.convert_to_tensor(grid[:, None])
    src_x = m00 * gx + m01 * gy + b0
    src_y = m10 * gx + m11 * gy + b1
    if elastic > 0:  # one resampling for both: output pixel p reads the input at A^-1 p + d(p)
        field = field_from_normals(z, elastic)
        src_x, src_y = src_x + field[:, 0], src_y + field[:, 1]
    lo, hi = THICKNESS_RANGE
    x = change_thickness(sample_bilinear(images, src_x, src_y), lo + (hi - lo) * u[:, 6])
    return ops.reshape(x, [-1, SIDE * SIDE])


def make_augment(elastic: float = 0.0, seed: int | None = None, name: str = "augment") -> Any:
    """A Keras layer that randomly warps (B, 784) images in [0, 1] while training (augment_images)
    and is the identity otherwise. `elastic` is the elastic distortion's alpha (0 = off;
    ELASTIC_ALPHA = Simard et al.'s). `seed` makes its stream of draws repeatable: a
    keras.random.SeedGenerator, whose state is a variable of the compiled step, so every batch
    gets fresh draws. Keras is imported here, not when this module is."""
    import keras
    from keras import ops

    class Augment(keras.layers.Layer):
        def __init__(self, elastic: float = 0.0, seed: int | None = None, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.elastic = float(elastic)
            self.seed = seed
            self.seed_generator = keras.random.SeedGenerator(seed)

        def draws(self, batch: Any) -> tuple[Any, Any]:
            """(u, z) for `batch` images: see augment_images."""
            u = keras.random.uniform((batch, DRAWS), seed=self.seed_generator)
            z = None
            if self.elastic > 0:
                z = keras.random.normal((ELASTIC_RANK, 2 * batch, ELASTIC_RANK), seed=self.seed_generator)
            return u, z

        def call(self, inputs: Any, training: bool | None = None) -> Any:
            if not training:
                return inputs
            images = ops.reshape(inputs, [-1, SIDE, SIDE])
            u, z = self.draws(ops.shape(images)[0])
            return augment_images(images, u, z, self.elastic)

        def compute_output_shape(self, input_shape: Any) -> Any:
            return input_shape

        def get_config(self) -> dict:
            return {**super().get_config(), "elastic": self.elastic, "seed": self.seed}

    return Augment(elastic, seed, name=name)
