"""kpgui search: ranges, the study in Optuna's storage, workers on one machine and several."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from kpgui.cli import main  # noqa: E402
from kpgui.core.training.search import (  # noqa: E402
    Range,
    SearchError,
    SearchSpace,
    StudyConfig,
    best_trial,
    claim_cores,
    create_study,
    load_study,
    open_storage,
    parse_range,
    trial_row,
    worker_cores,
)

TINY = ["--train-samples", "1000", "--epochs", "1", "--validation-split", "0.2"]


# -- ranges (fast) ------------------------------------------------------------------------------


def test_ranges_read_as_written():
    assert parse_range("learning_rate", "1e-4..1e-1:log") == Range("learning_rate", 1e-4, 0.1, True)
    assert parse_range("epochs", "2..10") == Range("epochs", 2, 10)
    assert parse_range("dropout", "0..0.5") == Range("dropout", 0.0, 0.5)
    assert parse_range("optimizer", "adam/sgd").choices == ("adam", "sgd")
    assert parse_range("batch_size", "32/64/128").choices == (32, 64, 128)
    # hidden: each '/' choice is a whole list of layers, as in a sweep
    assert parse_range("hidden", "128/256/512,512").choices == ((128,), (256,), (512, 512))
    assert parse_range("dropout", "0.25") == 0.25  # a plain value is fixed


@pytest.mark.parametrize(
    "option, text, fragment",
    [
        ("learning_rate", "0.1..0.001", "--lr 0.1..0.001: the range's low end must be below"),
        ("learning_rate", "0..0.1:log", "--lr 0..0.1:log: learning rate must be above 0"),
        ("learning_rate", "1e-4..1e-1:lin", "only 'log'"),
        ("dropout", "0..1.5", "--dropout 0..1.5: dropout must be"),
        ("optimizer", "adam..sgd", "--optimizer adam..sgd: optimizer takes choices separated by '/'"),
        ("optimizer", "adam/nadam", "--optimizer adam/nadam: optimizer must be one of"),
        ("hidden", "32..64", "--hidden 32..64: hidden layers takes choices"),
        ("batch_size", "32/32", "--batch-size 32/32: the choices repeat"),
        ("epochs", "2..x", "--epochs 2..x: must be a whole number"),
        ("epochs", "..5", "--epochs ..5: a range needs both ends"),
    ],
)
def test_a_bad_range_is_one_error_naming_the_option(option, text, fragment):
    with pytest.raises(ValueError) as err:
        parse_range(option, text)
    assert fragment in str(err.value)


def test_a_space_turns_a_trials_values_into_the_spec_it_trains():
    space = SearchSpace.parse(
        {"learning_rate": "1e-4..1e-1:log", "hidden": "32/64,64", "optimizer": "adam/sgd", "epochs": "3"}
    )
    assert space.base.epochs == 3
    trial = optuna.trial.FixedTrial({"learning_rate": 0.02, "hidden": "64,64", "optimizer": "sgd"})
    spec = space.suggest(trial)
    assert (spec.learning_rate, spec.hidden, spec.optimizer, spec.epochs) == (0.02, (64, 64), "sgd", 3)
    assert SearchSpace.from_dict(json.loads(json.dumps(space.to_dict()))) == space
    assert space.size() is None  # a learning-rate range has no grid
    grid = SearchSpace.parse({"hidden": "32/64,64", "optimizer": "adam/sgd/rmsprop"})
    assert grid.size() == 6


def test_a_space_needs_a_range_and_a_validation_split():
    with pytest.raises(ValueError, match="at least one range"):
        SearchSpace.parse({"epochs": "3"})
    with pytest.raises(ValueError, match="--validation-split must be above 0"):
        SearchSpace.parse({"learning_rate": "1e-3..1e-2", "validation_split": "0"})


def test_a_study_keeps_its_ranges_so_a_joining_machine_needs_only_its_name(tmp_path):
    storage = str(tmp_path / "s.journal")
    config = StudyConfig(SearchSpace.parse({"optimizer": "adam/sgd"}), "val_accuracy", "grid", 4)
    study = create_study(storage, "s1", config)
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    joined, got = load_study(storage, "s1")
    assert got == config and isinstance(joined.sampler, optuna.samplers.GridSampler)
    assert create_study(storage, "s1", config).study_name == "s1"  # the same search resumes
    other = StudyConfig(SearchSpace.parse({"optimizer": "adam/rmsprop"}), "val_loss", "tpe", 4)
    with pytest.raises(SearchError, match="already searches other ranges"):
        create_study(storage, "s1", other)
    with pytest.raises(SearchError, match="no study named 'nope'"):
        load_study(storage, "nope")


@pytest.mark.parametrize(
    "storage, fragment",
    [
        ("sqlite:////nonexistent/dir/x.db", "cannot reach the study storage sqlite:////nonexistent/dir/x.db"),
        ("/nonexistent/dir/x.journal", "the folder /nonexistent/dir does not exist"),
    ],
)
def test_an_unreachable_storage_is_one_line(storage, fragment):
    with pytest.raises(SearchError) as err:
        open_storage(storage)
    assert fragment in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--lr", "0.1..0.001"], "--lr 0.1..0.001: the range's low end must be below its high end"),
        (
            ["--optimizer", "adam/sgd", "--storage", "sqlite:////nonexistent/dir/x.db"],
            "cannot reach the study storage",
        ),
        (["--optimizer", "adam/sgd", "--storage", "/proc/kpgui.journal"], "cannot write the study storage"),
        (["--lr", "1e-3..1e-2", "--sampler", "grid"], "a grid needs a list of values"),
        (["--join", "--lr", "1e-3..1e-2", "--study", "x"], "--join takes the ranges from the study"),
        (["--join"], "--join needs the study's --study NAME"),
        (["--epochs", "2"], "give at least one range"),
    ],
)
def test_cli_mistakes_give_one_clear_line_and_nonzero_exit(args, fragment, capfd):
    code = main(["search", *args])
    err = capfd.readouterr().err
    assert code == 2
    assert err.startswith("kpgui search: ") and fragment in err and err.count("\n") == 1, err


def test_the_live_table_shows_each_trial_its_state_and_the_best():
    from rich.console import Console

    from kpgui.cli.search import _table

    config = StudyConfig(SearchSpace.parse({"learning_rate": "1e-3..1e-1:log", "hidden": "32/64,64"}))
    rows = [
        {
            "trial": 0,
            "state": "finished",
            "epoch": 3,
            "metric": 0.2,
            "value": 0.2,
            "params": {"learning_rate": 0.0123, "hidden": "64,64"},
        },
        {
            "trial": 1,
            "state": "pruned",
            "epoch": 1,
            "metric": 0.9,
            "value": None,
            "params": {"learning_rate": 0.09, "hidden": "32"},
        },
    ]
    console = Console(width=100, record=True)
    console.print(_table(rows, config, "s1", rows[0]))
    text = console.export_text()
    assert "objective: lowest validation loss" in text and "best: trial 0 (val_loss 0.2000)" in text
    assert "finished *" in text and "lr 0.0123 · layers 64,64" in text
    assert "pruned" in text and "0.9000" in text and "lr 0.09 · layers 32" in text


@pytest.mark.slow
def test_a_trial_behind_is_pruned_after_its_epoch_and_recorded_once_as_such():
    from kpgui.core.storage.store import Store
    from kpgui.core.training.search import run_trial

    config = StudyConfig(
        SearchSpace.parse(
            {"hidden": "8/16", "epochs": "3", "train_samples": "500", "validation_split": "0.2"}
        )
    )
    # ThresholdPruner: any val_loss above 0 is "behind", so the trial stops after its first epoch
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=0.0))
    study.optimize(lambda t: run_trial(t, config, "p"), n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    with Store.open_default() as store:
        (run,) = store.list_runs()
    assert run.tags == {"study": "p", "trial": 0, "pruned_at_epoch": 1}
    assert run.epochs_run == 1 and run.id == trial.user_attrs["run_id"]
    assert trial.intermediate_values == {1: pytest.approx(run.history["val_loss"][0])}


@pytest.mark.slow
def test_a_diverged_trial_ends_complete_with_the_worst_value_and_a_crash_stays_failed():
    from kpgui.core.storage.store import Store
    from kpgui.core.training.search import run_trial

    config = StudyConfig(
        SearchSpace.parse(
            {
                "learning_rate": "5..10:log",  # RMSprop at these rates diverges in the first epoch
                "optimizer": "rmsprop",
                "hidden": "16",
                "epochs": "1",
                "train_samples": "1000",
                "validation_split": "0.2",
            }
        )
    )
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(n_startup_trials=1))
    study.optimize(lambda t: run_trial(t, config, "d"), n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.COMPLETE and trial.value == math.inf
    assert trial.user_attrs["diverged"] is True and trial.user_attrs["status"] == "diverged"
    with Store.open_default() as store:
        (run,) = store.list_runs()
    assert run.status == "diverged" and run.id == trial.user_attrs["run_id"]
    assert trial_row(trial)["state"] == "diverged" and best_trial(study) is None
    # a crash is not a divergence: it stays failed (and its budget is tried again)
    broken = StudyConfig(SearchSpace.parse({"hidden": "8/16", "validation_split": "0.2"}))
    study.optimize(
        lambda t: run_trial(t, broken, "d", data_path="/nonexistent/mnist.npz"),
        n_trials=1,
        catch=(Exception,),
    )
    assert (
        study.trials[1].state == optuna.trial.TrialState.FAIL
        and trial_row(study.trials[1])["state"] == "failed"
    )


def test_each_worker_gets_its_own_cores_when_their_threads_fit(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert worker_cores(2, 1) == [[0], [1]]  # 2 workers x 1 thread on 2 cores: one core each
    assert worker_cores(1, 2) == [None]  # one worker has the machine: not pinned
    assert worker_cores(3, 1) == [None, None, None]  # more threads than cores: left to the system
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5, 7}, raising=False)
    assert worker_cores(2, 2) == [[0, 2], [5, 7]]


def test_a_second_search_on_the_machine_does_not_pin_its_workers_to_cores_already_taken(tmp_path):
    first, first_locks = claim_cores([[0], [1]], tmp_path)  # search A's worker 0: its own core
    second, second_locks = claim_cores([[0], [1]], tmp_path)  # search B's worker 0: core 0 is A's
    assert first == [0] and second == [1]
    assert claim_cores([[1], [0]], tmp_path) == (None, [])  # every core held: run unpinned
    assert claim_cores([[0, 1]], tmp_path)[0] is None  # a slice is taken only whole
    for lock in first_locks:  # search A's worker ends (however: the kernel drops its lock)
        lock.close()
    taken, _locks = claim_cores([[1], [0]], tmp_path)
    assert taken == [0]
    assert claim_cores([], tmp_path) == (None, [])  # not pinned at all (one worker, the machine)


def _finished(number: int, value: float, **attrs) -> object:
    return optuna.trial.create_trial(
        params={"learning_rate": 0.001 * (number + 1)},
        distributions={"learning_rate": optuna.distributions.FloatDistribution(1e-4, 1.0, log=True)},
        value=value,
        user_attrs=attrs,
    )


@pytest.mark.parametrize("direction, worst, good", [("minimize", math.inf, 0.4), ("maximize", 0.0, 0.9)])
def test_a_diverged_trial_is_complete_and_worst_for_optuna_and_said_diverged_to_people(
    direction, worst, good
):
    from rich.console import Console

    from kpgui.cli.search import _table

    study = optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(n_startup_trials=2))
    study.add_trial(_finished(0, worst, diverged=True, status="diverged"))
    study.add_trial(_finished(1, good, run_id=2, model_path="m.keras"))
    diverged, finished = (trial_row(t) for t in study.trials)
    assert diverged["state"] == "diverged" and diverged["diverged"] is True and diverged["value"] is None
    assert finished["state"] == "finished" and finished["value"] == good and finished["diverged"] is False
    assert best_trial(study).number == 1
    json.dumps(diverged, allow_nan=False)  # --json stays valid JSON (no Infinity)
    # TPE learns from it: a third trial is sampled from the two complete ones without error
    study.optimize(lambda t: t.suggest_float("learning_rate", 1e-4, 1.0, log=True) and good, n_trials=1)
    objective = "val_loss" if direction == "minimize" else "val_accuracy"
    config = StudyConfig(SearchSpace.parse({"learning_rate": "1e-3..1e-1:log"}), objective)
    console = Console(width=100, record=True)
    console.print(_table([diverged, finished], config, "s", finished))
    text = console.export_text()
    assert "diverged" in text and "inf" not in text.lower()


def test_only_diverged_trials_leave_no_best():
    study = optuna.create_study()
    study.add_trial(_finished(0, math.inf, diverged=True))
    assert best_trial(study) is None  # not a model to offer or save


def test_the_command_and_the_window_default_to_the_measured_number_of_workers():
    import argparse

    from kpgui.cli.search import register
    from kpgui.core.training.search import DEFAULT_WORKERS

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    assert parser.parse_args(["search", "--lr", "1e-3..1e-1"]).workers == DEFAULT_WORKERS
    assert 1 <= DEFAULT_WORKERS <= (os.cpu_count() or 1)  # never more workers than cores


def test_the_benchmark_counts_the_training_done_by_each_trial_until_the_target():
    """bench_search's compute to target, against the sums written out by hand."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_search import compute_until, reach

    def trial(n, start, end, epochs, state="complete", value=None):
        return {"n": n, "start_s": start, "end_s": end, "epochs": epochs, "state": state, "value": value}

    trials = [
        trial(0, 0, 10, 3, value=0.90),
        trial(1, 2, 6, 1, "pruned"),
        trial(2, 8, 18, 2, value=0.97),  # running on the other worker until 18 s
        trial(3, 10, 14, 3, value=0.96),  # the first to reach 95 %, at 14 s
    ]
    # by 10 s: trials 0 and 1 whole, trial 2 for 2 of its 10 seconds
    assert compute_until(trials, 10, 100) == 300 + 100 + 40
    assert compute_until(trials, None, 100) == 300 + 100 + 200 + 300
    size = {"train_samples": 125, "validation_split": 0.2, "target": 0.95}  # 100 images an epoch
    got = reach({"trials": trials, "wall_s": 20.0}, size)
    assert got["to_target_s"] == 14 and got["target_trial"] == 3
    assert got["to_target_images"] == 300 + 100 + 120 + 300  # trial 2: 6 of its 10 seconds
    assert got["trials_to_target"] == 4 and got["pruned"] == 1 and got["best_val_accuracy"] == 0.97
    assert got["images_per_s"] == 900 / 20.0


