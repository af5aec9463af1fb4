"""Per-layer training numbers (kpgui.core.model.layerstats): checked against TensorFlow's own
gradients on the same weights and batch, and against plain counts."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from kpgui.core.model.inference import DenseLayer
from kpgui.core.model.layerstats import (
    CSV_NAME,
    LayerHistory,
    dense_layers,
    format_table,
    probe_batch,
    probe_gradients,
    update_ratios,
)
from kpgui.core.training.progress import Listener


def _model_and_batch(mnist, activation: str, smoothing: float):
    from kpgui.core.model.network import build_model
    from kpgui.core.model.spec import ModelSpec

    spec = ModelSpec(hidden=(48, 24), activation=activation, label_smoothing=smoothing, seed=3, dropout=0.2)
    model = build_model(spec)
    x, y, _xt, _yt = mnist
    eye = np.eye(10, dtype=np.float32)
    xb, tb = probe_batch(x[:2000], eye[y[:2000]], seed=3, size=64)
    return model, xb, tb


@pytest.mark.slow  # needs TensorFlow: its import alone takes seconds
@pytest.mark.parametrize("activation, smoothing", [("relu", 0.0), ("tanh", 0.1), ("gelu", 0.0)])
def test_gradient_norms_equal_tensorflows_gradients(mnist, activation, smoothing):
    import tensorflow as tf

    model, xb, tb = _model_and_batch(mnist, activation, smoothing)
    norms, _dead, loss = probe_gradients(dense_layers(model), xb, tb, smoothing)
    with tf.GradientTape() as tape:
        out = model(xb, training=False)  # dropout off, as for the probe
        tf_loss = model.loss(tb, out)
    grads = tape.gradient(tf_loss, model.trainable_variables)
    # trainable_variables: kernel, bias per Dense layer
    expected = [
        math.sqrt(float(tf.reduce_sum(k * k) + tf.reduce_sum(b * b)))
        for k, b in zip(grads[::2], grads[1::2], strict=True)
    ]
    assert len(norms) == len(expected) == 3
    np.testing.assert_allclose(norms, expected, rtol=2e-3)
    assert loss == pytest.approx(float(tf_loss), rel=1e-4)


@pytest.mark.slow  # needs TensorFlow: its import alone takes seconds
def test_dead_share_counts_units_silent_on_every_probe_image(mnist):
    import keras

    model, xb, tb = _model_and_batch(mnist, "relu", 0.0)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    kernel, bias = dense[0].get_weights()
    bias[:12] = -1000.0  # 12 of the 48 first-layer units can never fire
    dense[0].set_weights([kernel, bias])
    _norms, dead, _loss = probe_gradients(dense_layers(model), xb, tb)
    # Independently: the hidden layers' outputs from Keras, counted unit by unit.
    outputs = keras.Model(model.inputs, [dense[0].output, dense[1].output])([xb], training=False)
    counts = [
        sum(1 for u in range(o.shape[1]) if all(float(o[i, u]) == 0.0 for i in range(len(xb)))) / o.shape[1]
        for o in (np.asarray(outputs[0]), np.asarray(outputs[1]))
    ]
    assert dead[0] == pytest.approx(counts[0]) and dead[0] >= 12 / 48
    assert dead[1] == pytest.approx(counts[1])
    assert math.isnan(dead[2])  # the output layer has no ReLU


@pytest.mark.slow  # needs TensorFlow: its import alone takes seconds
def test_dead_share_is_not_given_for_other_activations(mnist):
    model, xb, tb = _model_and_batch(mnist, "tanh", 0.0)
    _norms, dead, _loss = probe_gradients(dense_layers(model), xb, tb)
    assert all(math.isnan(d) for d in dead), dead


def test_update_ratio_is_the_move_per_batch_relative_to_the_weights():
    then = [DenseLayer(np.ones((2, 2), np.float32), np.zeros(2, np.float32), "relu")]
    now = [DenseLayer(np.full((2, 2), 1.5, np.float32), np.array([0.0, 0.0], np.float32), "relu")]
    # moved: sqrt(4 * 0.25) = 1; size: sqrt(4) = 2; over 5 batches: 1 / (5 * 2)
    assert update_ratios(now, then, 5) == [pytest.approx(0.1)]
    assert math.isnan(update_ratios(now, None, 5)[0])


def test_probe_batch_is_fixed_by_the_seed():
    images = np.arange(1000 * 784, dtype=np.float64).reshape(1000, 784) % 256
    targets = np.eye(10, dtype=np.float32)[np.arange(1000) % 10]
    a, ta = probe_batch(images, targets, seed=5, size=100)
    b, _tb = probe_batch(images, targets, seed=5, size=100)
    c, _tc = probe_batch(images, targets, seed=6, size=100)
    assert a.shape == (100, 784) and ta.shape == (100, 10) and a.max() <= 1.0
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_history_round_trips_through_json_with_nan_as_null():
    import json

    from kpgui.core.model.layerstats import LayerStats
    from kpgui.core.storage.bounded import finite_json

    h = LayerHistory()
    h.add(
        LayerStats(
            1,
            2,
            0,
            10,
            0,
            ("dense 1 (8 relu)", "output (10)"),
            (0.5, 0.25),
            (math.nan, math.nan),
            (0.125, math.nan),
            2.3,
        )
    )
    h.add(
        LayerStats(
            1,
            2,
            10,
            10,
            10,
            ("dense 1 (8 relu)", "output (10)"),
            (0.4, 0.2),
            (1e-3, 2e-3),
            (0.25, math.nan),
            1.9,
        )
    )
    back = LayerHistory.from_dict(json.loads(json.dumps(finite_json(h.to_dict()))))
    assert back.layers == h.layers and back.position == [0.0, 1.0] and back.batch == [0, 10]
    assert back.values["grad_norm"] == [[0.5, 0.4], [0.25, 0.2]]
    assert math.isnan(back.values["update_ratio"][0][0])
    text = format_table(back)
    assert "dense 1 (8 relu)" in text and "25.0 %" in text and "0.001" in text


@pytest.mark.slow
def test_a_run_reports_layer_stats_to_the_listener_csv_and_result(mnist, tmp_path):
    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.training.trainer import Trainer

    x, y, xt, yt = mnist
    got = []

    class Recorder(Listener):
        def on_layers(self, stats):
            got.append(stats)

    spec = ModelSpec(hidden=(32,), epochs=1, batch_size=32, validation_split=0.0, seed=2)
    result = Trainer(spec, Recorder(), data=(x[:1600], y[:1600], xt[:200], yt[:200]), log_dir=tmp_path).run()
    # before the first batch, then at least 10 batches apart as often as the 2 % budget
    # allows, and after the last
    assert got[0].batch == 0 and got[-1].batch == 50 and len(got) >= 2
    assert all(b.batch - a.batch >= 10 for a, b in zip(got[:-2], got[1:-1], strict=True)), [
        s.batch for s in got
    ]
    assert all(s.layers == ("dense 1 (32 relu)", "output (10)") for s in got), {s.layers for s in got}
    history = LayerHistory.from_dict(result.layer_stats)
    assert history.batch == [s.batch for s in got]
    with open(tmp_path / CSV_NAME, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))  # as a spreadsheet would read it
    assert len(rows) == 2 * len(got)
    assert float(rows[-1]["grad_norm"]) == pytest.approx(got[-1].grad_norm[1], rel=1e-5)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "tensorboard" / "layers"))
    events.Reload()
    dead = events.Scalars("dead/dense_1")
    assert [e.step for e in dead] == [s.batch for s in got]
    assert dead[-1].value == pytest.approx(got[-1].dead[0])


def _stats_history() -> LayerHistory:
    from kpgui.core.model.layerstats import LayerStats

    h = LayerHistory()
    names = ("dense 1 (64 relu)", "output (10)")
    h.add(LayerStats(1, 1, 0, 20, 0, names, (0.9, 0.3), (math.nan, math.nan), (0.0, math.nan), 2.3))
    h.add(LayerStats(1, 1, 20, 20, 20, names, (0.05, 0.01), (2e-3, 1e-3), (0.75, math.nan), 2.2))
    return h


def _result(layer_stats):
    from kpgui.core.model.run import RunRecord
    from kpgui.core.model.spec import ModelSpec

    return RunRecord(
        spec=ModelSpec(hidden=(64,)),
        history={"loss": [0.5]},
        status="finished",
        epochs_run=1,
        wall_time=3.0,
        train_samples=100,
        samples_per_second=10.0,
        layer_stats=layer_stats,
    )


def test_store_keeps_layer_stats_with_the_run_and_deletes_them_with_it(tmp_path):
    from kpgui.core.storage.store import Store

    with Store(tmp_path / "k.db") as store:
        with_stats = store.add_run(_result(_stats_history().to_dict()))
        without = store.add_run(_result(None))
        back = LayerHistory.from_dict(store.layer_stats(with_stats))
        assert back.values["dead"][0] == [0.0, 0.75] and back.batch == [0, 20]
        assert store.layer_stats(without) is None
        store.delete_run(with_stats)
        assert store.layer_stats(with_stats) is None


def test_a_version_1_database_gains_the_stats_table_and_keeps_its_runs(tmp_path):
    import sqlite3

    from kpgui.core.storage.store import SCHEMA_VERSION, Store

    db = tmp_path / "old.db"
    with Store(db) as store:
        old = store.add_run(_result(None))
    con = sqlite3.connect(db)
    con.execute("DROP TABLE run_stats")  # as kpgui before layer statistics made it
    con.execute("PRAGMA user_version=1")
    con.commit()
    con.close()
    with Store(db) as store:
        assert [r.id for r in store.list_runs()] == [old] and store.layer_stats(old) is None
        new = store.add_run(_result(_stats_history().to_dict()))
        assert store.layer_stats(new)["layers"] == ["dense 1 (64 relu)", "output (10)"]
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    con.close()


def test_kpgui_runs_stats_prints_each_layer_per_report(capsys):
    import json

    from kpgui.cli import main
    from kpgui.core.storage.store import Store

    with Store.open_default() as store:
        run_id = store.add_run(_result(_stats_history().to_dict()))
        bare = store.add_run(_result(None))
    assert main(["runs", "--stats", str(run_id)]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = lines[lines.index(next(t for t in lines if t.lstrip().startswith("epoch"))) :]
    assert table[0].split()[:3] == ["epoch", "batch", "layer"] and len(table) == 1 + 4
    assert table[3].split()[:2] == ["1.00", "20"] and "dense 1 (64 relu)" in table[3]
    assert "0.05" in table[3] and "0.002" in table[3] and table[3].endswith("75.0 %")
    assert table[4].endswith("-")  # the output layer has no ReLU to die
    assert main(["runs", "--stats", str(run_id), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dead"][0] == [0.0, 0.75]
    assert main(["runs", "--stats", str(bare)]) == 2
    err = capsys.readouterr().err
    assert "no layer statistics" in err and err.count("\n") == 1


@pytest.mark.slow
def test_the_dying_relu_preset_kills_units_and_the_healthy_run_keeps_them(mnist):
    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.training.sweep import DYING_RELUS, PRESETS, Sweep
    from kpgui.core.training.trainer import Trainer

    option, values, settings = PRESETS[DYING_RELUS]
    sweep = Sweep(option, values, ModelSpec().replace(**settings))
    x, y, xt, yt = mnist
    dead = []
    for spec in sweep.specs():  # lr 0.01, then lr 0.5
        result = Trainer(
            spec.replace(epochs=1, train_samples=3000), data=(x[:3000], y[:3000], xt[:500], yt[:500])
        ).run()
        history = LayerHistory.from_dict(result.layer_stats)
        dead.append([per for per in history.values["dead"][:2]])
    healthy, dying = dead
    assert all(d[0] < 0.05 for d in healthy + dying), [d[0] for d in healthy + dying]  # both start alive
    assert max(max(d) for d in healthy) < 0.2
    assert max(d[-1] for d in dying) > 0.8 and min(d[-1] for d in dying) > 0.4
