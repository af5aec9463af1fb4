"""Hostile inputs ("Nothing lost, nothing crashes"): each ends in one typed kpgui error whose
message names the file and the cause, costs bounded memory, and loses nothing.

Every hostile file is made here, at test time. Memory bounds are checked in a child process
under RLIMIT_AS = 1.5 GiB: it must end with the expected error, not MemoryError or a kill.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import sqlite3
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from kpgui.core.data.mnist import DatasetError, load_mnist
from kpgui.core.model.inference import ModelLoadError, Predictor
from kpgui.core.reading.imageio import ImageReadError, read_image
from kpgui.core.reading.preprocess import image_to_mnist, strokes_to_mnist
from kpgui.core.storage.atomic import atomic_write, clean_stale_temp_files, is_temp_file_name, temp_path_for
from kpgui.core.storage.bounded import MAX_IMAGE_SIDE, MAX_STROKE_POINTS, bound_strokes, shrink_image
from kpgui.core.storage.samplefiles import SampleFileError, read_samples_file
from kpgui.core.storage.store import SkippedRow, Store, StoreError
from kpgui.core.training.progress import Listener
from tests.hostile import npy_claiming, png_claiming

GIB = 2**30
ROOT = Path(__file__).resolve().parents[1]


# -- making hostile files -------------------------------------------------------------------------


def _config(
    units: list,
    activations: list[str] | None = None,
    inputs: int = 784,
    extra_layers: list[dict] | None = None,
) -> dict:
    """A Keras 3 Sequential config: InputLayer(inputs), Dense(u) for u in units."""
    acts = activations or ["relu"] * (len(units) - 1) + ["softmax"]
    layers = [
        {
            "class_name": "InputLayer",
            "config": {"batch_shape": [None, inputs], "dtype": "float32", "name": "pixels"},
        }
    ]
    for i, (u, a) in enumerate(zip(units, acts, strict=True)):
        layers.append(
            {
                "module": "keras.layers",
                "class_name": "Dense",
                "config": {
                    "name": f"dense_{i}",
                    "units": u,
                    "activation": a,
                    "use_bias": True,
                    "dtype": "float32",
                },
            }
        )
    layers += extra_layers or []
    return {"module": "keras", "class_name": "Sequential", "config": {"name": "m", "layers": layers}}


def _weights_h5(kernels: list[np.ndarray]) -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for i, k in enumerate(kernels):
            group = f.create_group(f"layers/dense{'_' + str(i) if i else ''}/vars")
            group["0"] = k.astype(np.float32)
            group["1"] = np.zeros(k.shape[1], np.float32)
    return buf.getvalue()


def _keras_file(path: Path, config: dict | bytes, weights: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", config if isinstance(config, bytes) else json.dumps(config))
        z.writestr("model.weights.h5", weights)
    return path


def _plain_model(path: Path, sizes=(784, 16, 10), scale: float = 0.05, poison=None) -> Path:
    rng = np.random.default_rng(0)
    kernels = [rng.normal(0, scale, (a, b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    if poison is not None:
        kernels[-1][0, 0] = poison
    return _keras_file(path, _config(list(sizes[1:])), _weights_h5(kernels))


def _expect_model_error(path: Path, *fragments: str) -> str:
    with pytest.raises(ModelLoadError) as err:
        Predictor.load(path)
    message = str(err.value)
    assert path.name in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def _run_limited(code: str, limit: int = int(1.5 * GIB), timeout: float = 120) -> str:
    """Run `code` in a child under RLIMIT_AS = `limit`; it must exit 0. Returns its stdout."""
    preamble = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", preamble + textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert out.returncode == 0, f"child failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
    return out.stdout


def _load_limited(path: Path, error: str = "ModelLoadError", call: str = "Predictor.load") -> str:
    """Load `path` in a memory-limited child that must refuse it with `error`, TF-free."""
    code = f"""
        from kpgui.core.model.inference import Predictor, ModelLoadError
        from kpgui.core.reading.imageio import read_image, ImageReadError
        from kpgui.core.data.mnist import load_mnist, DatasetError
        from kpgui.core.storage.samplefiles import read_samples_file, SampleFileError
        try:
            {call}({str(path)!r})
        except {error} as exc:
            print("refused:", exc)
        else:
            print("accepted")
        assert "tensorflow" not in sys.modules and "keras" not in sys.modules
    """
    out = _run_limited(code)
    assert out.startswith("refused:"), out
    return out


# -- 1: NaN, inf and absurd weights ----------------------------------------------------------------


@pytest.mark.parametrize("poison", [np.nan, np.inf, -np.inf])
def test_nonfinite_weights_are_refused_on_load(tmp_path, poison):
    path = _plain_model(tmp_path / "diverged.keras", poison=poison)
    _expect_model_error(path, "NaN/infinite", "diverged", "lower learning rate")


def test_absurd_weights_are_refused_on_load(tmp_path):
    path = _plain_model(tmp_path / "huge.keras", poison=1e38)
    _expect_model_error(path, "absurd", "overflow", "lower learning rate")


def test_weights_that_overflow_in_the_forward_pass_are_refused(tmp_path):
    # 1e7 is under the absurd-value limit, but five such layers overflow float32.
    sizes = (784, 64, 64, 64, 64, 10)
    rng = np.random.default_rng(1)
    kernels = [np.abs(rng.normal(1e7, 1e6, (a, b))) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    path = _keras_file(tmp_path / "overflow.keras", _config(list(sizes[1:])), _weights_h5(kernels))
    _expect_model_error(path, "overflow to infinity", "diverged")


def test_sound_handmade_model_still_loads(tmp_path):
    p = Predictor.load(_plain_model(tmp_path / "fine.keras"))
    assert p.backend == "numpy"
    out = p.predict(np.random.default_rng(0).random((3, 784)))
    assert out.shape == (3, 10) and np.allclose(out.sum(axis=1), 1.0, atol=1e-5)


# -- 2: weights files that claim enormous arrays ------------------------------------------------------


def _claiming_h5(shape: tuple[int, int]) -> bytes:
    """An h5 whose kernel claims `shape` but stores nothing (chunks unwritten, gzip): a few kB."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        g = f.create_group("layers/dense/vars")
        g.create_dataset("0", shape=shape, dtype="f4", chunks=(shape[0], 1000), compression="gzip")
        g["1"] = np.zeros(16, np.float32)
        f.create_group("layers/dense_1/vars")
        f["layers/dense_1/vars/0"] = np.zeros((16, 10), np.float32)
        f["layers/dense_1/vars/1"] = np.zeros(10, np.float32)
    return buf.getvalue()


def test_weights_claiming_billions_of_numbers_are_refused_before_reading(tmp_path):
    weights = _claiming_h5((784, 3_000_000))
    assert len(weights) < 100_000
    path = _keras_file(tmp_path / "claims.keras", _config([16, 10]), weights)
    _expect_model_error(path, "2,352.0 M", "dense/vars/0", "50.0 M")
    _load_limited(path)


