"""The SQLite store: runs and samples persist, bad files are refused clearly, nothing is lost."""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kpgui.core.model.run import RunRecord
from kpgui.core.model.spec import ModelSpec
from kpgui.core.storage.samplefiles import SampleFileError
from kpgui.core.storage.store import Store, StoreError, models_dir


def _result(acc: float = 0.91, hidden=(64, 32)) -> RunRecord:
    return RunRecord(
        spec=ModelSpec(hidden=hidden, epochs=3, optimizer="adam", learning_rate=0.002),
        history={"loss": [0.9, 0.5, 0.3], "accuracy": [0.7, 0.85, acc]},
        status="finished",
        epochs_run=3,
        wall_time=12.5,
        train_samples=5400,
        samples_per_second=1300.0,
        test_accuracy=acc,
        test_loss=0.31,
        started_at="2026-11-22T10:00:00",
    )


def _strokes(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    return [rng.uniform(0, 300, (int(rng.integers(1, 30)), 2)) for _ in range(n)]


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((28, 28)).astype(np.float32)


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "kpgui.sqlite3"


def test_runs_persist_across_reopen_newest_first(db):
    with Store(db) as store:
        first = store.add_run(dataclasses.replace(_result(0.9), model_path="/x/a.keras", name="first"))
        second = store.add_run(
            dataclasses.replace(_result(0.95, hidden=(128,)), kind="finetune", notes={"n": 3})
        )
    with Store(db) as store:
        runs = store.list_runs()
        assert [r.id for r in runs] == [second, first]
        r = store.get_run(first)
        assert r.name == "first" and r.kind == "train" and r.model_path == "/x/a.keras"
        assert r.spec == ModelSpec(hidden=(64, 32), epochs=3, optimizer="adam", learning_rate=0.002)
        assert r.history == {"loss": [0.9, 0.5, 0.3], "accuracy": [0.7, 0.85, 0.9]}
        assert (r.test_accuracy, r.test_loss, r.wall_time, r.epochs_run) == (0.9, 0.31, 12.5, 3)
        assert r.status == "finished" and r.train_samples == 5400
        assert r.started_at == "2026-11-22T10:00:00"
        r2 = store.get_run(second)
        assert r2.kind == "finetune" and r2.notes == {"n": 3} and r2.spec.hidden == (128,)
        store.rename_run(second, "mine")
        assert store.get_run(second).title == "mine"
        with pytest.raises(KeyError):
            store.get_run(999)


def test_delete_run_removes_only_files_in_models_dir(db, tmp_path):
    inside = models_dir() / "run-1.keras"
    inside.write_bytes(b"model")
    inside.with_suffix(".json").write_text("{}")
    outside = tmp_path / "mine.keras"
    outside.write_bytes(b"model")
    with Store(db) as store:
        a = store.add_run(dataclasses.replace(_result(), model_path=str(inside)))
        b = store.add_run(dataclasses.replace(_result(), model_path=str(outside)))
        store.delete_run(a)
        store.delete_run(b)
        assert store.list_runs() == []
        with pytest.raises(KeyError):
            store.delete_run(a)
    assert not inside.exists() and not inside.with_suffix(".json").exists()
    assert outside.exists(), "a model the person saved elsewhere must not be deleted"


def test_run_models_get_unique_names_and_reload(db, model_copy_path):
    """What every run does (kpgui.core.training.jobs): a fresh name in the models folder, the model and
    its card written there, the run recorded pointing at it."""
    from kpgui.core.model.inference import Predictor
    from kpgui.core.storage.saving import copy_model, new_model_path

    result = _result()
    first = new_model_path(models_dir(), result.started_at, result.spec.hidden)
    copy_model(model_copy_path, first, internal=True)  # kpgui writing its own folder
    second = new_model_path(models_dir(), result.started_at, result.spec.hidden)
    assert first != second and first.parent == models_dir()  # nothing overwritten
    with Store(db) as store:
        rec = store.get_run(store.add_run(dataclasses.replace(result, model_path=str(first), name="saved")))
        assert rec.name == "saved" and Path(rec.model_path) == first
    loaded = Predictor.load(first)
    x = np.random.default_rng(0).random((3, 784)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(x), Predictor.load(model_copy_path).predict(x), atol=1e-6)


def test_samples_add_list_relabel_delete_counts(db):
    with Store(db) as store:
        ids = [store.add_sample(d % 10, _strokes(d), 2.5 + d, (320, 240), _image(d)) for d in range(13)]
        counts = store.sample_counts()
        assert sorted(counts) == list(range(10))
        assert counts[0] == 2 and counts[1] == 2 and counts[2] == 2 and counts[3] == 1
        assert sum(counts.values()) == 13
        s = store.get_sample(ids[4])
        assert s.label == 4 and s.canvas_size == (320, 240) and s.pen_width == 6.5
        assert len(s.strokes) == len(_strokes(4))
        for got, want in zip(s.strokes, _strokes(4), strict=True):
            np.testing.assert_array_equal(got, want.astype(np.float32))
        np.testing.assert_allclose(s.image, _image(4), atol=0.5 / 255 + 1e-7)
        assert store.relabel_samples([ids[4]], 7) == 1
        assert [x.id for x in store.list_samples(7)] == [ids[4], ids[7]]
        assert store.delete_samples([ids[0]]) == 1
        assert store.sample_counts()[0] == 1
        with pytest.raises(KeyError):
            store.delete_samples([ids[0]])
        images, labels, sids = store.sample_arrays()
        assert images.shape == (12, 28, 28) and images.dtype == np.float32
        assert labels.dtype == np.uint8 and sids.dtype == np.int64
        assert list(sids) == ids[1:]
        assert labels[list(sids).index(ids[4])] == 7
    with Store(db) as store:  # still there after reopening
        assert sum(store.sample_counts().values()) == 12


@pytest.mark.parametrize(
    "label, image, message",
    [
        (10, np.zeros((28, 28)), "0-9"),
        (-1, np.zeros((28, 28)), "0-9"),
        (3.0, np.zeros((28, 28)), "whole number"),
        (3, np.zeros((28, 27)), "28x28"),
        (3, np.full((28, 28), 2.0), "[0, 1]"),
        (3, np.full((28, 28), np.nan), "NaN"),
    ],
)
def test_add_sample_validates(db, label, image, message):
    with Store(db) as store:
        with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
            store.add_sample(label, [], 1.0, (100, 100), image)
        with pytest.raises(ValueError):
            store.add_sample(1, [np.zeros((3, 3))], 1.0, (100, 100), np.zeros((28, 28)))
        with pytest.raises(ValueError):
            store.relabel_samples([1], 11)
        assert store.sample_counts() == dict.fromkeys(range(10), 0)


def test_export_import_round_trip_is_exact(db, tmp_path):
    path = tmp_path / "out" / "mine.npz"
    with Store(db) as store:
        for d in range(7):
            store.add_sample(d, _strokes(d), 1.5 * d + 1, (400 + d, 300), _image(d))
        store.add_sample(9, [], 3.0, (28, 28), (_image(9) * 255).astype(np.uint8))  # no strokes
        assert store.export_samples(path) == 8
        original = store.list_samples()
    with np.load(path, allow_pickle=False) as npz:
        assert npz["images"].dtype == np.uint8 and npz["images"].shape == (8, 28, 28)
        assert npz["labels"].dtype == np.uint8 and str(npz["format"]) == "kpgui-samples/1"
    with Store(tmp_path / "fresh.sqlite3") as fresh:
        assert fresh.import_samples(path) == 8
        assert fresh.import_samples(path) == 0  # importing twice does not double them
        copied = fresh.list_samples()
    assert len(copied) == len(original)
    for a, b in zip(original, copied, strict=True):
        assert (a.label, a.pen_width, a.canvas_size, a.created_at) == (
            b.label,
            b.pen_width,
            b.canvas_size,
            b.created_at,
        )
        np.testing.assert_array_equal(a.image, b.image)
        assert len(a.strokes) == len(b.strokes)
        for sa, sb in zip(a.strokes, b.strokes, strict=True):
            np.testing.assert_array_equal(sa, sb)


def _write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def _good_arrays(n=3):
    return dict(
        format=np.array("kpgui-samples/1"),
        images=np.zeros((n, 28, 28), np.uint8),
        labels=np.arange(n, dtype=np.uint8),
        pen_widths=np.ones(n, np.float32),
        canvas_sizes=np.full((n, 2), 100, np.int32),
        stroke_counts=np.ones(n, np.int32),
        stroke_lengths=np.full(n, 2, np.int32),
        points=np.zeros((2 * n, 2), np.float32),
    )


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda a: a.pop("labels"), "missing 'labels'"),
        (lambda a: a.pop("format"), "no 'format' marker"),
        (lambda a: a.update(format=np.array("something-else/1")), "format is"),
        (lambda a: a.update(labels=np.array([0, 1, 12], np.uint8)), "labels outside 0-9"),
        (lambda a: a.update(images=np.zeros((3, 28, 20), np.uint8)), "images must be 28x28"),
        (lambda a: a.update(labels=np.array([0, 1], np.uint8)), "one per image"),
        (lambda a: a.update(stroke_lengths=np.array([2, 2, 3], np.int32)), "points must be"),
        (lambda a: a.update(points=np.full((6, 2), np.inf, np.float32)), "infinite"),
        (lambda a: a.update(format=np.array("kpgui-samples/9")), "newer kpgui"),
    ],
)
def test_bad_files_are_refused_with_reason_and_add_nothing(db, tmp_path, change, reason):
    arrays = _good_arrays()
    change(arrays)
    path = _write_npz(tmp_path / "bad.npz", **arrays)
    with Store(db) as store:
        store.add_sample(5, [], 1.0, (10, 10), np.zeros((28, 28)))
        with pytest.raises(SampleFileError, match=reason):
            store.import_samples(path)
        assert sum(store.sample_counts().values()) == 1


