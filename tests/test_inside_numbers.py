"""The Inside tab's numbers (kpgui.core.reading.inside) against a plain, independent computation: every
layer's activations, each unit's share of the winning digit, a unit's incoming weights, and the
test images that excite it most — for the shipped model, a small trained one and a deeper tanh one."""

from __future__ import annotations

import numpy as np
import pytest

from kpgui.core.model.inference import DenseLayer, Predictor
from kpgui.core.reading.inside import contributions, excitement, grid_shape, incoming, look_inside


def _plain_forward(layers, x):
    """Unit by unit, with the activation written out (no shared helpers)."""
    acts = []
    h = np.asarray(x, np.float64).reshape(784)
    for layer in layers[:-1]:
        z = np.array(
            [
                sum(h[i] * layer.kernel[i, j] for i in np.flatnonzero(h)) + layer.bias[j]
                for j in range(layer.kernel.shape[1])
            ]
        )
        h = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh}[layer.activation](z)
        acts.append(h)
    return acts, h @ layers[-1].kernel.astype(np.float64) + layers[-1].bias


def _plain_shares(layers, acts, winner):
    """The docstring's definition, with loops: last layer a_j * W[j, winner], earlier layers
    each unit's share passed down in proportion to its positive part a_i * W[i, j]."""
    c = acts[-1] * layers[-1].kernel[:, winner]
    pos = np.maximum(c, 0)
    shares = [None] * len(acts)
    shares[-1] = pos / pos.sum()
    for k in range(len(acts) - 2, -1, -1):
        below = np.zeros(len(acts[k]))
        for j in range(len(acts[k + 1])):
            gave = np.maximum(acts[k] * layers[k + 1].kernel[:, j], 0)
            if gave.sum() > 0:
                below += shares[k + 1][j] * gave / gave.sum()
        shares[k] = below
    return shares


@pytest.fixture(scope="module")
def shipped():
    return Predictor.load()


def _deep_tanh() -> list[DenseLayer]:
    rng = np.random.default_rng(3)
    sizes = [784, 40, 30, 20, 10]
    return [
        DenseLayer(
            rng.normal(0, 1 / np.sqrt(a), (a, b)).astype(np.float32),
            rng.normal(0, 0.1, b).astype(np.float32),
            "tanh" if i < 3 else "softmax",
        )
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
    ]


def test_activations_and_shares_equal_a_plain_computation(shipped, mnist):
    for index in (0, 1, 2):
        image = mnist[2][index] / 255.0
        view = look_inside(shipped.layers, image)
        acts, logits = _plain_forward(shipped.layers, image)
        for lv, a in zip(view.layers, acts, strict=True):
            assert np.allclose(lv.activations, a, atol=1e-4)
            assert np.array_equal(lv.zero, lv.activations == 0)
        assert view.winner == int(np.argmax(logits)) == int(mnist[3][index])
        assert np.allclose(view.probabilities, shipped.predict_one(image), atol=1e-5)
        for lv, s in zip(view.layers, _plain_shares(shipped.layers, acts, view.winner), strict=True):
            assert np.allclose(lv.share, s, atol=1e-5)
            assert lv.share.sum() == pytest.approx(1.0, abs=1e-4)
            assert lv.top[0] == int(np.argmax(s))
            assert list(lv.top) == sorted(lv.top, key=lambda u: -lv.share[u])


def test_other_widths_depths_and_activations(small_predictor, mnist):
    small = small_predictor
    image = mnist[2][5] / 255.0
    view = look_inside(small.layers, image)
    assert [len(lv.activations) for lv in view.layers] == [64]
    acts, _ = _plain_forward(small.layers, image)
    assert np.allclose(view.layers[0].share, _plain_shares(small.layers, acts, view.winner)[0], atol=1e-5)
    deep = _deep_tanh()
    view = look_inside(deep, image)
    acts, logits = _plain_forward(deep, image)
    assert [lv.activation for lv in view.layers] == ["tanh"] * 3
    assert view.winner == int(np.argmax(logits))
    for lv, a, s in zip(view.layers, acts, _plain_shares(deep, acts, view.winner), strict=True):
        assert np.allclose(lv.activations, a, atol=1e-4)
        assert np.allclose(lv.share, s, atol=1e-5)


def test_a_chosen_winner_gives_that_digits_path(shipped, mnist):
    image = mnist[2][0] / 255.0
    acts = [lv.activations for lv in look_inside(shipped.layers, image).layers]
    other = look_inside(shipped.layers, image, winner=3)
    assert other.winner == 3
    assert np.allclose(other.layers[-1].share, contributions(shipped.layers, acts, 3)[-1])
    assert np.allclose(other.layers[-1].share, _plain_shares(shipped.layers, acts, 3)[-1], atol=1e-5)


def test_incoming_weights_first_layer_picture_deeper_layers_chained():
    deep = _deep_tanh()
    first = incoming(deep, 0, 7)
    assert np.array_equal(first.picture, deep[0].kernel[:, 7].reshape(28, 28)) and first.via == ()
    third = incoming(deep, 2, 4, count=5)
    chained = deep[1].kernel @ deep[2].kernel[:, 4]  # first hidden layer -> unit 4 of layer 3
    want = np.argsort(-np.abs(chained))[:5]
    assert [u for u, _w, _p in third.via] == list(want)
    for u, w, pic in third.via:
        assert w == pytest.approx(chained[u], rel=1e-5)
        assert np.array_equal(pic, deep[0].kernel[:, u].reshape(28, 28))
    with pytest.raises(ValueError):
        incoming(deep, 3, 0)  # the output layer is not a hidden layer
    with pytest.raises(ValueError):
        incoming(deep, 0, 40)


def test_exciting_images_are_the_largest_activations(shipped, mnist):
    images = mnist[2][:1500]
    seen = []
    got = excitement(shipped.layers, images, k=6, batch=400, progress=lambda d, n: seen.append(d))
    assert seen == [400, 800, 1200, 1500]
    x = images.reshape(-1, 784).astype(np.float32) / 255.0
    h1 = np.maximum(x @ shipped.layers[0].kernel + shipped.layers[0].bias, 0)
    h2 = np.maximum(h1 @ shipped.layers[1].kernel + shipped.layers[1].bias, 0)
    for layer, h in ((0, h1), (1, h2)):
        for unit in (0, 100, 511):
            best = np.sort(h[:, unit])[::-1][:6]
            assert np.allclose(h[got.top[layer][unit], unit], best, atol=1e-4)
        # (batched products may round a unit at the edge of zero differently: 2 images of 1500)
        assert np.allclose(got.active[layer], (h != 0).mean(axis=0), atol=2 / 1500)
        assert np.array_equal(got.dead(layer), got.active[layer] == 0)
        assert ((h > 0).sum(axis=0)[got.dead(layer)] <= 2).all()
    assert excitement(shipped.layers, images, cancelled=lambda: True) is None


def test_grid_shapes_fit_every_unit():
    assert grid_shape(512) == (16, 32)
    for n in (1, 10, 64, 100, 300, 1024, 1000):
        rows, cols = grid_shape(n)
        assert rows * cols >= n and cols >= rows
