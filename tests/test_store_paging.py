"""The store's reads for big lists (issue 25, item 7): sample ids and labels without decoding
pictures, a page of pictures, only the runs asked for, and imports in small transactions."""

from __future__ import annotations

import threading
import time

import numpy as np

from kpgui.core.storage import store as store_module
from kpgui.core.storage.samplefiles import SampleBundle, write_samples_file
from kpgui.core.storage.store import Store


def _add(store, labels, seed=0):
    rng = np.random.default_rng(seed)
    images = []
    for label in labels:
        img = (rng.random((28, 28)) > 0.8).astype(np.float32)
        store.add_sample(int(label), [rng.uniform(0, 300, (5, 2))], 18.0, (400, 400), img)
        images.append(img)
    return images


def test_index_and_pictures_agree_with_the_full_listing(tmp_path):
    with Store(tmp_path / "s.sqlite3") as store:
        _add(store, [3, 1, 3, 0, 9, 1, 1])
        ids, labels, skipped = store.sample_index()
        full = sorted(store.list_samples(), key=lambda s: (s.label, s.id))
        assert ids.tolist() == [s.id for s in full] and labels.tolist() == [s.label for s in full]
        assert skipped == 0
        pictures = store.sample_pictures([int(ids[0]), int(ids[-1]), 999])
        assert set(pictures) == {int(ids[0]), int(ids[-1])}  # unknown ids are left out
        for sid in pictures:
            picture, created = pictures[sid]
            assert np.array_equal(picture, np.round(store.get_sample(sid).image * 255))
            assert created == store.get_sample(sid).created_at
        assert store.count_samples(1) == 3 and store.count_samples(5) == 0


def test_only_new_runs_are_read_and_names_are_listed(tmp_path):
    from kpgui.core.model.run import RunRecord
    from kpgui.core.model.spec import ModelSpec

    result = RunRecord(spec=ModelSpec(), history={"loss": [1.0]}, test_accuracy=0.9)
    with Store(tmp_path / "s.sqlite3") as store:
        ids = [store.add_run(result) for _ in range(3)]
        store.rename_run(ids[1], "mine")
        assert [r.id for r in store.list_runs([ids[0], ids[2], 12345])] == [ids[2], ids[0]]
        assert store.run_names() == {ids[0]: None, ids[1]: "mine", ids[2]: None}


def test_an_import_lets_a_digit_in_between_its_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "IMPORT_CHUNK", 50)
    n = 1000
    rng = np.random.default_rng(1)
    path = tmp_path / "many.npz"
    write_samples_file(
        path,
        SampleBundle(
            images=(rng.random((n, 28, 28)) > 0.8).astype(np.uint8) * 255,
            labels=rng.integers(0, 10, n).astype(np.uint8),
            strokes=[[rng.uniform(0, 300, (4, 2)).astype(np.float32)] for _ in range(n)],
            pen_widths=np.full(n, 18.0, np.float32),
            canvas_sizes=np.full((n, 2), 400, np.int32),
            created_at=["2026-01-01T00:00:00"] * n,
        ),
    )
    with Store(tmp_path / "s.sqlite3") as store:
        done = []
        worker = threading.Thread(target=lambda: done.append(store.import_samples(path)))
        worker.start()
        while not store.sample_counts()[0] and worker.is_alive():
            time.sleep(0.001)
        _add(store, [7], seed=9)
        during = sum(store.sample_counts().values())
        worker.join()
        assert done == [n] and sum(store.sample_counts().values()) == n + 1
        assert during < n + 1  # the digit went in while the import was still going