# -- real searches (slow) -----------------------------------------------------------------------


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1]) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _study_runs(name: str) -> list:
    from kpgui.core.storage.store import Store

    with Store.open_default() as store:
        return [r for r in store.list_runs() if r.tags.get("study") == name]


@pytest.mark.slow
def test_a_tiny_search_with_two_workers_records_each_trial_once(tmp_path):
    storage = str(tmp_path / "study.journal")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "kpgui",
            "search",
            *TINY,
            "--hidden",
            "8/16",
            "--lr",
            "1e-3..1e-2:log",
            "--trials",
            "2",
            "--workers",
            "2",
            "--storage",
            storage,
            "--study",
            "tiny",
            "--json",
            "--out",
            str(tmp_path / "best.keras"),
        ],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    trials = result["trials"]
    assert len(trials) == 2 and {t["state"] for t in trials} <= {"finished", "pruned"}
    runs = _study_runs("tiny")
    assert sorted(r.tags["trial"] for r in runs) == [0, 1]  # once each in History
    study = optuna.load_study(study_name="tiny", storage=open_storage(storage))
    assert sorted(t.number for t in study.trials) == [0, 1]  # once each in the study
    assert len({t.user_attrs["pid"] for t in study.trials}) == 2  # both workers took trials
    by_trial = {r.tags["trial"]: r for r in runs}
    for t in trials:  # the study's value is the run's last validation loss, as History has it
        assert by_trial[t["trial"]].id == t["run_id"]
        if t["state"] == "finished":
            assert t["value"] == pytest.approx(by_trial[t["trial"]].history["val_loss"][-1])
    best = min((t for t in trials if t["state"] == "finished"), key=lambda t: t["value"])
    assert result["best"]["trial"] == best["trial"]
    assert Path(result["out"]).is_file() and (tmp_path / "best.json").is_file()
    card = json.loads((tmp_path / "best.json").read_text())
    assert card["search"]["trial"] == best["trial"] and card["search"]["study"] == "tiny"


