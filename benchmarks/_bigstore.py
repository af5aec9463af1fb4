"""A big kpgui database made fast: `make_big_store(path, samples, runs)` writes N samples and
M runs straight into the store's tables with executemany (seconds for 100,000 samples), the
same rows Store.add_sample / add_run write, for the freeze benchmark and the slow-lane tests."""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from pathlib import Path

import numpy as np


def make_big_store(path: str | Path, samples: int = 100_000, runs: int = 3_000, seed: int = 0) -> Path:
    """Create (or extend) the kpgui database at `path` with `samples` samples (random digits,
    each unique) and `runs` finished runs with 10 epochs of history each."""
    from kpgui.core.storage.samplefiles import pack_strokes
    from kpgui.core.storage.store import Store, _digest

    path = Path(path)
    Store(path).close()  # the schema, exactly as kpgui makes it
    rng = np.random.default_rng(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    stamp = _dt.datetime(2026, 1, 1)
    chunk = 5000
    for start in range(0, samples, chunk):
        rows = []
        for i in range(start, min(samples, start + chunk)):
            label = int(rng.integers(10))
            pts = rng.uniform(0, 400, (24, 2)).astype(np.float32)
            points, lengths = pack_strokes([pts[:12], pts[12:]])
            img = np.zeros((28, 28), np.uint8)
            ys, xs = rng.integers(4, 24, 40), rng.integers(4, 24, 40)
            img[ys, xs] = 255
            img[0, 0] = i % 251  # every picture its own
            img[0, 1] = (i // 251) % 251
            created = (stamp + _dt.timedelta(seconds=i)).isoformat(timespec="seconds")
            rows.append(
                (
                    label,
                    points,
                    lengths,
                    18.0,
                    420,
                    420,
                    img.tobytes(),
                    _digest(label, img, points, lengths),
                    created,
                )
            )
        conn.executemany(
            "INSERT INTO samples (label, points, stroke_lengths, pen_width, canvas_w, canvas_h, "
            "image, digest, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )
    run_rows = []
    for i in range(runs):
        lr = float(10 ** rng.uniform(-4, -1))
        spec = {"hidden": [int(rng.choice([32, 64, 128, 512]))], "learning_rate": lr, "epochs": 10}
        curve = np.linspace(1.0, 0.1 + 0.1 * rng.random(), 10).round(4).tolist()
        acc = [round(1 - v / 2, 4) for v in curve]
        history = {"loss": curve, "accuracy": acc, "val_loss": curve, "val_accuracy": acc}
        created = (stamp + _dt.timedelta(minutes=i)).isoformat(timespec="seconds")
        run_rows.append(
            (
                None,
                "train",
                created,
                created,
                json.dumps(spec),
                json.dumps(history),
                acc[-1],
                curve[-1],
                30.0 + i % 50,
                10,
                "finished",
                54000,
                None,
                json.dumps({"log_dir": f"/tmp/runs/{i}"}),
            )
        )
    conn.executemany(
        "INSERT INTO runs (name, kind, created_at, started_at, spec, history, test_accuracy, "
        "test_loss, wall_time, epochs_run, status, train_samples, model_path, notes) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        run_rows,
    )
    conn.execute("COMMIT")
    conn.close()
    return path
