"""`kpgui runs` and `kpgui samples` against the shared database (a private one per test)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kpgui.cli import main
from kpgui.core.model.run import RunRecord
from kpgui.core.model.spec import ModelSpec
from kpgui.core.storage.paths import database_path
from kpgui.core.storage.store import Store, models_dir


def _add_run(store: Store, acc: float, name: str | None = None, model_path=None) -> int:
    result = RunRecord(
        spec=ModelSpec(hidden=(256, 128), optimizer="sgd", learning_rate=0.05, epochs=4),
        history={"loss": [0.5, 0.4]},
        status="finished",
        epochs_run=2,
        wall_time=42.0,
        train_samples=1000,
        samples_per_second=10.0,
        test_accuracy=acc,
        test_loss=0.2,
        model_path=model_path,
        name=name,
    )
    return store.add_run(result)


def test_runs_table_json_and_delete(capsys):
    model = models_dir() / "m.keras"
    model.write_bytes(b"x")
    with Store.open_default() as store:
        a = _add_run(store, 0.9712, name="baseline", model_path=str(model))
        b = _add_run(store, 0.9534)
    assert main(["runs"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["id", "date", "run", "status", "epochs", "test", "acc", "time", "settings"]
    assert out[1].split()[0] == str(b)  # newest first
    assert "baseline" in out[2] and "layers 256,128" in out[2] and "sgd" in out[2]
    assert "lr 0.05" in out[2] and "97.12 %" in out[2] and "42.0 s" in out[2]

    assert main(["runs", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in data] == [b, a]
    assert data[1]["spec"]["hidden"] == [256, 128] and data[1]["test_accuracy"] == 0.9712

    assert main(["runs", "--delete", str(a)]) == 0
    assert "deleted run" in capsys.readouterr().out
    assert not model.exists()
    with Store.open_default() as store:
        assert [r.id for r in store.list_runs()] == [b]

    assert main(["runs", "--delete", "999"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kpgui runs:") and "no run with id 999" in err and err.count("\n") == 1


def test_runs_empty(capsys):
    assert main(["runs"]) == 0
    assert "no runs yet" in capsys.readouterr().out


def test_samples_counts_export_import(tmp_path, capsys):
    with Store.open_default() as store:
        for i, label in enumerate((0, 3, 3, 9)):
            store.add_sample(
                label,
                [np.array([[1.0, 2.0], [3.0, 4.0]])],
                2.0,
                (50, 50),
                np.random.default_rng(i).random((28, 28)),
            )
    assert main(["samples"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["count", "1", "0", "0", "2", "0", "0", "0", "0", "0", "1", "4"]

    path = tmp_path / "mine.npz"
    assert main(["samples", "export", str(path)]) == 0
    assert "exported 4" in capsys.readouterr().out
    assert main(["samples", "import", str(path)]) == 0
    assert "imported 0" in capsys.readouterr().out  # all already present

    database_path().unlink()  # a new computer: empty database
    for side in ("-wal", "-shm"):
        database_path().with_name(database_path().name + side).unlink(missing_ok=True)
    assert main(["samples", "import", str(path)]) == 0
    assert "imported 4" in capsys.readouterr().out
    with Store.open_default() as store:
        assert store.sample_counts()[3] == 2


def test_samples_bad_file_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "x.npz"
    np.savez(bad, images=np.zeros((2, 28, 28), np.uint8))
    assert main(["samples", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err == "kpgui samples: not a kpgui samples file: missing 'labels'\n"
    assert main(["samples", "import", str(tmp_path / "missing.npz")]) == 2
    assert "no file" in capsys.readouterr().err
    with Store.open_default() as store:
        assert sum(store.sample_counts().values()) == 0


def test_samples_misuse_prints_usage(capsys):
    with pytest.raises(SystemExit) as info:
        main(["samples", "frobnicate"])
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["runs"], ["samples"]])
def test_corrupt_database_is_one_clear_line(argv, capsys):
    database_path().write_bytes(b"garbage " * 1000)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(database_path()) in err and "damaged" in err and "Move it aside" in err