@pytest.mark.slow
def test_largest_allowed_model_in_a_small_file_loads_within_memory(tmp_path):
    """47 M zero weights deflate to a few hundred kB: allowed, and it costs well under 1.5 GB."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f["layers/dense/vars/0"] = np.zeros((784, 60_000), np.float32)
        f["layers/dense/vars/1"] = np.zeros(60_000, np.float32)
        f["layers/dense_1/vars/0"] = np.full((60_000, 10), 1e-3, np.float32)
        f["layers/dense_1/vars/1"] = np.zeros(10, np.float32)
    path = tmp_path / "wide.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", json.dumps(_config([60_000, 10])))
        z.writestr("model.weights.h5", buf.getvalue())
    assert path.stat().st_size < 10 << 20
    out = _run_limited(f"""
        import numpy as np
        from kpgui.core.model.inference import Predictor
        p = Predictor.load({str(path)!r})
        print(p.backend, p.predict(np.ones((1000, 784), np.float32)).shape)
    """)
    assert out.strip() == "numpy (1000, 10)"


# -- 3: configs that would make Keras allocate, and zip bombs ----------------------------------------


def test_config_asking_for_huge_layers_is_refused_before_keras(tmp_path):
    config = _config([2e6, 10])
    config["config"]["layers"][1]["class_name"] = "EinsumDense"  # not plain: the Keras path
    config["config"]["layers"][1]["config"]["output_shape"] = [2_000_000]
    path = _keras_file(tmp_path / "units.keras", config, _weights_h5([np.zeros((784, 10))]))
    assert "about" in _expect_model_error(path, "weights", "50.0 M", "smaller model")
    out = _load_limited(path)
    assert "units.keras" in out


@pytest.mark.parametrize(
    "layer",
    [
        {"class_name": "Dense", "config": {"name": "big", "units": "20000000"}},  # on 10 inputs: 200 M
        {"class_name": "Conv2D", "config": {"name": "big", "filters": 4096, "kernel_size": [50, 50]}},
        {"class_name": "LSTM", "config": {"name": "big", "units": 100000}},
        {"class_name": "SomethingNew", "config": {"name": "big", "size": 1e9}},
        {"class_name": "UpSampling2D", "config": {"name": "big", "size": [1000, 1000]}},
    ],
)
def test_unknown_or_costly_layers_are_costed_conservatively(tmp_path, layer):
    config = _config([16, 10], extra_layers=[layer])
    path = _keras_file(
        tmp_path / "costly.keras", config, _weights_h5([np.zeros((784, 16)), np.zeros((16, 10))])
    )
    _expect_model_error(path, "at most")


def _zip_with_big_member(path: Path, name: str, size: int) -> Path:
    """A zip whose `name` really unpacks to `size` bytes of spaces (deflated: tiny)."""
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open(name, "w", force_zip64=True) as f:
            for _ in range(size // len(chunk)):
                f.write(chunk)
        z.writestr("model.weights.h5" if name == "config.json" else "config.json", b"{}")
    return path


def test_zip_member_declaring_a_large_size_is_refused(tmp_path):
    path = _zip_with_big_member(tmp_path / "bigconfig.keras", "config.json", 64 << 20)
    _expect_model_error(path, "config.json", "unpacks to")


@pytest.mark.slow
def test_two_gib_config_zip_bomb_is_refused_within_memory(tmp_path):
    path = _zip_with_big_member(tmp_path / "bomb.keras", "config.json", 2 * GIB)
    assert path.stat().st_size < 12 << 20
    assert "unpacks to" in _load_limited(path)


def test_zip_member_lying_about_its_size_is_caught(tmp_path):
    """Headers can lie: a member declaring 100 bytes but holding 20 MB is never read past 100."""
    path = tmp_path / "liar.keras"
    real = b"[" + b" " * (20 << 20) + b"]"
    _keras_file(path, real, _weights_h5([np.zeros((784, 10))]))
    data = bytearray(path.read_bytes())
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local and central headers
        at = data.find(sig)
        while at >= 0:
            name_len = struct.unpack_from("<H", data, at + (26 if sig == b"PK\x03\x04" else 28))[0]
            name_at = at + (30 if sig == b"PK\x03\x04" else 46)
            if bytes(data[name_at : name_at + name_len]) == b"config.json":
                struct.pack_into("<I", data, at + offset, 100)
            at = data.find(sig, at + 4)
    path.write_bytes(bytes(data))
    _expect_model_error(path)


# -- 4: deep nesting -----------------------------------------------------------------------------------


def test_deeply_nested_config_is_refused_without_recursion_error(tmp_path):
    deep = b'{"class_name": "Sequential", "config": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    path = _keras_file(tmp_path / "deep.keras", deep, _weights_h5([np.zeros((784, 10))]))
    _expect_model_error(path, "nested 200,001 levels")


def test_deeply_nested_model_card_is_ignored(tmp_path):
    path = _plain_model(tmp_path / "carded.keras")
    path.with_suffix(".json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    assert Predictor.load(path).card == {}


# -- 5: more than one output -----------------------------------------------------------------------


@pytest.mark.slow
def test_model_with_two_outputs_is_refused(tmp_path):
    import keras

    inputs = keras.Input((784,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(
        inputs,
        [
            keras.layers.Dense(10, activation="softmax")(hidden),
            keras.layers.Dense(10, activation="softmax")(hidden),
        ],
    )
    path = tmp_path / "two.keras"
    model.save(path)
    _expect_model_error(path, "has 2 outputs", "one output of 10")
    with pytest.raises(ModelLoadError, match="2 outputs"):
        Predictor.from_keras(model)


# -- 6: pictures and arrays ---------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("width, height", [(30_000, 30_000), (10_000, 9_000)])
def test_enormous_pictures_are_refused_with_the_pixel_limit(tmp_path, width, height):
    path = png_claiming(tmp_path / "huge.png", width, height)
    with pytest.raises(ImageReadError) as err:
        read_image(path)
    assert "huge.png" in str(err.value) and "80.0 M pixels" in str(err.value)
    _load_limited(path, "ImageReadError", "read_image")


def test_large_allowed_pictures_are_downscaled_on_read(tmp_path):
    from PIL import Image

    img = np.full((2200, 2600), 255, np.uint8)
    img[400:1800, 1200:1450] = 0  # a dark "1"
    Image.fromarray(img).save(tmp_path / "photo.png")
    gray = read_image(tmp_path / "photo.png")
    assert max(gray.shape) <= MAX_IMAGE_SIDE and gray.shape[1] > gray.shape[0]
    assert int(np.argmax(Predictor.load().predict_one(image_to_mnist(gray)))) == 1


def test_npy_claiming_1e10_values_is_refused_before_loading(tmp_path):
    path = npy_claiming(tmp_path / "claims.npy", (100_000, 100_000))
    with pytest.raises(ImageReadError, match="claims.npy.*pixels.*80.0 M pixels"):
        read_image(path)
    _load_limited(path, "ImageReadError", "read_image")


def test_npy_with_objects_or_bad_header_is_refused(tmp_path):
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ImageReadError, match="objects.npy.*Python objects"):
        read_image(tmp_path / "objects.npy")
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY\x01\x00garbage")
    with pytest.raises(ImageReadError, match="junk.npy"):
        read_image(tmp_path / "junk.npy")


# -- 7: bounded preprocessing -----------------------------------------------------------------------


def test_a_million_random_points_preprocess_within_memory():
    out = _run_limited("""
        import numpy as np
        from kpgui.core.reading.preprocess import strokes_to_mnist
        rng = np.random.default_rng(0)
        img = strokes_to_mnist([rng.uniform(0, 500, (1_000_000, 2))], 5.0)
        assert img.shape == (28, 28) and img.max() > 0.5
        many = strokes_to_mnist([p[None] for p in rng.uniform(0, 500, (200_000, 2))], 5.0)
        assert many.max() > 0.5
        print("ok", "tensorflow" in sys.modules)
    """)
    assert out.strip() == "ok False"


@pytest.mark.slow
def test_a_20000_pixel_square_array_preprocesses_within_memory():
    out = _run_limited("""
        import numpy as np
        from kpgui.core.reading.preprocess import image_to_mnist
        a = np.zeros((20000, 20000), np.uint8)
        a[4000:16000, 9000:11000] = 255
        b = image_to_mnist(a)
        assert b.shape == (28, 28) and b.max() > 0.5
        print("ok", "tensorflow" in sys.modules)
    """)
    assert out.strip() == "ok False"


def test_bounding_keeps_normal_input_untouched_and_thins_big_input():
    strokes = [np.arange(200, dtype=float).reshape(-1, 2)]
    assert bound_strokes(strokes) is strokes
    image = np.zeros((600, 400))
    assert shrink_image(image) is image
    thinned = bound_strokes([np.zeros((50_000, 2)), np.ones((50_000, 2))])
    assert sum(len(s) for s in thinned) <= MAX_STROKE_POINTS
    assert all(len(s) >= 2 for s in thinned), [len(s) for s in thinned]
    big = np.zeros((MAX_IMAGE_SIDE * 3 + 5, 100), np.uint16)
    small = shrink_image(big)
    assert small.dtype == np.uint16 and max(small.shape) <= MAX_IMAGE_SIDE


def test_a_drawing_with_many_points_still_reads_as_its_digit():
    t = np.linspace(0, 1, 100_000)
    one = np.stack([np.full_like(t, 100.0), 20 + 260 * t], axis=1)  # a vertical stroke
    img = strokes_to_mnist([one], 12.0)
    assert int(np.argmax(Predictor.load().predict_one(img))) == 1
    dense = strokes_to_mnist([one[::50]], 12.0)
    assert np.abs(img - dense).max() < 0.05


# -- 8: files that are not MNIST ---------------------------------------------------------------------


def test_npy_given_as_mnist_is_named_with_the_remedy(tmp_path):
    path = tmp_path / "images.npy"
    np.save(path, np.zeros((10, 28, 28), np.uint8))
    with pytest.raises(DatasetError) as err:
        load_mnist(path)
    msg = str(err.value)
    assert "images.npy" in msg and "not the Keras mnist.npz" in msg and "KPGUI_MNIST" in msg


def test_random_bytes_as_mnist_give_no_pickle_advice(tmp_path):
    path = tmp_path / "random.npz"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, np.uint8).tobytes())
    with pytest.raises(DatasetError) as err:
        load_mnist(path)
    msg = str(err.value)
    assert "random.npz" in msg and "not the Keras mnist.npz" in msg and "KPGUI_MNIST" in msg
    assert "pickle" not in msg.lower()


def _npz_with_headers(path: Path, arrays: dict[str, tuple[tuple, str]]) -> Path:
    """An .npz whose members are just headers claiming these (shape, descr): a lying bomb."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for key, (shape, descr) in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                buf, {"descr": descr, "fortran_order": False, "shape": shape}
            )
            z.writestr(f"{key}.npy", buf.getvalue() + bytes(100))
    return path


