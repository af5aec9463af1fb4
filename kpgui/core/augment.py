"""On-the-fly augmentation that makes a dense network read real drawings, not just MNIST.

People's digits are shifted, tilted, squashed and drawn with other pens than MNIST's. Each batch
gets a fresh random affine warp (rotation, scale, shear, shift) and a stroke-thickness change, all
as TensorFlow ops inside the tf.data pipeline so it costs the training loop almost nothing.
"""

from __future__ import annotations

import math

MAX_ROTATION_DEG = 12.0
SCALE_RANGE = (0.85, 1.12)
MAX_SHEAR = 0.2
MAX_SHIFT_PX = 2.5
THICKNESS_RANGE = (-0.5, 0.7)  # < 0 thins (grey erosion blend), > 0 thickens (dilation blend)


def augment_batch(images, seed=None):
    """Randomly warp a float32 batch (B, 28, 28) in [0, 1]; returns (B, 784)."""
    import tensorflow as tf

    b = tf.shape(images)[0]
    x = images[..., None]
    rnd = lambda lo, hi: tf.random.uniform([b], lo, hi)  # noqa: E731
    theta = rnd(-1.0, 1.0) * (MAX_ROTATION_DEG * math.pi / 180.0)
    sx = rnd(*SCALE_RANGE)
    sy = sx * rnd(0.92, 1.08)  # a little independent squash
    shear = rnd(-MAX_SHEAR, MAX_SHEAR)
    tx, ty = rnd(-MAX_SHIFT_PX, MAX_SHIFT_PX), rnd(-MAX_SHIFT_PX, MAX_SHIFT_PX)
    # Forward map A = R(theta) @ [[sx, shear*sx], [0, sy]]; the op wants output->input, A^-1.
    c, s = tf.cos(theta), tf.sin(theta)
    a00, a01 = c * sx, c * shear * sx - s * sy
    a10, a11 = s * sx, s * shear * sx + c * sy
    det = a00 * a11 - a01 * a10
    m00, m01, m10, m11 = a11 / det, -a01 / det, -a10 / det, a00 / det
    cx = cy = 13.5
    ox, oy = cx + tx, cy + ty
    b0 = cx - (m00 * ox + m01 * oy)
    b1 = cy - (m10 * ox + m11 * oy)
    zeros = tf.zeros_like(m00)
    transforms = tf.stack([m00, m01, b0, m10, m11, b1, zeros, zeros], axis=1)
    x = tf.raw_ops.ImageProjectiveTransformV3(
        images=x,
        transforms=transforms,
        output_shape=tf.constant([28, 28]),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    amount = rnd(*THICKNESS_RANGE)[:, None, None, None]
    grown = tf.nn.max_pool2d(x, 3, 1, "SAME")
    thinned = -tf.nn.max_pool2d(-x, 3, 1, "SAME")
    x = tf.where(amount > 0, x + amount * (grown - x), x + (-amount) * (thinned - x))
    x = tf.clip_by_value(x, 0.0, 1.0)
    return tf.reshape(x, [b, 784])


def augmented_dataset(x_uint8, y_onehot, batch_size: int, seed: int | None = None):
    """Shuffled, batched, augmented tf.data pipeline over uint8 (N, 28, 28) images."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x_uint8, y_onehot))
    ds = ds.shuffle(len(x_uint8), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    ds = ds.map(
        lambda x, y: (augment_batch(tf.cast(x, tf.float32) / 255.0), y),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return ds.prefetch(tf.data.AUTOTUNE)