def _wait_for(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_a_killed_worker_leaves_the_study_consistent_and_a_joining_machine_finishes(tmp_path):
    storage = str(tmp_path / "study.journal")
    common = ["--storage", storage, "--study", "shared", "--json"]
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kpgui",
            "search",
            *TINY,
            "--hidden",
            "8/16",
            "--trials",
            "3",
            "--workers",
            "1",
            *common,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:

        def running_trial():
            try:
                study = optuna.load_study(study_name="shared", storage=open_storage(storage))
            except KeyError:
                return None
            running = study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
            return running[0] if running and "pid" in running[0].user_attrs else None

        victim = _wait_for(running_trial, 60, "the first worker's trial")
        joiner = subprocess.Popen(
            [sys.executable, "-m", "kpgui", "search", "--join", *common],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        os.kill(victim.user_attrs["pid"], signal.SIGKILL)  # the worker dies mid-trial
        first_out, first_err = first.communicate(timeout=60)
        join_out, join_err = joiner.communicate(timeout=90)
    finally:
        for p in (first, locals().get("joiner")):
            if p is not None and p.poll() is None:
                p.kill()
    study = optuna.load_study(study_name="shared", storage=open_storage(storage))
    states = {t.number: t.state for t in study.trials}
    assert states[victim.number] == optuna.trial.TrialState.FAIL  # not left "running" forever
    assert optuna.trial.TrialState.RUNNING not in states.values()
    done = [t for t in study.trials if t.state != optuna.trial.TrialState.FAIL]
    assert len(done) == 3, states  # the joining machine took up the killed worker's share
    assert any(t.user_attrs["pid"] != victim.user_attrs["pid"] for t in done), (
        "only the killed worker finished trials"
    )
    assert joiner.returncode == 0, join_err
    runs = _study_runs("shared")
    assert sorted(r.tags["trial"] for r in runs) == sorted(t.number for t in done)
    assert not math.isnan(json.loads(join_out)["best"]["value"])


@pytest.mark.slow
def test_killing_one_of_two_workers_mid_trial_leaves_the_study_consistent_and_the_other_finishes(tmp_path):
    storage = str(tmp_path / "study.journal")
    search = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kpgui",
            "search",
            *TINY[:2],
            "--epochs",
            "2",
            "--validation-split",
            "0.2",
            "--hidden",
            "8/16",
            "--trials",
            "3",
            "--workers",
            "2",
            "--storage",
            storage,
            "--study",
            "two",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:

        def running_trial():
            try:
                study = optuna.load_study(study_name="two", storage=open_storage(storage))
            except KeyError:
                return None
            running = [
                t
                for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
                if "pid" in t.user_attrs
            ]
            return running[0] if running else None

        victim = _wait_for(running_trial, 90, "a worker's trial")
        os.kill(victim.user_attrs["pid"], signal.SIGKILL)  # one worker dies mid-trial
        out, err = search.communicate(timeout=120)
    finally:
        if search.poll() is None:
            search.kill()
    study = optuna.load_study(study_name="two", storage=open_storage(storage))
    states = {t.number: t.state for t in study.trials}
    assert states[victim.number] == optuna.trial.TrialState.FAIL  # not left "running" forever
    assert optuna.trial.TrialState.RUNNING not in states.values()
    done = [t for t in study.trials if t.state != optuna.trial.TrialState.FAIL]
    assert len(done) == 3, states  # the other worker took up the dead one's share
    assert any(t.user_attrs["pid"] != victim.user_attrs["pid"] for t in done)
    assert search.returncode == 0, err
    result = json.loads(out)
    assert result["failed_workers_trials"] == [victim.number]
    assert "1 worker(s) ended with an error" in err  # said, in one line
    runs = _study_runs("two")
    assert sorted(r.tags["trial"] for r in runs) == sorted(t.number for t in done)
