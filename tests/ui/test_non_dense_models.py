"""A model only Keras can run (Conv2D, BatchNormalization) is refused in the window with a
message naming the layer and what works instead, and TensorFlow is never imported into the
window's process (issue 25, item 12). The CLI reads it with its log lines kept off the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile

import pytest

from kpgui.core.storage.resources import default_model_path


def _with_batchnorm(target) -> str:
    """The shipped model with one Dropout turned into a BatchNormalization (no TensorFlow)."""
    with zipfile.ZipFile(default_model_path()) as src, zipfile.ZipFile(target, "w") as out:
        for name in src.namelist():
            data = src.read(name)
            if name == "config.json":
                config = json.loads(data)
                layer = config["config"]["layers"][2]
                layer["class_name"] = "BatchNormalization"
                layer["config"] = {"name": "batch_normalization", "dtype": "float32"}
                data = json.dumps(config).encode()
            out.writestr(name, data)
    return str(target)


def _refused(qtbot, app, errors, path: str) -> str:
    tf_before = "tensorflow" in sys.modules
    app.models.open_file(path)
    qtbot.waitUntil(lambda: bool(errors), timeout=10000)
    app.tasks.wait(5)
    assert not (("tensorflow" in sys.modules) and not tf_before), "the window imported TensorFlow"
    assert app.state.model.source == "shipped model", app.state.model.source  # the current model stays
    title, text = errors[-1]
    assert title == "Cannot open model" and "kpgui predict --model" in text, errors
    return text


def test_a_batchnorm_model_is_refused_by_name_without_tensorflow(qtbot, state, tasks, errors, tmp_path):
    from types import SimpleNamespace

    from kpgui.ui.controllers.models import ModelController

    models = ModelController(state, tasks, lambda title, text: errors.append((title, text)))
    rig = SimpleNamespace(models=models, tasks=tasks, state=state)  # what _refused uses of the app
    text = _refused(qtbot, rig, errors, _with_batchnorm(tmp_path / "bn.keras"))
    assert "BatchNormalization" in text and "dense models" in text


@pytest.mark.slow
def test_a_real_conv_model_is_refused_in_the_window_and_read_quietly_by_the_cli(qtbot, app, errors, tmp_path):
    model = tmp_path / "conv.keras"
    build = textwrap.dedent(f"""
        import keras
        m = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
        m.save({str(model)!r})
    """)
    subprocess.run([sys.executable, "-c", build], check=True, capture_output=True, timeout=300)
    text = _refused(qtbot, app, errors, str(model))
    assert "Conv2D" in text

    import numpy as np
    from PIL import Image

    picture = tmp_path / "one.png"
    pixels = np.zeros((28, 28), np.uint8)
    pixels[5:22, 13:16] = 255
    Image.fromarray(pixels).save(picture)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [sys.executable, "-m", "kpgui", "predict", "--model", str(model), str(picture)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0 and done.stdout.startswith(f"{picture}:")
    assert done.stderr == ""  # TensorFlow's chatter went to the log, not the terminal
