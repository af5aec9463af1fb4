"""A run as a plain Keras script: it compiles, says what it cannot reproduce, and (slow lane)
trains to the same test accuracy as kpgui's own run of the same settings."""

from __future__ import annotations

import dataclasses
import math
import os
import re
import subprocess
import sys

import pytest

from kpgui.cli import main
from kpgui.core.lessons.code import keras_script
from kpgui.core.model.run import RunRecord
from kpgui.core.model.spec import ModelSpec
from kpgui.core.storage.store import Store

SPECS = [
    ModelSpec(),
    ModelSpec(
        hidden=(64, 32),
        activation="tanh",
        dropout=0.2,
        optimizer="sgd",
        learning_rate=0.05,
        lr_schedule="cosine",
        batch_size=32,
        epochs=3,
        validation_split=0.2,
        patience=2,
        train_samples=5000,
        label_smoothing=0.1,
        seed=7,
    ),
    ModelSpec(
        optimizer="adam",
        validation_split=0.0,
        augment=True,
        elastic=0.5,
        styles=0.3,
        restroke=0.2,
        non_digits=0.05,
    ),
]


@pytest.mark.parametrize("spec", SPECS)
def test_the_script_is_valid_python_in_the_primers_four_steps(spec):
    code = keras_script(spec, data_path=os.environ.get("KPGUI_MNIST"))
    compile(code, "run.py", "exec")
    steps = [code.index(f"# {n}. ") for n in (1, 2, 3, 4)]
    assert steps == sorted(steps)
    imports = set(re.findall(r"^\s*import (\w+)", code, re.M))
    statements = [line.split("#")[0] for line in code.split('"""')[2].splitlines()]
    assert imports <= {"keras", "numpy", "math"} and not any("kpgui" in s for s in statements)
    assert f"batch_size={spec.batch_size}" in code and f"epochs={spec.epochs}" in code
    assert code.count("keras.layers.Dense(") == len(spec.hidden) + 1
    assert code.count("keras.layers.Dropout(") == (len(spec.hidden) if spec.dropout else 0)


def test_the_settings_reach_the_script():
    code = keras_script(SPECS[1])
    assert "keras.utils.set_random_seed(7)" in code
    assert "keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9, nesterov=True)" in code
    assert "CosineDecay(0.05, steps, alpha=0.01)" in code
    assert "x_train[:5000]" in code and "validation_split=0.2" in code
    assert 'EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)' in code
    assert "label_smoothing=0.1" in code and 'activation="tanh"' in code
    assert "could not" not in code and "cannot reproduce" not in code  # nothing left out


def test_what_a_plain_script_cannot_do_is_named_in_a_comment():
    code = keras_script(SPECS[2])
    comment = code.split("# 1.")[0]
    assert "cannot reproduce" in comment
    for words in (
        "augmentation",
        "elastic distortion of strength 0.5",
        "drawn styles 0.3",
        "re-stroked mnist 0.2",
        "non-digits 0.05",
    ):
        assert words in comment.lower()
    assert "validation_split" not in code and "EarlyStopping" not in code
    fine = keras_script(ModelSpec(), kind="finetune")
    assert "fine-tuned an earlier model" in fine


@pytest.mark.parametrize(
    "option, values",
    [
        ("learning_rate", (1e-6, 0.01, 1.0)),
        ("optimizer", ("sgd", "rmsprop", "adam")),
        ("hidden", ((32,), (128, 64))),
        ("dropout", (0.0, 0.3)),
    ],
)
def test_a_sweep_is_one_loop_over_its_values(option, values):
    code = keras_script(ModelSpec(seed=3, dropout=0.1), sweep=(option, values))
    compile(code, "sweep.py", "exec")
    loop = re.search(r"^for (\w+) in (.+):$", code, re.M)
    assert loop is not None and eval(loop.group(2)) == [
        list(v) if isinstance(v, tuple) else v for v in values
    ]
    assert code.count("model.fit(") == 1 and "    model.fit(" in code


def test_kpgui_runs_code_prints_a_stored_runs_script(capsys):
    spec = ModelSpec(hidden=(32,), optimizer="adam", learning_rate=0.003, epochs=4, seed=11)
    result = RunRecord(
        spec=spec,
        history={"loss": [0.5]},
        status="finished",
        epochs_run=1,
        wall_time=1.0,
        train_samples=100,
        samples_per_second=1.0,
        test_accuracy=0.9,
    )
    with Store.open_default() as store:
        run_id = store.add_run(dataclasses.replace(result, name="tiny"))
    assert main(["runs", "--code", str(run_id)]) == 0
    out = capsys.readouterr().out
    compile(out, "run.py", "exec")
    assert f"kpgui run {run_id} (tiny)" in out and "Adam(learning_rate=0.003)" in out
    assert "keras.layers.Dense(32" in out and "set_random_seed(11)" in out
    assert main(["runs", "--code", "999"]) == 2
    err = capsys.readouterr().err
    assert "no run with id 999" in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_an_exported_script_reaches_kpguis_own_test_accuracy(tmp_path):
    """Same settings, fixed seed, 5 000 images, 2 epochs: the script in its own process and
    kpgui's Trainer read the same test accuracy within 0.5 points (measured: identical)."""
    from kpgui.core.training.trainer import Trainer

    spec = ModelSpec(
        hidden=(64,),
        dropout=0.2,
        optimizer="sgd",
        learning_rate=0.05,
        lr_schedule="cosine",
        epochs=2,
        patience=1,
        train_samples=5000,
        seed=7,
    )
    script = tmp_path / "run.py"
    script.write_text(keras_script(spec))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH="")  # plain Keras, no kpgui
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    theirs = float(re.search(r"test accuracy: ([\d.]+) %", out.stdout).group(1))
    ours = 100 * Trainer(spec).run().test_accuracy
    assert ours > 80 and abs(theirs - ours) <= 0.5, (theirs, ours)


@pytest.mark.parametrize("split", [0.07, 0.33, 0.1, 0.05])
def test_the_validation_split_holds_out_what_kpguis_trainer_holds_out(split, mnist):
    """kpgui's Trainer holds out the last int(N * split) images (kpgui.core.training.trainer)."""
    code = keras_script(ModelSpec(validation_split=split, lr_schedule="cosine"))
    x, y = mnist[0], mnist[1]
    want_val = int(len(x) * split)
    if "validation_data=(x_val, y_val)" in code:  # Keras would round the other way: by hand
        split_lines = "\n".join(
            line
            for line in code.splitlines()
            if line.startswith(("n_val =", "x_val, y_val =", "x_train, y_train ="))
        )
        scope = {"x_train": x, "y_train": y}
        exec(split_lines, scope)
        assert len(scope["x_val"]) == want_val and len(scope["x_train"]) == len(x) - want_val
        assert (scope["x_val"][0] == x[len(x) - want_val]).all()  # the last ones
    else:  # keras.src.trainers.data_adapters.array_slicing.train_validation_split's rule
        assert f"validation_split={split!r}" in code
        assert math.floor(len(x) * (1.0 - split)) == len(x) - want_val
    assert split not in (0.07, 0.33) or "validation_data" in code  # (these do round apart)
