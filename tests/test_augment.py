"""Augmentation inside the train step (kpgui.core.data.augment): the warp's numbers against
independent computations, the draws' and the elastic field's statistics, and the training-only
wrapper (kpgui.core.model.network.training_model). Keras is imported, so TensorFlow on the default
backend: "slow" by the suite's convention, each test itself takes about a second."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kpgui.core.data import augment as A

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def batch(mnist):
    return mnist[0][:64].astype(np.float32) / 255.0


def _maps_numpy(u: np.ndarray) -> np.ndarray:
    """(B, 6) output -> input affine maps [m00, m01, b0, m10, m11, b1], in float64, from the draws
    as the augmentation's constants define them (written out independently of affine_maps)."""
    u = u.astype(np.float64)
    theta = (2 * u[:, 0] - 1) * np.deg2rad(A.MAX_ROTATION_DEG)
    sx = A.SCALE_RANGE[0] + (A.SCALE_RANGE[1] - A.SCALE_RANGE[0]) * u[:, 1]
    sy = sx * (A.SQUASH_RANGE[0] + (A.SQUASH_RANGE[1] - A.SQUASH_RANGE[0]) * u[:, 2])
    shear = (2 * u[:, 3] - 1) * A.MAX_SHEAR
    t = (2 * u[:, 4:6] - 1) * A.MAX_SHIFT_PX
    out = []
    for i in range(len(u)):
        c, s = math.cos(theta[i]), math.sin(theta[i])
        forward = np.array([[c, -s], [s, c]]) @ np.array([[sx[i], shear[i] * sx[i]], [0.0, sy[i]]])
        inv = np.linalg.inv(forward)
        # output p = A (q - centre) + centre + t  =>  q = A^-1 (p - centre - t) + centre
        b = np.array([13.5, 13.5]) - inv @ (np.array([13.5, 13.5]) + t[i])
        out.append([inv[0, 0], inv[0, 1], b[0], inv[1, 0], inv[1, 1], b[1]])
    return np.array(out)


