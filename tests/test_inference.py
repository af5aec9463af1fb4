"""The NumPy forward pass equals Keras', stays TensorFlow-free, and refuses bad files clearly."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import numpy as np
import pytest

from kpgui.core.model.inference import ModelLoadError, Predictor


@pytest.mark.slow  # needs TensorFlow: its import alone takes seconds
def test_numpy_and_keras_outputs_are_equal(small_model_path, mnist):
    import keras

    x = mnist[2][:2000].reshape(-1, 784).astype(np.float32) / 255.0
    ours = Predictor.load(small_model_path)
    assert ours.backend == "numpy"
    theirs = keras.saving.load_model(small_model_path).predict(x, verbose=0)
    assert np.abs(ours.predict(x) - theirs).max() < 1e-5
    assert (ours.predict(x).argmax(1) == mnist[3][:2000]).mean() > 0.85


@pytest.mark.slow
def test_every_dense_activation_matches_keras(tmp_path, mnist):
    import keras

    from kpgui.core.model.network import build_model
    from kpgui.core.model.spec import ModelSpec

    x = mnist[2][:300].reshape(-1, 784).astype(np.float32) / 255.0
    for act in ("relu", "tanh", "sigmoid", "elu", "selu", "gelu", "swish"):
        model = build_model(ModelSpec(hidden=(32, 16), activation=act, dropout=0.1, seed=3))
        path = tmp_path / f"{act}.keras"
        model.save(path)
        p = Predictor.load(path)
        assert p.backend == "numpy", act
        assert np.abs(p.predict(x) - model.predict(x, verbose=0)).max() < 1e-5, act
        q = Predictor.from_keras(model)
        assert q.backend == "numpy" and np.abs(q.predict(x) - p.predict(x)).max() < 1e-6
    del keras


def test_input_shapes_accepted(model_copy_path, mnist):
    p = Predictor.load(model_copy_path)
    imgs = mnist[2][:5].astype(np.float32) / 255.0
    a = p.predict(imgs)
    b = p.predict(imgs.reshape(5, 784))
    c = np.stack([p.predict_one(i) for i in imgs])
    assert a.shape == (5, 10) and np.allclose(a, b) and np.allclose(a, c, atol=1e-6)
    assert np.allclose(a.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError):
        p.predict(np.zeros((2, 100), np.float32))


@pytest.mark.slow
def test_other_architectures_fall_back_to_keras(tmp_path, mnist):
    import keras

    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Reshape((28, 28, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    path = tmp_path / "conv.keras"
    model.save(path)
    p = Predictor.load(path)
    assert p.backend == "keras"
    x = mnist[2][:8].astype(np.float32) / 255.0
    assert np.abs(p.predict(x) - model.predict(x, verbose=0)).max() < 1e-5


def test_loading_the_default_model_never_imports_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "import kpgui.core.model.inference\n"
        "from kpgui.core.model.inference import Predictor\n"
        "from kpgui.core.reading.preprocess import strokes_to_mnist\n"
        "p = Predictor.load()\n"
        "img = strokes_to_mnist([np.array([[10., 10.], [10., 200.]])], 12)\n"
        "print(int(p.predict_one(img).argmax()))\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules, 'PySide6' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    digit, flags = out.stdout.split("\n")[:2]
    assert flags == "False False False"
    assert digit == "1"


# -- bad files ------------------------------------------------------------------------------


def _expect(path, *fragments):
    with pytest.raises(ModelLoadError) as err:
        Predictor.load(path)
    for f in fragments:
        assert f in str(err.value)


def test_missing_file(tmp_path):
    _expect(tmp_path / "none.keras", "no model file")


def test_not_a_keras_file(tmp_path):
    path = tmp_path / "photo.keras"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    _expect(path, "not a Keras model file")


def test_truncated_file(tmp_path, model_copy_path):
    data = model_copy_path.read_bytes()
    path = tmp_path / "cut.keras"
    path.write_bytes(data[: len(data) // 3])
    _expect(path, "cut.keras")


def test_zip_without_model_inside(tmp_path):
    path = tmp_path / "other.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    _expect(path, "not a Keras 3 model")


def test_damaged_weights(tmp_path, model_copy_path):
    path = tmp_path / "damaged.keras"
    with zipfile.ZipFile(model_copy_path) as src, zipfile.ZipFile(path, "w") as dst:
        dst.writestr("config.json", src.read("config.json"))
        dst.writestr("model.weights.h5", b"not hdf5 at all")
    _expect(path, "damaged.keras")


@pytest.mark.slow  # needs TensorFlow: its import alone takes seconds
@pytest.mark.parametrize("inputs, outputs, fragment", [(100, 10, "784"), (784, 5, "5 outputs")])
def test_mismatched_models_are_refused(tmp_path, inputs, outputs, fragment):
    import keras

    model = keras.Sequential(
        [
            keras.Input((inputs,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(outputs, activation="softmax"),
        ]
    )
    path = tmp_path / "mismatch.keras"
    model.save(path)
    _expect(path, fragment)


@pytest.mark.slow  # needs TensorFlow: its import alone takes seconds
def test_unsafe_lambda_layer_is_refused(tmp_path):
    import keras

    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Lambda(lambda t: t * 2),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    path = tmp_path / "lambda.keras"
    model.save(path)
    _expect(path, "could not be loaded safely")