def test_good_handmade_file_imports(db, tmp_path):
    path = _write_npz(tmp_path / "good.npz", **_good_arrays())
    with Store(db) as store:
        assert store.import_samples(path) == 3
        assert store.sample_counts()[2] == 1


def test_non_npz_and_pickled_files_are_refused(db, tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    pickled = tmp_path / "objects.npz"
    arrays = _good_arrays()
    arrays["labels"] = np.array([0, 1, 2], dtype=object)
    np.savez(pickled, **arrays)
    with Store(db) as store:
        with pytest.raises(SampleFileError, match="not an .npz file"):
            store.import_samples(text)
        with pytest.raises(SampleFileError, match="Python objects"):
            store.import_samples(pickled)
        with pytest.raises(SampleFileError, match="no file"):
            store.import_samples(tmp_path / "missing.npz")
        assert sum(store.sample_counts().values()) == 0


def test_corrupt_database_is_reported_and_recover_starts_fresh(db):
    db.write_bytes(b"this is not sqlite, just some bytes that happen to be here " * 80)
    with pytest.raises(StoreError) as info:
        Store(db)
    err = info.value
    assert err.kind == StoreError.CORRUPT and str(db) in str(err) and "damaged" in str(err)
    assert "Move it aside" in str(err)
    with Store.recover(db) as store:
        assert store.recovered_from is not None and store.recovered_from.exists()
        assert store.recovered_from.name.startswith("kpgui.sqlite3.corrupt-")
        assert store.recovered_from.read_bytes().startswith(b"this is not sqlite")
        store.add_sample(1, [], 1.0, (10, 10), np.zeros((28, 28)))
    with Store(db) as store:
        assert store.sample_counts()[1] == 1


def test_damaged_pages_are_detected_on_open(db):
    with Store(db) as store:
        for i in range(200):
            store.add_sample(i % 10, _strokes(i), 2.0, (100, 100), _image(i))
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(db.read_bytes())
    assert len(data) > 40000
    data[8192:28192] = np.random.default_rng(0).integers(0, 256, 20000, np.uint8).tobytes()
    db.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="damaged") as info:
        Store(db)
    assert info.value.kind == StoreError.CORRUPT and "\n" not in str(info.value)