def _thickness_numpy(x: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """The 3x3 grey dilation / erosion blend, plainly: windows over a -inf / +inf border."""
    h, w = x.shape[1:]
    hi = np.pad(x, ((0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    lo = np.pad(x, ((0, 0), (1, 1), (1, 1)), constant_values=np.inf)
    grown = np.max([hi[:, i : i + h, j : j + w] for i in range(3) for j in range(3)], axis=0)
    thinned = np.min([lo[:, i : i + h, j : j + w] for i in range(3) for j in range(3)], axis=0)
    a = amount[:, None, None]
    out = np.where(a > 0, x + a * (grown - x), x + (-a) * (thinned - x))
    return np.clip(out, 0.0, 1.0).reshape(len(x), -1)


def _draws(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Uniforms (n, DRAWS) and the field's normals as (n, 2, rank, rank) (image, axis, row, col)."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(0, 1, (n, A.DRAWS)).astype(np.float32)
    z = rng.standard_normal((n, 2, A.ELASTIC_RANK, A.ELASTIC_RANK)).astype(np.float32)
    return u, z


def _as_drawn(z: np.ndarray) -> np.ndarray:
    """(n, 2, rank, rank) -> the layout the layer draws and field_from_normals takes: (rank, 2n, rank)."""
    return np.ascontiguousarray(z.transpose(2, 0, 1, 3).reshape(z.shape[2], -1, z.shape[3]))


def test_affine_warp_is_keras_affine_transform_then_the_thickness_blend(batch):
    import keras

    u, _ = _draws(len(batch))
    maps = _maps_numpy(u)
    transforms = np.concatenate([maps, np.zeros((len(u), 2))], axis=1).astype(np.float32)
    warped = keras.ops.image.affine_transform(
        batch[..., None], transforms, "bilinear", "constant", 0.0, data_format="channels_last"
    )
    amount = A.THICKNESS_RANGE[0] + (A.THICKNESS_RANGE[1] - A.THICKNESS_RANGE[0]) * u[:, 6]
    expected = _thickness_numpy(np.asarray(warped)[..., 0], amount)
    mine = np.asarray(A.augment_images(batch, u))
    assert mine.shape == (len(batch), 784) and mine.dtype == np.float32
    assert np.abs(mine - expected).max() < 1e-5
    assert np.abs(mine - batch.reshape(len(batch), -1)).mean() > 0.02  # it did warp


def test_elastic_warp_is_plain_bilinear_sampling_at_the_affine_plus_field_positions(batch):
    from scipy.ndimage import map_coordinates

    alpha = 0.6 * A.ELASTIC_ALPHA
    u, z = _draws(len(batch), seed=1)
    basis = A._field_basis(A.ELASTIC_SIGMA, 28).astype(np.float64)
    field = alpha / math.sqrt(3) * np.einsum("ik,bakl,jl->baij", basis, z.astype(np.float64), basis)
    maps = _maps_numpy(u)
    gy, gx = np.mgrid[0:28, 0:28].astype(np.float64)
    warped = np.empty_like(batch)
    for i, (m00, m01, b0, m10, m11, b1) in enumerate(maps):
        src_x = m00 * gx + m01 * gy + b0 + field[i, 0]
        src_y = m10 * gx + m11 * gy + b1 + field[i, 1]
        # zero beyond the image, interpolated across its edge: "grid-constant"
        warped[i] = map_coordinates(batch[i], [src_y, src_x], order=1, mode="grid-constant", cval=0.0)
    amount = A.THICKNESS_RANGE[0] + (A.THICKNESS_RANGE[1] - A.THICKNESS_RANGE[0]) * u[:, 6]
    expected = _thickness_numpy(warped, amount)
    mine = np.asarray(A.augment_images(batch, u, _as_drawn(z), elastic=alpha))
    assert np.abs(mine - expected).max() < 1e-5
    assert np.abs(mine - np.asarray(A.augment_images(batch, u))).mean() > 0.01  # the field bends


def test_elastic_distortion_alone_bends_but_keeps_the_ink(batch):
    # Draws that make the affine map the identity and the thickness change nothing.
    identity = [0.5, (1 - A.SCALE_RANGE[0]) / (A.SCALE_RANGE[1] - A.SCALE_RANGE[0]), 0.5, 0.5, 0.5, 0.5]
    thickness_off = -A.THICKNESS_RANGE[0] / (A.THICKNESS_RANGE[1] - A.THICKNESS_RANGE[0])
    u = np.tile(np.array([*identity, thickness_off], np.float32), (len(batch), 1))
    flat = batch.reshape(len(batch), -1)
    assert np.abs(np.asarray(A.augment_images(batch, u)) - flat).max() < 1e-5
    _, z = _draws(len(batch), seed=2)
    out = np.asarray(A.augment_images(batch, u, _as_drawn(z), elastic=A.ELASTIC_ALPHA))
    change = np.abs(out - flat).mean(axis=1) / flat.mean(axis=1)
    assert (change > 0.1).all()  # every image is bent
    mass = out.sum(axis=1) / flat.sum(axis=1)
    # Stretching and squeezing move ink around (a thin stroke stretched along gains some), but on
    # the whole the ink stays.
    assert 0.9 < mass.mean() < 1.1 and np.median(np.abs(mass - 1)) < 0.15 and (mass > 0.4).all()
    grid = np.arange(28.0)

    def centre(x):
        x = x.reshape(-1, 28, 28)
        return np.stack([(x.sum(1) * grid).sum(1), (x.sum(2) * grid).sum(1)], 1) / x.sum((1, 2))[:, None]

    assert np.abs(centre(out) - centre(flat)).mean() < 1.5  # a bend, not a move


def test_elastic_field_has_simard_et_al_s_size_and_smoothness():
    """The fast field (its smoothest components), drawn as the layer draws it, against Simard et
    al.'s recipe done plainly in NumPy: uniform noise, Gaussian-smoothed (zero beyond the border),
    times alpha. At --elastic 0.6 pixels move by 0.77 px RMS."""
    alpha, n = 0.6 * A.ELASTIC_ALPHA, 2000
    layer = A.make_augment(elastic=alpha, seed=7)
    _, z = layer.draws(n)
    fast = np.asarray(A.field_from_normals(z, alpha))
    rng = np.random.default_rng(0)
    radius = int(np.ceil(3 * A.ELASTIC_SIGMA))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / A.ELASTIC_SIGMA) ** 2)
    taps /= taps.sum()
    noise = rng.uniform(-1, 1, (n, 2, 28, 28))
    plain = np.apply_along_axis(lambda v: np.convolve(v, taps, "same"), 3, noise)
    plain = alpha * np.apply_along_axis(lambda v: np.convolve(v, taps, "same"), 2, plain)

    def corr(f, lag):
        a, b = f[..., :-lag], f[..., lag:]
        return np.mean(a * b) / np.sqrt(np.mean(a * a) * np.mean(b * b))

    assert fast.shape == (n, 2, 28, 28)
    rms_fast, rms_plain = np.sqrt(np.mean(fast**2)), np.sqrt(np.mean(plain**2))
    assert abs(rms_fast / rms_plain - 1) < 0.03 and abs(rms_fast - 0.77) < 0.03
    for lag in (1, 4, 8):
        assert abs(corr(fast, lag) - corr(plain, lag)) < 0.02
    assert abs(np.mean(fast[:, 0] * fast[:, 1])) / np.mean(fast**2) < 0.02  # dx, dy independent


def test_the_draws_are_independent_uniforms_and_fresh_every_call():
    layer = A.make_augment(elastic=1.0, seed=3)
    u, z = (np.asarray(d, np.float64) for d in layer.draws(20000))
    again = np.asarray(layer.draws(20000)[0], np.float64)
    assert z.shape == (A.ELASTIC_RANK, 40000, A.ELASTIC_RANK)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01 and abs(np.mean(z**4) - 3) < 0.05  # normal
    assert u.shape == (20000, A.DRAWS) and 0.0 <= u.min() and u.max() < 1.0
    assert np.abs(u.mean(axis=0) - 0.5).max() < 0.01
    assert np.abs(u.std(axis=0) - math.sqrt(1 / 12)).max() < 0.005
    assert np.abs(np.corrcoef(u.T) - np.eye(A.DRAWS)).max() < 0.03  # no two parameters tied
    assert np.abs(np.corrcoef(u[:, 0], again[:, 0])[0, 1]) < 0.03
    same_seed = A.make_augment(elastic=1.0, seed=3)
    assert np.array_equal(np.asarray(same_seed.draws(20000)[0]), u.astype(np.float32))


def test_the_layer_warps_only_while_training(batch):
    x = batch.reshape(len(batch), 784)
    layer = A.make_augment(elastic=0.6 * A.ELASTIC_ALPHA, seed=5)
    assert np.array_equal(np.asarray(layer(x, training=False)), x)
    first, second = np.asarray(layer(x, training=True)), np.asarray(layer(x, training=True))
    assert first.shape == x.shape and 0.0 <= first.min() and first.max() <= 1.0
    assert not np.array_equal(first, second)  # fresh draws every batch
    # The ink stays, roughly (thickness changes and stretching move some).
    mass = first.sum(axis=1) / x.sum(axis=1)
    assert 0.7 < np.median(mass) < 1.4 and (mass > 0.3).all()
    replay = A.make_augment(elastic=0.6 * A.ELASTIC_ALPHA, seed=5)
    assert np.array_equal(np.asarray(replay(x, training=True)), first)


def test_training_model_shares_the_network_and_never_enters_it():
    import keras

    from kpgui.core.model.network import build_model, training_model
    from kpgui.core.model.spec import ModelSpec

    plain = ModelSpec(hidden=(16,), seed=0)
    model = build_model(plain)
    assert training_model(model, plain) is model
    for spec in (plain.replace(augment=True), plain.replace(elastic=0.5)):
        model = build_model(spec)
        wrapper = training_model(model, spec)
        assert wrapper is not model and wrapper.optimizer is model.optimizer
        assert wrapper.layers[1:] == model.layers  # the very same layers, the augmentation first
        assert not any("augment" in layer.name for layer in model.layers)
        # The wrapper's weights are the network's: EarlyStopping's restore sets the network.
        weights = [w + 1.0 for w in wrapper.get_weights()]
        wrapper.set_weights(weights)
        assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights, strict=True))
        x = np.random.default_rng(0).uniform(0, 1, (4, 784)).astype(np.float32)
        assert np.allclose(np.asarray(wrapper(x, training=False)), np.asarray(model(x)), atol=1e-6)
        assert isinstance(wrapper, keras.Sequential)
    # Any other model (a Keras-backed one being fine-tuned) is called whole, and trains.
    inputs = keras.Input(shape=(784,))
    functional = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(inputs))
    functional.compile(optimizer="sgd", loss="categorical_crossentropy")
    wrapper = training_model(functional, plain.replace(augment=True))
    assert wrapper.layers[1:] == [functional]
    before = functional.get_weights()[0].copy()
    x = np.random.default_rng(1).uniform(0, 1, (32, 784)).astype(np.float32)
    wrapper.fit(x, np.eye(10, dtype=np.float32)[np.arange(32) % 10], epochs=1, verbose=0)
    assert not np.array_equal(functional.get_weights()[0], before)


