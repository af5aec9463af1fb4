"""Real training runs on MNIST slices: accuracy, callbacks, stop, early stopping, saving."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from kpgui.core.model.inference import Predictor
from kpgui.core.model.network import build_model
from kpgui.core.model.spec import ModelSpec
from kpgui.core.storage.saving import save_model
from kpgui.core.training.progress import Listener
from kpgui.core.training.trainer import EARLY_STOPPED, FINISHED, STOPPED, Trainer


class Recorder(Listener):
    def __init__(self):
        self.batches, self.epochs, self.start = [], [], None
        self.first_batch = threading.Event()

    def on_train_begin(self, s):
        self.start = s

    def on_batch(self, u):
        self.batches.append(u)
        self.first_batch.set()

    def on_epoch(self, u):
        self.epochs.append(u)


@pytest.mark.slow  # needs TensorFlow: its import alone takes seconds
def test_default_spec_is_the_classic_network():
    import keras

    model = build_model()
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [512, 512, 10]
    assert [d.activation.__name__ for d in dense] == ["relu", "relu", "softmax"]
    assert model.input_shape == (None, 784)
    assert isinstance(model.loss, keras.losses.CategoricalCrossentropy)
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)


def test_spec_validation_names_the_field():
    errs = ModelSpec(
        hidden=(0,),
        dropout=1.5,
        optimizer="lbfgs",
        epochs=0,
        learning_rate=-1,
        patience=2,
        validation_split=0.0,
    ).errors()
    assert set(errs) == {"hidden", "dropout", "optimizer", "epochs", "learning_rate", "patience"}
    with pytest.raises(ValueError, match="dropout"):
        ModelSpec(dropout=2).validate()
    spec = ModelSpec(hidden=(64, 32), augment=True, seed=4)
    assert ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


@pytest.mark.slow
def test_short_run_learns_mnist_and_reports_every_batch(mnist):
    x, y, xt, yt = mnist
    rec = Recorder()
    spec = ModelSpec(epochs=2, batch_size=32, validation_split=0.1, seed=0)
    result = Trainer(spec, rec, data=(x[:6000], y[:6000], xt[:1000], yt[:1000])).run()
    assert result.status == FINISHED and result.epochs_run == 2
    assert result.test_accuracy >= 0.90
    assert rec.start.train_samples == 5400 and rec.start.val_samples == 600
    assert len(rec.batches) == 2 * rec.start.steps_per_epoch == 2 * 169
    assert rec.batches[-1].progress == pytest.approx(1.0)
    assert rec.batches[-1].samples_seen == 2 * 5400
    assert all(np.isfinite(b.loss) for b in rec.batches), [b.loss for b in rec.batches]
    # per-batch losses are the batches' own (noisy), not the running mean
    assert np.mean([b.loss for b in rec.batches[-10:]]) < rec.batches[-1].mean_loss
    assert [e.epoch for e in rec.epochs] == [1, 2]
    assert rec.epochs[-1].val_accuracy > 0.88
    assert result.history["val_loss"] == [pytest.approx(e.val_loss) for e in rec.epochs]


@pytest.mark.slow
def test_augmented_run_trains_too(mnist):
    x, y, xt, yt = mnist
    spec = ModelSpec(hidden=(128,), epochs=2, batch_size=32, augment=True, validation_split=0.0, seed=0)
    result = Trainer(spec, data=(x[:6000], y[:6000], xt[:1000], yt[:1000])).run()
    assert result.test_accuracy >= 0.85


@pytest.mark.slow
def test_stop_from_another_thread_ends_after_the_current_batch(mnist):
    x, y, xt, yt = mnist
    rec = Recorder()
    trainer = Trainer(ModelSpec(hidden=(64,), epochs=5), rec, data=(x[:20000], y[:20000], xt[:500], yt[:500]))
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("r", trainer.run()))
    worker.start()
    assert rec.first_batch.wait(60)
    trainer.stop()
    worker.join(60)
    assert not worker.is_alive()
    result = box["r"]
    assert result.status == STOPPED
    assert len(rec.batches) < 5 * rec.start.steps_per_epoch / 2
    assert result.test_accuracy is not None  # a stopped run is still evaluated
    # The record tells the truth: finished epochs only, the partial one marked as partial.
    finished = len(rec.epochs)
    assert result.epochs_run == finished
    assert all(len(v) == finished for v in result.history.values()), {
        k: len(v) for k, v in result.history.items()
    }
    part = result.partial_epoch
    assert part is not None and part["epoch"] == finished + 1
    assert 0 < part["batches"] < part["of"] == rec.start.steps_per_epoch
    assert "batches of epoch" in result.summary


@pytest.mark.slow
def test_a_diverging_run_stops_at_once_and_says_where(mnist):
    from kpgui.core.training.trainer import DIVERGED

    x, y, xt, yt = mnist
    spec = ModelSpec(
        hidden=(64, 64),
        optimizer="sgd",
        learning_rate=10.0,
        activation="elu",
        epochs=3,
        validation_split=0.1,
        seed=0,
    )  # seeded: see test_cli's twin
    rec = Recorder()
    result = Trainer(spec, rec, data=(x[:6000], y[:6000], xt[:500], yt[:500])).run()
    assert result.status == DIVERGED and not result.usable
    epoch, batch = result.diverged_at
    assert epoch == 1 and batch >= 1
    assert len(rec.batches) == batch  # TerminateOnNaN ended it at that batch
    assert result.epochs_run == 0 and result.history.get("loss", []) == []
    assert result.test_accuracy is None and result.calibration is None
    assert "lower learning rate" in result.summary


@pytest.mark.slow
def test_a_run_with_a_validation_set_is_calibrated(mnist):
    x, y, xt, yt = mnist
    spec = ModelSpec(hidden=(64,), epochs=1, validation_split=0.1)
    result = Trainer(spec, data=(x[:6000], y[:6000], xt[:2000], yt[:2000])).run()
    cal = result.calibration
    assert cal["fitted_on"] == 600 and 0.05 <= cal["temperature"] <= 20
    assert cal["ece_after"] <= cal["ece_before"] + 1e-9
    assert 0.35 <= cal["threshold"] <= 0.9


@pytest.mark.slow
def test_early_stopping_restores_the_best_weights(mnist):
    import keras

    x, y, xt, yt = mnist
    spec = ModelSpec(
        hidden=(256, 256), epochs=60, validation_split=0.5, patience=2, train_samples=400, seed=2
    )
    trainer = Trainer(spec, data=(x, y, xt[:500], yt[:500]))
    result = trainer.run()
    assert result.status == EARLY_STOPPED and result.epochs_run < 60
    val_x = x[200:400].reshape(-1, 784).astype(np.float32) / 255.0
    loss = trainer.model.evaluate(val_x, keras.utils.to_categorical(y[200:400], 10), verbose=0)[0]
    assert loss == pytest.approx(min(result.history["val_loss"]), rel=1e-3)


@pytest.mark.slow
def test_save_writes_model_and_card_atomically(tmp_path, mnist):
    x, y, xt, yt = mnist
    spec = ModelSpec(hidden=(32,), epochs=1, validation_split=0.0)
    trainer = Trainer(spec, data=(x[:3000], y[:3000], xt[:500], yt[:500]))
    result = trainer.run()
    path = save_model(trainer.model, tmp_path / "m.keras", result)
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["test_accuracy"] == pytest.approx(result.test_accuracy)
    assert card["spec"]["hidden"] == [32] and card["epochs_run"] == 1
    assert {"kpgui", "keras", "tensorflow", "numpy"} <= set(card["versions"])
    assert Predictor.load(path).card["test_accuracy"] == card["test_accuracy"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left

    before = path.read_bytes()

    class Exploding:
        def save(self, tmp):
            with open(tmp, "wb") as f:
                f.write(b"half a model")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        save_model(Exploding(), path, result)
    assert path.read_bytes() == before  # the previous model survived
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_missing_dataset_is_reported_before_training(tmp_path):
    from kpgui.core.data.mnist import DatasetError

    with pytest.raises(DatasetError, match="not found"):
        Trainer(ModelSpec(epochs=1), data_path=str(tmp_path / "missing.npz")).run()


@pytest.mark.slow
def test_logs_hold_one_point_per_epoch_and_validation_is_keras_own_number(tmp_path, mnist):
    """TensorBoard and CSV logs get each epoch's numbers (the per-batch TensorBoard work Keras
    does and throws away is skipped: kpgui.core.training.callbacks.make_tensorboard); validation, run as
    one batch, gives what Keras' evaluate gives in its default batches."""
    import csv

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    x, y, xt, yt = mnist
    spec = ModelSpec(hidden=(32,), epochs=2, batch_size=64, validation_split=0.2, train_samples=1000, seed=1)
    trainer = Trainer(spec, data=(x, y, xt[:0], yt[:0]), log_dir=tmp_path, evaluate=False)
    result = trainer.run()
    assert result.status == FINISHED
    with open(tmp_path / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["loss"]) for r in rows] == pytest.approx(result.history["loss"], rel=1e-5)
    for run, key in (("train", "loss"), ("validation", "val_loss")):
        events = EventAccumulator(str(tmp_path / "tensorboard" / run)).Reload()
        tags = events.Tags()["tensors"]
        assert not [t for t in tags if t.startswith("batch_")]
        points = events.Tensors("epoch_loss")
        assert [p.step for p in points] == [0, 1]
        values = [float(_tensor(p)) for p in points]
        assert values == pytest.approx(result.history[key], rel=1e-5)
    val_x = x[800:1000].reshape(-1, 784).astype(np.float32) / 255.0
    loss = trainer.model.evaluate(val_x, np.eye(10, dtype=np.float32)[y[800:1000]], batch_size=32, verbose=0)[
        0
    ]
    assert loss == pytest.approx(result.history["val_loss"][-1], rel=1e-4)


def _tensor(event) -> np.ndarray:
    from tensorboard.util.tensor_util import make_ndarray

    return make_ndarray(event.tensor_proto)
