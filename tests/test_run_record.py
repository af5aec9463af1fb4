"""One run result (RunRecord) from the trainer's part to the History and the card, and the one
way numbers and "not sure" are worded (kpgui.core.display)."""

from __future__ import annotations

import json
import math
import sqlite3

import numpy as np
import pytest

from kpgui.core.display.numbers import MISSING, last_finite, percent
from kpgui.core.display.runnames import final_numbers
from kpgui.core.display.words import not_sure, verdict
from kpgui.core.model.cards import card_json, make_card
from kpgui.core.model.run import RunRecord
from kpgui.core.model.spec import ModelSpec
from kpgui.core.reading.confidence import Calibration, read
from kpgui.core.storage.store import Store
from kpgui.core.training.sweep import best_index, final_loss


def _run(**changes) -> RunRecord:
    values = dict(
        spec=ModelSpec(hidden=(32,), epochs=3),
        history={"loss": [0.9, 0.5, math.nan], "val_loss": [1.0, 0.6, math.inf], "val_accuracy": [0.8, 0.9]},
        status="stopped",
        epochs_run=2,
        wall_time=7.25,
        train_samples=900,
        samples_per_second=120.0,
        test_accuracy=0.9125,
        test_loss=0.4,
        partial_epoch={"epoch": 3, "batches": 4, "of": 10},
        calibration={"temperature": 1.5, "threshold": 0.6},
        started_at="2026-12-01T10:00:00",
        kind="finetune",
        name="mine",
        personal={"summary": "your digits: 80.0 % → 90.0 %"},
        model_path="/x/m.keras",
        log_dir="/x/logs",
        timings={"data_s": 1.0},
        tags={"sweep": "lr", "sweep_index": 1},
        backend="jax",
        device="CPU (JAX)",
        notes={"pruned_at_epoch": 2},
    )
    return RunRecord(**{**values, **changes})


def test_a_run_comes_back_from_the_history_as_it_went_in(tmp_path):
    run = _run()
    with Store(tmp_path / "db.sqlite3") as store:
        back = store.get_run(store.add_run(run))
    assert back.id is not None and back.created_at
    for name in (
        "spec", "status", "epochs_run", "wall_time", "train_samples", "samples_per_second",
        "test_accuracy", "test_loss", "partial_epoch", "calibration", "started_at", "kind", "name",
        "personal", "model_path", "log_dir", "timings", "tags", "backend", "device", "notes",
    ):  # fmt: skip
        assert getattr(back, name) == getattr(run, name), name
    assert back.history == {
        "loss": [0.9, 0.5, None],
        "val_loss": [1.0, 0.6, None],
        "val_accuracy": [0.8, 0.9],
    }
    assert back.usable and back.title == "mine"


def test_notes_written_by_older_kpgui_still_read_and_odd_ones_stay_notes(tmp_path):
    db = tmp_path / "db.sqlite3"
    with Store(db) as store:
        rid = store.add_run(RunRecord(ModelSpec(), {"loss": [1.0]}, "diverged", 0, 1.0, 10))
    con = sqlite3.connect(db)  # the notes column of a run recorded before RunRecord, and a NULL
    old = {"diverged_at": [1, 7], "log_dir": "/old/logs", "device": 3, "mine": "kept"}
    con.execute("UPDATE runs SET notes=?, epochs_run=NULL WHERE id=?", (json.dumps(old), rid))
    con.commit()
    con.close()
    with Store(db) as store:
        run = store.get_run(rid)
    assert run.diverged_at == (1, 7) and run.log_dir == "/old/logs" and run.epochs_run == 0
    assert run.device is None and run.notes == {"mine": "kept"}  # a wrong type is dropped, not shown
    assert not run.usable and run.summary.startswith("diverged at epoch 1, batch 7")


def test_the_card_is_made_from_the_run_and_is_strict_json():
    card = make_card(_run(test_loss=math.nan), finetuned_from="base.keras")
    text = card_json(card)
    data = json.loads(text, parse_constant=lambda t: pytest.fail(f"{t} in a card"))
    assert data["spec"]["hidden"] == [32] and data["test_accuracy"] == 0.9125 and data["test_loss"] is None
    assert data["history"]["loss"][2] is None and data["trained_at"] == "2026-12-01T10:00:00"
    assert (data["kind"], data["backend"], data["device"]) == ("finetune", "jax", "CPU (JAX)")
    assert data["personal"]["summary"].startswith("your digits") and data["finetuned_from"] == "base.keras"
    assert data["calibration"]["temperature"] == 1.5 and data["training_time_s"] == 7.25


def test_percent_and_the_missing_mark():
    for fraction in (0.9125, 0.5, 1.0, 0.0, np.float32(0.25)):
        assert percent(fraction) == "%.2f %%" % (float(fraction) * 100)
    assert percent(0.97251, 1) == "97.3 %" and percent(0.5, 0) == "50 %"
    for nothing in (None, math.nan, math.inf, "0.5", True):
        assert percent(nothing) == MISSING


def test_last_finite_and_the_numbers_runs_are_compared_by():
    assert last_finite([1.0, 2.0, math.nan, None]) == 2.0 and last_finite([math.inf]) is None
    assert last_finite(None) is None
    run = _run()
    assert final_numbers(run) == {
        "loss": "0.5000", "val_loss": "0.6000", "val_accuracy": "90.00 %", "test_accuracy": "91.25 %",
    }  # fmt: skip
    assert final_loss(run) == 0.6 and final_loss(_run(status="diverged")) == math.inf
    assert (
        best_index([None, _run(), _run(history={"loss": [0.1]}), _run(epochs_run=0, partial_epoch=None)]) == 2
    )


def test_one_wording_of_not_sure():
    p = np.array([0.02, 0.45, 0.02, 0.02, 0.02, 0.02, 0.02, 0.39, 0.02, 0.02])
    assert not_sure(1, 7) == "Not sure — 1 or 7?"
    assert verdict(read(p, Calibration(1.0, 0.6))) == "Not sure — 1 or 7?"
    assert verdict(read(p, Calibration(1.0, 0.4))) == "1 (45.0 % sure)"