def test_an_augmented_run_saves_the_plain_network_with_the_best_weights(mnist, tmp_path):
    """Trained through the wrapper (with early stopping's best weights and layer stats), the model
    the run keeps and saves is the plain dense network: the window's NumPy reader takes it and
    reads what Keras reads. (Accuracy: this tiny run scores ~0.75, as the tf.data pipeline did;
    0.85 without augmentation.)"""
    from kpgui.core.model.inference import Predictor
    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.storage.saving import save_model
    from kpgui.core.training.trainer import Trainer

    x, y, xt, yt = mnist
    spec = ModelSpec(
        hidden=(32,),
        epochs=2,
        batch_size=32,
        patience=1,
        augment=True,
        elastic=0.6,
        train_samples=4000,
        seed=2,
    )
    trainer = Trainer(spec, data=(x, y, xt[:500], yt[:500]))
    result = trainer.run()
    assert result.usable and result.test_accuracy > 0.7 and result.layer_stats is not None
    assert [type(layer).__name__ for layer in trainer.model.layers] == ["Dense", "Dense"]
    path = save_model(trainer.model, tmp_path / "aug.keras", result)
    reader = Predictor.load(path, allow_keras=False)
    images = xt[:50].reshape(50, 784).astype(np.float32) / 255.0
    keras_probs = np.asarray(trainer.model(images, training=False))
    assert np.allclose(reader.predict(images), keras_probs, atol=1e-4)