def test_newer_schema_is_refused(db):
    Store(db).close()
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version=99")
    con.close()
    with pytest.raises(StoreError, match="newer kpgui") as info:
        Store(db)
    assert info.value.kind == StoreError.NEWER


def test_locked_database_fails_with_clear_message(db):
    Store(db).close()
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        store = Store(db, timeout=0.2)  # gives up after its busy timeout instead of waiting on
        with pytest.raises(StoreError, match="locked by another program") as info:
            store.add_sample(1, [], 1.0, (10, 10), np.zeros((28, 28)))
        assert info.value.kind == StoreError.LOCKED, info.value.kind
        store.close()
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_commits_are_visible_to_another_connection_immediately(db):
    store = Store(db)
    sid = store.add_sample(8, _strokes(1), 2.0, (10, 10), np.zeros((28, 28)))
    rid = store.add_run(_result())
    # A plain second connection (as another process would see it), while `store` stays open.
    other = sqlite3.connect(db)
    assert other.execute("SELECT label FROM samples WHERE id=?", (sid,)).fetchone() == (8,)
    assert other.execute("SELECT COUNT(*) FROM runs WHERE id=?", (rid,)).fetchone() == (1,)
    other.close()
    store.close()


def test_nothing_lost_when_the_process_is_killed(db):
    code = (
        "import os, numpy as np\n"
        "from kpgui.core.storage.store import Store\n"
        f"s = Store({str(db)!r})\n"
        "s.add_sample(6, [np.zeros((2, 2))], 1.0, (9, 9), np.zeros((28, 28)))\n"
        "os._exit(0)  # no close(), no cleanup: like being killed\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    with Store(db) as store:
        assert store.sample_counts()[6] == 1