def test_mnist_claiming_millions_of_images_is_refused_before_loading(tmp_path):
    path = _npz_with_headers(
        tmp_path / "mnist.npz",
        {
            "x_train": ((10_000_000, 28, 28), "|u1"),
            "y_train": ((10_000_000,), "|u1"),
            "x_test": ((10, 28, 28), "|u1"),
            "y_test": ((10,), "|u1"),
        },
    )
    with pytest.raises(DatasetError, match="mnist.npz.*x_train.*300,000"):
        load_mnist(path)
    _load_limited(path, "DatasetError", "load_mnist")


def test_mnist_with_a_real_compressed_bomb_stays_within_memory(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("x_train.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "|u1", "fortran_order": False, "shape": (400_000, 28, 28)}
            )
            f.write(bytes(50 << 20))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(DatasetError, match="bomb.npz"):
        load_mnist(path)


# -- 9 and 10: samples files ------------------------------------------------------------------------


def _samples_arrays(n=2, **override):
    arrays = dict(
        format=np.array("kpgui-samples/1"),
        images=np.zeros((n, 28, 28), np.uint8),
        labels=np.arange(n, dtype=np.uint8),
        pen_widths=np.ones(n, np.float64),
        canvas_sizes=np.full((n, 2), 100, np.int64),
        stroke_counts=np.ones(n, np.int64),
        stroke_lengths=np.full(n, 2, np.int64),
        points=np.zeros((2 * n, 2), np.float64),
    )
    arrays.update(override)
    return arrays


@pytest.mark.parametrize(
    "override, reason",
    [
        ({"points": np.full((4, 2), 1e39)}, "points contain NaN or infinite"),
        ({"pen_widths": np.array([1.0, 1e39])}, "pen_widths contain NaN or infinite"),
        ({"pen_widths": np.array([1.0, 1e-50])}, "positive"),
        ({"canvas_sizes": np.full((2, 2), 2**40)}, "canvas_sizes must be from"),
        ({"stroke_lengths": np.array([2, 2**33 + 2])}, "stroke_lengths must be from"),
    ],
)
def test_values_that_do_not_survive_the_stored_dtype_are_refused(tmp_path, override, reason):
    path = tmp_path / "casts.npz"
    np.savez(path, **_samples_arrays(**override))
    with pytest.raises(SampleFileError, match=reason) as err:
        read_samples_file(path)
    assert err.value.path == path


def test_store_refuses_pen_widths_and_canvases_it_could_not_export(tmp_path):
    with Store(tmp_path / "db.sqlite3") as store:
        with pytest.raises(ValueError, match="pen width"):
            store.add_sample(1, [], 1e39, (10, 10), np.zeros((28, 28)))
        with pytest.raises(ValueError, match="stroke 0"):
            store.add_sample(1, [np.full((2, 2), 1e39)], 1.0, (10, 10), np.zeros((28, 28)))
        with pytest.raises(ValueError, match="canvas size"):
            store.add_sample(1, [], 1.0, (2**40, 10), np.zeros((28, 28)))
        assert store.sample_counts() == dict.fromkeys(range(10), 0)


def test_samples_file_claiming_millions_of_samples_is_refused(tmp_path):
    path = _npz_with_headers(
        tmp_path / "claims.npz",
        {"format": ((), "<U15"), "images": ((5_000_000, 28, 28), "|u1"), "labels": ((5_000_000,), "|u1")},
    )
    with pytest.raises(SampleFileError, match="claims.npz.*5,000,000 samples.*at most 100,000"):
        read_samples_file(path)
    _load_limited(path, "SampleFileError", "read_samples_file")


def test_samples_zip_bomb_stays_within_memory(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("format.npy", _npy_bytes(np.array("kpgui-samples/1")))
        with z.open("points.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f4", "fortran_order": False, "shape": (11_000_000, 2)}
            )
            for _ in range(11_000_000 * 8 // (8 << 20)):
                f.write(bytes(8 << 20))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(SampleFileError, match="bomb.npz.*too big"):
        read_samples_file(path)
    _load_limited(path, "SampleFileError", "read_samples_file")


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


# -- 11 and 12: the store degrades per row; JSON stays valid ------------------------------------------


def _strict_json(text: str):
    def refuse(token):
        raise ValueError(f"invalid JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def _Run(**kw):
    from kpgui.core.model.run import RunRecord
    from kpgui.core.model.spec import ModelSpec

    values = dict(
        spec=ModelSpec(hidden=(8,)),
        history={"loss": [0.5, math.nan], "accuracy": [0.8, math.inf]},
        test_accuracy=0.1,
        test_loss=math.nan,
        wall_time=3.0,
        epochs_run=2,
        status="stopped",
        train_samples=10,
    )
    return RunRecord(**{**values, **kw})


def test_store_never_writes_nan_into_json_and_reads_old_nan_rows(tmp_path):
    db = tmp_path / "db.sqlite3"
    with Store(db) as store:
        rid = store.add_run(dataclasses.replace(_Run(), notes={"lr": math.nan, "nested": [math.inf, 1.0]}))
        run = store.get_run(rid)
    assert run.history == {"loss": [0.5, None], "accuracy": [0.8, None]}
    assert run.notes == {"lr": None, "nested": [None, 1.0]} and run.test_loss is None
    con = sqlite3.connect(db)
    for text in con.execute("SELECT spec, history, notes FROM runs").fetchone():
        _strict_json(text)
    con.execute("UPDATE runs SET history=? WHERE id=?", ('{"loss": [NaN, Infinity]}', rid))
    con.commit()
    con.close()
    with Store(db) as store:
        old = store.get_run(rid)
    assert math.isnan(old.history["loss"][0]) and old.history["loss"][1] == math.inf


def _store_with_damage(db: Path) -> tuple[list[int], list[int]]:
    """Ten samples and three runs, then damage samples 2, 4, 6 and run 2 behind the store's back."""
    with Store(db) as store:
        ids = [
            store.add_sample(i % 10, [np.full((3, 2), float(i))], 2.0, (100, 100), np.full((28, 28), i / 10))
            for i in range(10)
        ]
        runs = [store.add_run(_Run(history={"loss": [1.0]})) for _ in range(3)]
    con = sqlite3.connect(db)
    con.execute("PRAGMA ignore_check_constraints=ON")
    con.execute("UPDATE samples SET image=X'00' WHERE id=?", (ids[1],))
    con.execute("UPDATE samples SET points=X'010203' WHERE id=?", (ids[3],))
    con.execute("UPDATE samples SET label=42, pen_width='wide' WHERE id=?", (ids[5],))
    con.execute("UPDATE runs SET history='{\"loss\": [' WHERE id=?", (runs[1],))
    con.commit()
    con.close()
    return ids, runs


def test_one_damaged_row_does_not_hide_the_others(tmp_path):
    db = tmp_path / "db.sqlite3"
    ids, runs = _store_with_damage(db)
    bad = [ids[1], ids[3], ids[5]]
    with Store(db) as store:
        listed = store.list_runs()
        assert [r.id for r in listed] == [runs[2], runs[0]]
        assert [(s.table, s.id) for s in store.skipped] == [("runs", runs[1])]
        assert "history" in store.skipped[0].reason
        samples = store.list_samples()
        assert [s.id for s in samples] == [i for i in ids if i not in bad]
        assert sorted(s.id for s in store.skipped) == bad
        assert all(isinstance(s, SkippedRow) and str(s).startswith("sample") for s in store.skipped)
        images, labels, sids = store.sample_arrays()
        assert len(images) == 8 and sorted(set(ids) - set(sids)) == [ids[1], ids[5]]
        assert {s.id for s in store.skipped} == {ids[1], ids[5]}  # points are not needed here
        with pytest.raises(StoreError) as err:
            store.get_sample(ids[1])
        assert err.value.kind == StoreError.BAD_ROW and f"sample {ids[1]}" in str(err.value)
        assert "delete" in str(err.value)
        with pytest.raises(StoreError, match=f"run {runs[1]}"):
            store.get_run(runs[1])
        out = tmp_path / "export.npz"
        assert store.export_samples(out) == 7
        assert len(store.skipped) == 3
        store.delete_samples(bad)
        store.delete_run(runs[1])
        assert len(store.list_samples()) == 7 and store.skipped == []
        assert len(store.list_runs()) == 2 and store.skipped == []
    with Store(tmp_path / "fresh.sqlite3") as fresh:
        assert fresh.import_samples(out) == 7


def test_bulk_relabel_and_delete_are_one_transaction(tmp_path):
    with Store(tmp_path / "db.sqlite3") as store:
        ids = [store.add_sample(1, [], 1.0, (10, 10), np.full((28, 28), i / 5)) for i in range(5)]
        assert store.relabel_samples(ids[:3], 7) == 3
        assert store.sample_counts()[7] == 3
        with pytest.raises(KeyError, match="999"):
            store.relabel_samples([ids[3], 999], 2)
        assert store.get_sample(ids[3]).label == 1, "nothing changed when one id was unknown"
        with pytest.raises(KeyError, match="999"):
            store.delete_samples([ids[0], ids[1], 999])
        assert len(store.list_samples()) == 5, "nothing deleted when one id was unknown"
        assert store.delete_samples([ids[0], ids[1], ids[0]]) == 2
        assert [s.id for s in store.list_samples()] == ids[2:]
        with pytest.raises(ValueError):
            store.relabel_samples(ids[2:], 10)


# -- 13 and 14: atomic writes -----------------------------------------------------------------------


def test_atomic_write_never_touches_the_umask(tmp_path, monkeypatch):
    umask = os.umask(0o022)
    os.umask(umask)

    def forbidden(*_):
        raise AssertionError("atomic_write must not change the process umask")

    monkeypatch.setattr(os, "umask", forbidden)
    target = atomic_write(tmp_path / "a.txt", lambda tmp: Path(tmp).write_text("new"))
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old model")

    def broken(tmp):
        Path(tmp).write_bytes(b"half a mod")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_bytes() == b"old model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_killed_save_leaves_a_recognisable_temp_file_that_is_cleaned(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old model")
    code = f"""
        import os, signal
        from kpgui.core.storage.atomic import atomic_write
        def write(tmp):
            open(tmp, "wb").write(b"x" * 100000)
            os.kill(os.getpid(), signal.SIGKILL)
        atomic_write({str(target)!r}, write)
    """
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert out.returncode == -9
    left = [p for p in tmp_path.iterdir() if p != target]
    assert len(left) == 1 and is_temp_file_name(left[0].name), left
    assert left[0].name.startswith(".model.kpgui-tmp-") and left[0].suffix == ".keras"
    assert target.read_bytes() == b"old model"
    alive = temp_path_for(target)  # a save in progress in a process that runs (this one)
    alive.write_bytes(b"in progress")
    old = time.time() - 3600
    mine = tmp_path / ".notes.txt"  # not ours: never touched
    mine.write_text("keep")
    os.utime(mine, (old, old))
    # The killed writer's pid is in the name and no longer runs: cleaned at once, not in 10 min.
    assert clean_stale_temp_files(tmp_path) == [left[0]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".notes.txt", alive.name, "model.keras"])


def test_atomic_write_cleans_its_own_stale_leftovers(tmp_path):
    target = tmp_path / "card.json"
    stale, fresh, other = temp_path_for(target), temp_path_for(target), temp_path_for(tmp_path / "x.json")
    for p in (stale, fresh, other):
        p.write_text("left over")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    atomic_write(target, lambda tmp: Path(tmp).write_text("{}"))
    assert not stale.exists() and fresh.exists() and other.exists()


# -- 15: a data folder that is a file ---------------------------------------------------------------


def test_store_under_a_file_names_the_file_and_the_fix(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("I am a file")
    with pytest.raises(StoreError) as err:
        Store(blocker / "kpgui" / "kpgui.sqlite3")
    msg = str(err.value)
    assert str(blocker) in msg and "is a file, not a folder" in msg and "KPGUI_DATA_DIR" in msg
    folder = tmp_path / "db-as-folder"
    folder.mkdir()
    with pytest.raises(StoreError, match="is a folder, not a database file"):
        Store(folder)


# -- damaged files of every kind end in their typed error ----------------------------------------------


def _mutations(data: bytes, count: int, seed: int, head: int = 4096):
    rng = np.random.default_rng(seed)
    for i in range(count):
        out = bytearray(data)
        for _ in range(int(rng.integers(1, 30))):
            out[int(rng.integers(0, min(head if i % 2 else len(out), len(out))))] = int(rng.integers(0, 256))
        yield bytes(out[: int(rng.integers(len(out) // 2, len(out)))] if i % 5 == 0 else out)


def test_randomly_damaged_files_end_in_their_typed_error(tmp_path):
    from kpgui.core.storage.resources import default_model_path

    with zipfile.ZipFile(default_model_path()) as z:
        config, weights = z.read("config.json"), z.read("model.weights.h5")
    model = tmp_path / "damaged.keras"
    for h5 in _mutations(weights, 30, seed=1):  # the config stays sound: no Keras fallback
        _keras_file(model, config, h5)
        try:
            Predictor.load(model)
        except ModelLoadError as exc:
            assert "damaged.keras" in str(exc)
    buf = io.BytesIO()
    np.savez_compressed(buf, **_samples_arrays(3))
    buf2 = io.BytesIO()
    np.savez_compressed(
        buf2,
        x_train=np.zeros((20, 28, 28), np.uint8),
        y_train=np.zeros(20, np.uint8),
        x_test=np.zeros((5, 28, 28), np.uint8),
        y_test=np.zeros(5, np.uint8),
    )
    for data, read, error in (
        (buf.getvalue(), read_samples_file, SampleFileError),
        (buf2.getvalue(), load_mnist, DatasetError),
    ):
        path = tmp_path / "damaged.npz"
        for damaged in _mutations(data, 40, seed=2, head=400):
            path.write_bytes(damaged)
            try:
                read(path)
            except error:
                pass


# == Round two (issue 25): nothing the user did not name is lost ==================================


def _files(folder: Path) -> dict[str, bytes]:
    """Every regular file in `folder` (names and bytes): what must stay byte-identical."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_25_1_save_targets_name_the_model_and_its_card(tmp_path):
    from kpgui.core.storage.saving import save_targets

    assert save_targets(tmp_path / "mymodel") == (tmp_path / "mymodel.keras", tmp_path / "mymodel.json")
    assert save_targets(tmp_path / "results.txt") == (tmp_path / "results.keras", tmp_path / "results.json")


def test_25_1_a_save_never_replaces_a_json_that_is_not_a_model_card(tmp_path):
    from kpgui.core.storage.saving import ForeignCardError, copy_model

    src = _plain_model(tmp_path / "src.keras")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.json").write_text('{"my": "notes"}')
    (out / "notes.keras").write_bytes(b"an old model")
    before = _files(out)
    with pytest.raises(ForeignCardError, match="not a kpgui model card"):
        copy_model(src, out / "notes.keras")
    assert _files(out) == before
    copy_model(src, out / "notes.keras", force=True)  # what the question's "Replace" does
    assert json.loads((out / "notes.json").read_text())["format"].startswith("kpgui-model-card/")


def test_25_1_cli_train_refuses_to_replace_a_foreign_json_in_one_line(tmp_path, capfd):
    from kpgui.cli import main

    notes = tmp_path / "notes.json"
    notes.write_text("my notes, not a model card")
    rc = main(["train", "--epochs", "1", "--out", str(tmp_path / "notes.keras")])
    err = capfd.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1, err
    assert str(notes) in err and "--force" in err and "Loading TensorFlow" not in err
    assert notes.read_text() == "my notes, not a model card"


def test_25_2_a_card_place_that_is_a_folder_fails_before_the_model_is_touched(tmp_path, capfd):
    from kpgui.cli import main
    from kpgui.core.storage.saving import copy_model

    src = _plain_model(tmp_path / "src.keras")
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.keras").write_bytes(b"the old model")
    (out / "x.json").mkdir()
    with pytest.raises(OSError, match="folder"):
        copy_model(src, out / "x.keras", force=True)
    assert (out / "x.keras").read_bytes() == b"the old model" and _files(out) == {"x.keras": b"the old model"}
    rc = main(["train", "--epochs", "1", "--out", str(out / "x.keras")])  # before training
    err = capfd.readouterr().err
    assert rc == 2 and "x.json" in err and "folder" in err and "Loading TensorFlow" not in err
    assert (out / "x.keras").read_bytes() == b"the old model"


def test_25_2_model_and_card_are_one_unit_when_the_disk_fills_on_the_card(tmp_path, monkeypatch):
    import errno

    from kpgui.core.storage import saving

    src = _plain_model(tmp_path / "src.keras")
    out = tmp_path / "out"
    out.mkdir()
    copy_model_first = saving.copy_model(src, out / "m.keras")
    before = _files(out)

    def full(_text):
        def write(tmp):
            Path(tmp).write_text('{"half')
            raise OSError(errno.ENOSPC, "No space left on device", tmp)

        return write

    monkeypatch.setattr(saving, "_write_text", full)
    other = _plain_model(tmp_path / "other.keras", sizes=(784, 8, 10))
    with pytest.raises(OSError) as info:
        saving.copy_model(other, out / "m.keras")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(out / "m.json")
    assert _files(out) == before, "the old model and its old card must be byte-identical"
    assert copy_model_first == out / "m.keras"


def test_25_2_a_failed_second_rename_puts_the_first_file_back(tmp_path, monkeypatch):
    from kpgui.core.storage import atomic
    from kpgui.core.storage.atomic import atomic_write_all

    (tmp_path / "m.keras").write_bytes(b"old model")
    (tmp_path / "m.json").write_bytes(b"old card")
    real = os.replace
    calls = []

    def flaky(a, b):
        calls.append(b)
        if str(b).endswith("m.json") and len(calls) == 2:
            raise PermissionError(13, "Permission denied", str(b))
        return real(a, b)

    monkeypatch.setattr(atomic.os, "replace", flaky)
    with pytest.raises(PermissionError):
        atomic_write_all(
            [
                (tmp_path / "m.keras", lambda t: Path(t).write_bytes(b"new model")),
                (tmp_path / "m.json", lambda t: Path(t).write_bytes(b"new card")),
            ]
        )
    assert _files(tmp_path) == {"m.json": b"old card", "m.keras": b"old model"}


def test_25_5_an_interrupted_save_in_the_out_folder_is_cleaned_at_the_next_run(tmp_path, capfd):
    from kpgui.cli import main
    from kpgui.core.storage.atomic import temp_path_for

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    leftover = tmp_path / temp_path_for(tmp_path / "m.keras").name.replace(f"p{os.getpid()}-", f"p{dead}-")
    leftover.write_bytes(b"x" * 1000)  # what kill -9 during a save leaves
    rc = main(
        [
            "train",
            "--epochs",
            "1",
            "--data",
            str(tmp_path / "missing.npz"),
            "--out",
            str(tmp_path / "m.keras"),
        ]
    )
    err = capfd.readouterr().err
    assert rc == 2 and not leftover.exists()
    assert f"removed 1 unfinished save(s) left in {tmp_path}" in err


def test_25_5_unrecorded_models_are_cleaned_with_a_line_and_delete_removes_the_logs(capfd):
    from kpgui.cli import main
    from kpgui.core.storage.paths import models_dir, runs_dir

    orphan = _plain_model(models_dir() / "run-20250101000000-16.keras")
    orphan.with_suffix(".json").write_text('{"format": "kpgui-model-card/1"}')
    old = time.time() - 7200
    os.utime(orphan, (old, old))
    kept = _plain_model(models_dir() / "run-20250101000001-16.keras")
    os.utime(kept, (old, old))
    gone_logs, kept_logs = runs_dir() / "train-1", runs_dir() / "train-2"
    for d in (gone_logs, kept_logs):
        (d / "tensorboard").mkdir(parents=True)
        (d / "history.csv").write_text("epoch,loss\n0,1.0\n")
    with Store.open_default() as store:
        doomed = store.add_run(
            dataclasses.replace(_Run(), model_path=None, notes={"log_dir": str(gone_logs)})
        )
        store.add_run(dataclasses.replace(_Run(), model_path=str(kept), notes={"log_dir": str(kept_logs)}))
    assert main(["runs", "--delete", str(doomed)]) == 0
    err = capfd.readouterr().err
    assert "removed 1 model file(s)" in err and orphan.name in err
    assert not orphan.exists() and not orphan.with_suffix(".json").exists()
    assert kept.exists() and kept_logs.exists(), "a recorded run's model and logs stay"
    assert not gone_logs.exists(), "deleting a run removes its log folder"


def test_25_5_a_recovered_history_does_not_make_its_models_orphans(tmp_path):
    from kpgui.core.storage.paths import database_path, models_dir

    model = _plain_model(models_dir() / "run-1.keras")
    old = time.time() - 7200
    os.utime(model, (old, old))
    database_path().write_bytes(b"garbage, not a database" * 100)
    with Store.recover(database_path()) as store:
        assert store.clean_orphan_models() == []
    assert model.exists()


def test_25_6_runs_started_in_the_same_second_get_their_own_log_folders_and_model_names():
    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.storage.paths import models_dir
    from kpgui.core.storage.saving import new_model_path
    from kpgui.core.training.jobs import TrainJob, _log_dir

    job = TrainJob(ModelSpec(hidden=(16,)))
    folders = [_log_dir("2026-01-01T10:00:00", job) for _ in range(3)]
    assert len(set(folders)) == 3 and all(f.is_dir() for f in folders)
    names = [new_model_path(models_dir(), "2026-01-01T10:00:00", (16,)) for _ in range(3)]
    assert len(set(names)) == 3 and all(n.exists() for n in names)  # reserved, not just checked


def test_25_4_a_run_is_recorded_when_another_program_holds_the_database(monkeypatch, short_busy_timeout):
    import threading

    from kpgui.core.storage.paths import database_path
    from kpgui.core.training import jobs

    Store.open_default().close()
    holder = sqlite3.connect(database_path(), timeout=0, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another kpgui in the middle of a long write
    # Released after a few tries have failed (each waits the 0.1 s busy timeout, then 0.1 s).
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    said = []

    class Recorder(Listener):
        def on_status(self, text):
            said.append(text)

    run = _Run(name="busy", status="finished", started_at="2026-01-01T10:00:00")
    run_id, error = jobs._record(run, Recorder(), attempts=10, pause=0.1)
    release.join()
    holder.close()
    assert error is None and run_id is not None, error
    assert any("busy" in s for s in said), said
    with Store.open_default() as store:
        assert [r.id for r in store.list_runs()] == [run_id]


def test_25_3_exports_refuse_the_database_and_every_file_kpgui_owns(tmp_path, capfd):
    from kpgui.cli import main
    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.storage.paths import OwnFileError, data_dir, database_path, models_dir
    from kpgui.core.storage.resources import default_model_path
    from kpgui.core.storage.saving import copy_model
    from kpgui.core.training.experiment import Experiment, save_experiment

    with Store.open_default() as store:
        run = store.add_run(dataclasses.replace(_Run(), name="precious"))
        store.add_sample(
            3, [np.array([[1.0, 1.0], [20.0, 20.0]])], 10.0, (280, 280), np.zeros((28, 28), np.float32)
        )
    db = database_path()
    wal = db.with_name(db.name + "-wal")
    for target in (db, wal, models_dir() / "x.npz", data_dir() / "runs" / "x.npz"):
        before = target.read_bytes() if target.is_file() else None
        rc = main(["samples", "export", str(target)])
        err = capfd.readouterr().err
        assert rc == 2 and "kpgui" in err and "destroy" in err, (target, err)
        assert (target.read_bytes() if target.is_file() else None) == before
    with Store.open_default() as store:
        assert store.get_run(run).name == "precious"  # the history is intact
    shipped = default_model_path().read_bytes()
    with pytest.raises(OwnFileError, match="shipped with kpgui"):
        copy_model(_plain_model(tmp_path / "m.keras"), default_model_path(), force=True)
    assert default_model_path().read_bytes() == shipped
    with pytest.raises(OwnFileError, match="database"):
        save_experiment(db, Experiment(ModelSpec()))
    rc = main(["train", "--epochs", "1", "--out", str(models_dir() / "mine.keras")])
    assert rc == 2 and "models folder" in capfd.readouterr().err


def test_25_14_a_full_then_read_only_data_disk_still_lists_and_exports(tmp_path, capfd):
    from kpgui.cli import main
    from kpgui.core.storage.paths import database_path_for_reading
    from tests.hostile import fill_disk, remount_read_only, small_disk

    data = Path(os.environ["KPGUI_DATA_DIR"])
    with small_disk(data):
        with Store.open_default() as store:
            store.add_run(dataclasses.replace(_Run(), name="kept run"))
            store.add_sample(
                4, [np.array([[1.0, 1.0], [20.0, 20.0]])], 10.0, (280, 280), np.zeros((28, 28), np.float32)
            )
        assert database_path_for_reading().is_file()
        fill_disk(data)
        for state in ("full", "read-only"):
            assert main(["runs"]) == 0, capfd.readouterr().err
            out, err = capfd.readouterr()
            assert "kept run" in out and not err, (state, err)
            export = tmp_path / f"{state}.npz"
            assert main(["samples", "export", str(export)]) == 0, capfd.readouterr().err
            assert len(read_samples_file(export)) == 1
            capfd.readouterr()
            if state == "full":
                remount_read_only(data)


HUGE = "1" + "0" * 400  # 10**400: float() of it raises OverflowError


@pytest.mark.parametrize(
    "body",
    [
        '{"format": "kpgui-experiment/1", "spec": {"learning_rate": HUGE}}',
        '{"format": "kpgui-experiment/1", "spec": {"epochs": HUGE}}',
        '{"format": "kpgui-experiment/1", "spec": {"hidden": [HUGE]}}',
        '{"format": "kpgui-experiment/1", "spec": {}, "sweep": {"option": "learning_rate", '
        '"values": [HUGE, 0.1]}}',
        '{"format": "kpgui-experiment/1", "spec": {"seed": 1' + "0" * 5000 + "}}",
    ],
)
def test_25_10_a_huge_number_in_an_experiment_is_one_clear_message(tmp_path, body):
    from kpgui.core.training.experiment import ExperimentError, load_experiment

    path = tmp_path / "exp.json"
    path.write_text(body.replace("HUGE", HUGE))
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    text = str(info.value)
    assert "exp.json" in text and "digits" in text and "far larger" in text and len(text) < 200


def test_25_10_huge_numbers_given_to_a_spec_are_refused_by_range_not_overflow():
    from kpgui.core.model.spec import ModelSpec

    for name, words in (
        ("learning_rate", "at most 10"),
        ("epochs", "from 1 to 1,000"),
        ("seed", "2,147,483,647"),
    ):
        with pytest.raises(ValueError, match=words):
            ModelSpec.from_dict({name: 10**400}, strict=True)
        assert ModelSpec.from_dict({name: 10**400}) == ModelSpec()  # lenient: the default


def test_25_10_a_huge_number_in_a_model_card_is_named_and_the_model_still_works(tmp_path):
    from kpgui.core.model.cards import card_facts
    from kpgui.core.reading.confidence import Calibration
    from kpgui.core.storage.saving import copy_model
    from kpgui.core.training.personal import spec_of

    model = _plain_model(tmp_path / "m.keras")
    model.with_suffix(".json").write_text(
        (
            '{"format": "kpgui-model-card/1", "test_accuracy": HUGE, "spec": {"epochs": HUGE}, '
            '"calibration": {"temperature": HUGE, "threshold": 0.5}}'
        ).replace("HUGE", HUGE)
    )
    p = Predictor.load(model)  # Model info, Continue training: the card is what they read
    assert card_facts(p.card) == [
        (
            "Model card",
            "m.json was ignored: it holds the number "
            "10000000… (401 digits), far larger than any value kpgui uses",
        )
    ]
    assert Calibration.from_card(p.card) == Calibration()
    assert spec_of(p).hidden == (16,)  # read off the layers
    assert p.predict(np.zeros((1, 784), np.float32)).shape == (1, 10)
    saved = copy_model(model, tmp_path / "copy.keras")
    assert "unreadable" not in json.loads(saved.with_suffix(".json").read_text())


def test_25_14_ranges_print_as_readable_numbers(capfd):
    from kpgui.cli import main

    with pytest.raises(SystemExit) as info:  # argparse's own one-line usage error
        main(["train", "--seed", "99999999999"])
    err = capfd.readouterr().err
    assert info.value.code == 2
    assert "2,147,483,647" in err and "e+" not in err


def _a_seven(mnist) -> np.ndarray:
    """A clear 7 of MNIST test, white on black, 84 x 84 (values 0-1)."""
    x_test, y_test = mnist[2], mnist[3]
    seven = x_test[np.flatnonzero(y_test == 7)[0]].astype(np.float64) / 255.0
    return np.kron(seven, np.ones((3, 3)))


def _read_digit(path: Path, capsys, *extra: str) -> str:
    from kpgui.cli import main

    assert main(["predict", str(path), *extra]) == 0
    return capsys.readouterr().out.strip()


@pytest.mark.parametrize(
    "kind",
    [
        "png16",
        "png16-12bit",
        "tiff32",
        "tiff-float",
        "tiff-float255",
        "png16-paper",
        "tiff32-paper",
        "tiff-float-paper",
    ],
)
def test_25_11_deep_greyscale_pictures_read_by_their_real_range(tmp_path, mnist, capsys, kind):
    """A plain conversion to 8 bits clips: dark ink on grey 16/32-bit paper became all white."""
    from PIL import Image

    seven = _a_seven(mnist)
    path = tmp_path / f"seven-{kind}.{'png' if kind.startswith('png') else 'tif'}"
    if kind == "png16-paper":  # a scan: dark ink (8,000) on grey paper (40,000)
        Image.fromarray((40000 - seven * 32000).astype(np.uint16)).save(path)
    elif kind == "tiff32-paper":
        Image.fromarray((1_500_000_000 - seven * 1_200_000_000).astype(np.int32), mode="I").save(path)
    elif kind == "tiff-float-paper":
        Image.fromarray((0.8 - seven * 0.6).astype(np.float32), mode="F").save(path)
    elif kind == "png16":
        Image.fromarray((seven * 65535).astype(np.uint16)).save(path)
    elif kind == "png16-12bit":  # a 12-bit scanner's values in a 16-bit file
        Image.fromarray((seven * 4095).astype(np.uint16)).save(path)
    elif kind == "tiff32":
        Image.fromarray((seven * 2_000_000_000).astype(np.int32), mode="I").save(path)
    elif kind == "tiff-float":
        Image.fromarray(seven.astype(np.float32), mode="F").save(path)
    else:
        Image.fromarray((seven * 255).astype(np.float32), mode="F").save(path)
    assert Image.open(path).mode in ("I;16", "I", "F")  # really a deep picture
    out = _read_digit(path, capsys)
    assert out.startswith(f"{path}: 7 ("), out


@pytest.mark.parametrize("ink", ["auto", "light"])
def test_25_11_a_white_digit_drawn_with_alpha_only_reads(tmp_path, mnist, capsys, ink):
    from PIL import Image

    alpha = (_a_seven(mnist) * 255).astype(np.uint8)
    rgba = np.dstack([np.full(alpha.shape, 255, np.uint8)] * 3 + [alpha])  # white everywhere
    path = tmp_path / "white-seven.png"
    Image.fromarray(rgba, "RGBA").save(path)
    out = _read_digit(path, capsys, "--ink", ink)
    assert out.startswith(f"{path}: 7 ("), out
    black = tmp_path / "black-seven.png"  # the same with black ink still reads, too
    Image.fromarray(np.dstack([np.zeros(alpha.shape, np.uint8)] * 3 + [alpha]), "RGBA").save(black)
    assert _read_digit(black, capsys).startswith(f"{black}: 7 (")


def _layer(kind: str, name: str, inbound: list[str] | None = None, **cfg) -> dict:
    layer = {"class_name": kind, "name": name, "config": {"name": name, **cfg}}
    if inbound is not None:  # a functional graph's edge: which layers' outputs it takes
        layer["inbound_nodes"] = [
            {
                "args": [
                    [
                        {"class_name": "__keras_tensor__", "config": {"keras_history": [n, 0, 0]}}
                        for n in inbound
                    ]
                ]
            }
        ]
    return layer


def _keras_docs_convnet() -> dict:
    """The config of the Keras docs' MNIST convnet (as Keras 3 writes it, trimmed)."""
    return {
        "class_name": "Sequential",
        "config": {
            "name": "sequential",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, 28, 28, 1], "name": "input"}},
                _layer("Conv2D", "conv2d", filters=32, kernel_size=[3, 3], strides=[1, 1]),
                _layer("MaxPooling2D", "max_pooling2d", pool_size=[2, 2], strides=[2, 2]),
                _layer("Conv2D", "conv2d_1", filters=64, kernel_size=[3, 3], strides=[1, 1]),
                _layer("MaxPooling2D", "max_pooling2d_1", pool_size=[2, 2], strides=[2, 2]),
                _layer("Flatten", "flatten"),
                _layer("Dropout", "dropout", rate=0.5),
                _layer("Dense", "dense", units=10, activation="softmax"),
            ],
        },
    }


def test_25_13_layers_after_flatten_are_costed_on_what_flatten_gives():
    from kpgui.core.model.modelfile import _Flow, _walk, check_config_size
    from kpgui.core.storage.bounded import MAX_ACTIVATIONS

    flow = _Flow()
    _walk(_keras_docs_convnet(), flow)
    # Exact numbers (valid padding): dropout gets 5 x 5 x 64 = 1,600; the estimate may round up
    # (it ignores the 2 pixels valid padding drops) but stays of that order, not 39.3 M.
    assert 1_600 <= flow.outputs["dropout"][0] * flow.outputs["dropout"][1] <= 3_136
    assert 34_826 <= check_config_size(_keras_docs_convnet()) <= 60_000  # 34,826 real weights
    assert flow.widest[1] < MAX_ACTIVATIONS


def test_25_13_a_big_layer_hidden_behind_a_pooling_branch_is_still_costed():
    from kpgui.core.model.modelfile import check_config_size
    from kpgui.core.storage.bounded import TooBig

    def graph(conv_input: str) -> dict:
        return {
            "class_name": "Functional",
            "config": {
                "name": "f",
                "layers": [
                    _layer("InputLayer", "big", batch_shape=[None, 1500, 1500, 1]),
                    _layer("MaxPooling2D", "shrink", ["big"], pool_size=[500, 500]),
                    _layer("Conv2D", "conv", [conv_input], filters=8, kernel_size=[3, 3]),
                    _layer("GlobalAveragePooling2D", "gap", ["conv"]),
                    _layer("Dense", "out", ["gap"], units=10),
                ],
            },
        }

    assert check_config_size(graph("shrink")) < 1_000  # the conv really sees 3 x 3 pixels
    for hidden in ("big", "no-such-layer"):  # on the 1500 x 1500 input, or unknown: the worst
        with pytest.raises(TooBig, match="'conv'"):
            check_config_size(graph(hidden))


@pytest.mark.slow
def test_25_13_the_keras_docs_convnet_passes_the_bounded_reader(tmp_path):
    """Built and saved by Keras itself (no training needed): its file passes every size check."""
    code = f"""
        import keras
        from keras import layers
        m = keras.Sequential([keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)), layers.Flatten(), layers.Dropout(0.5),
            layers.Dense(10, activation="softmax")])
        m.save({str(tmp_path / "convnet.keras")!r})
        print(m.count_params())
    """
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == "34826"
    from kpgui.core.model.modelfile import (
        check_config_size,
        check_weight_shapes,
        read_keras_zip,
        weight_datasets,
    )

    config, weights = read_keras_zip(tmp_path / "convnet.keras")
    assert 34_826 <= check_config_size(config) <= 60_000
    with weights, h5py.File(weights, "r") as h5:
        assert check_weight_shapes(weight_datasets(h5)) == 34_826


def test_25_14_a_bad_picture_says_what_is_wrong_not_unexpected(tmp_path, capsys):
    from kpgui.cli import main

    cut, text, empty = tmp_path / "cut.png", tmp_path / "notes.png", tmp_path / "empty.tif"
    from PIL import Image

    Image.fromarray(np.eye(64, dtype=np.uint8) * 255).save(cut)
    cut.write_bytes(cut.read_bytes()[:60])
    text.write_text("not a picture")
    empty.write_bytes(b"")
    assert main(["predict", str(cut), str(text), str(empty)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    for line, name in zip(lines, ("cut.png", "notes.png", "empty.tif"), strict=True):
        assert name in line and "unexpected" not in line and "report it" not in line, line


def test_25_14_predict_finishes_the_batch_on_a_terminal_that_cannot_print_a_dash(tmp_path, mnist):
    from PIL import Image

    seven = (_a_seven(mnist) * 255).astype(np.uint8)
    first, second = tmp_path / "seven—one.png", tmp_path / "seven-two.png"
    for p in (first, second):
        Image.fromarray(seven).save(p)
    out = subprocess.run(
        [sys.executable, "-m", "kpgui", "predict", str(first), str(second)],
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "ascii", "PYTHONPATH": str(ROOT)},
    )
    text = out.stdout.decode("ascii")
    assert out.returncode == 0, out.stderr.decode("ascii", "replace")
    assert "seven?one.png: 7 (" in text and "seven-two.png: 7 (" in text


def test_25_14_names_with_newlines_or_escapes_stay_on_their_line_in_runs(capsys):
    from kpgui.cli import main

    with Store.open_default() as store:
        store.add_run(dataclasses.replace(_Run(), name="two\nlines"))
        store.add_run(dataclasses.replace(_Run(), name="\x1b[2Jcleared"))
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "two\\nlines" in out and "\\x1b[2Jcleared" in out
    assert len(out.strip().splitlines()) == 3  # the head and one line per run


def test_25_14_duplicates_within_an_imported_file_are_named_so(tmp_path, capsys):
    from kpgui.cli import main
    from kpgui.core.storage.samplefiles import SampleBundle, write_samples_file

    stroke = [np.array([[1.0, 1.0], [20.0, 20.0]], np.float32)]
    other = [np.array([[5.0, 1.0], [5.0, 20.0]], np.float32)]
    img = np.zeros((28, 28), np.uint8)
    bundle = SampleBundle(
        images=np.stack([img, img, img]),
        labels=np.array([1, 1, 7], np.uint8),
        strokes=[stroke, stroke, other],
        pen_widths=np.array([10, 10, 10], np.float32),
        canvas_sizes=np.array([[280, 280]] * 3, np.int32),
        created_at=None,
    )
    path = tmp_path / "twice.npz"
    write_samples_file(path, bundle)
    assert main(["samples", "import", str(path)]) == 0
    assert capsys.readouterr().out.strip() == (
        f"imported 2 samples from {path} (1 duplicate(s) within the file)"
    )
    assert main(["samples", "import", str(path)]) == 0
    assert "(2 already present, 1 duplicate(s) within the file)" in capsys.readouterr().out


@pytest.mark.slow
def test_25_14_a_full_out_disk_names_the_out_folder_and_the_run_is_kept(tmp_path, capfd):
    from kpgui.cli import main
    from tests.hostile import fill_disk, small_disk

    out = tmp_path / "usb"
    args = [
        "train",
        "--hidden",
        "16",
        "--epochs",
        "1",
        "--train-samples",
        "2000",
        "--quiet",
        "--out",
        str(out / "m.keras"),
    ]
    with small_disk(out, "1m"):
        (out / "m.keras").write_bytes(b"an older model")
        fill_disk(out)
        assert main(args) == 2  # full already: refused before training, naming the folder
        err = capfd.readouterr().err
        assert f"the disk holding {out} is full" in err and "Loading TensorFlow" not in err, err
        filler = out / "filler0.bin"  # room for less than the model and its card
        os.truncate(filler, filler.stat().st_size - 80 * 1024)
        rc = main(args)
        err = capfd.readouterr().err
        assert rc == 1 and str(out / "m.keras") in err and "disk is full" in err.lower(), err
        assert (out / "m.keras").read_bytes() == b"an older model"
        assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp file left
    assert main(["runs", "--json"]) == 0
    runs = json.loads(capfd.readouterr().out)
    assert len(runs) == 1 and Path(runs[0]["model_path"]).is_file()  # recorded, model kept


@pytest.mark.slow
def test_25_4_kpgui_train_records_its_run_while_another_kpgui_holds_the_database(tmp_path, capfd):
    """Another program holds the database from before the run until 4 s after its model is
    saved (longer than the 2 s lock timeout): the run is still recorded, and --out written."""
    import threading

    from kpgui.cli import main
    from kpgui.core.storage.paths import database_path, models_dir

    Store.open_default().close()
    holder = sqlite3.connect(database_path(), timeout=0, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    done = threading.Event()

    def release_after_save():
        while not done.is_set() and not any(p.stat().st_size for p in models_dir().glob("*.keras")):
            time.sleep(0.1)
        time.sleep(4.0)
        holder.execute("COMMIT")

    t = threading.Thread(target=release_after_save)
    t.start()
    try:
        rc = main(
            [
                "train",
                "--hidden",
                "16",
                "--epochs",
                "1",
                "--train-samples",
                "2000",
                "--out",
                str(tmp_path / "m.keras"),
            ]
        )
    finally:
        done.set()
        t.join()
        holder.close()
    out, err = capfd.readouterr()
    assert rc == 0 and "recorded as run" in out and "busy" in err, err
    assert (tmp_path / "m.keras").is_file()
    with Store.open_default() as store:
        runs = store.list_runs()
    assert len(runs) == 1 and Path(runs[0].model_path).is_file()
