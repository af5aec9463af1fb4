"""14. Search: how much training, and how long, until a validation accuracy is reached, by method.

The same ranges, the same budget of trials, the same data and epochs, one method after the other
in the same run, each as a person runs it (`kpgui search ... --json`, its own process, its own
study in a journal file, its own fresh data folder so no method inherits another's compiled
programs):

* TPE + pruning (Optuna's TPE sampler, MedianPruner), 1 worker with all the cores' threads;
* the same with 2 workers (`--workers 2`: each worker its own core's worth of threads);
* the grid sweep (`--sampler grid`, no pruning): every combination of the grid, the budget's size;
* random search over the same ranges (`--sampler random`, no pruning), 1 worker.

Ranges: learning rate 1e-4..1e-1 (log), dropout 0..0.5, hidden layer and batch size each one of
two choices. The grid takes the centres of two equal cells of each numeric range (the learning
rate's on a log scale), so its 2 x 2 x 2 x 2 points fill the same box; the budget is that grid.

The primary figure is **compute to target**: training images processed (epochs x images per
epoch, summed over every trial, pruned and failed ones included; for 2 workers, a trial running
when the target is reached counts the share of it done by then) until the first trial whose final
validation accuracy reaches the target. It does not depend on how busy the machine is. Beside it:
seconds from the command's start to that trial's end (TensorFlow/JAX import in each worker
included: it is what a person waits for), the best validation accuracy in the budget, trials
pruned, and the whole budget's wall time, CPU time and training throughput, which decide the
default number of workers (SEARCH_WORKERS_TARGET).

    python benchmarks/bench_search.py [--quick] [--json out.json]      # ~15 min on 2 quiet cores
    python benchmarks/bench_search.py --rows-from out.json --target 0.95 --json out2.json
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as C

NAME = "search"
BENCH = "14 search"
# One search space, written twice: as ranges (TPE, random) and as the grid of its cell centres.
RANGES = [
    "--lr",
    "1e-4..1e-1:log",
    "--dropout",
    "0..0.5",
    "--hidden",
    "64/256",
    "--batch-size",
    "32/256",
]
GRID = [
    "--lr",
    "0.00056/0.018",  # 10**-3.25, 10**-1.75: the centres of the two log-halves of 1e-4..1e-1
    "--dropout",
    "0.125/0.375",
    "--hidden",
    "64/256",
    "--batch-size",
    "32/256",
]
FULL = {
    "trials": 16,
    "epochs": 3,
    "train_samples": 8000,
    "validation_split": 0.2,
    "target": 0.92,
    "repeats": 3,
}
QUICK = {
    "trials": 4,
    "epochs": 1,
    "train_samples": 1500,
    "validation_split": 0.2,
    "target": 0.80,
    "repeats": 1,
}
METHODS = (  # (label, ranges, extra arguments)
    ("TPE + pruning, 1 worker", RANGES, ["--sampler", "tpe", "--pruner", "median", "--workers", "1"]),
    ("TPE + pruning, 2 workers", RANGES, ["--sampler", "tpe", "--pruner", "median", "--workers", "2"]),
    ("grid sweep", GRID, ["--sampler", "grid", "--pruner", "none", "--workers", "1"]),
    ("random search", RANGES, ["--sampler", "random", "--pruner", "none", "--workers", "1"]),
)
TPE_1, TPE_2, GRID_LABEL, RANDOM_LABEL = (m[0] for m in METHODS)
# 2 workers become kpgui's default when they train this much faster than 1 over the budget
SEARCH_WORKERS_TARGET = 1.2


def images_per_epoch(size: dict) -> int:
    """What one epoch trains on: the training subset less its validation part (Trainer._split)."""
    n = size["train_samples"]
    return n - int(n * size["validation_split"])


def _epochs(t: Any) -> int:
    """Epochs a trial trained: its run's count, else the epochs it reported (a failed one)."""
    done = t.user_attrs.get("epochs_run")
    return int(done) if done is not None else len(t.intermediate_values)


def compute_until(trials: list[dict], when: float | None, per_epoch: int) -> int:
    """Images trained by all trials until `when` seconds (None: the whole budget). A trial
    running at `when` counts the part of its run done by then, by time."""
    total = 0.0
    for t in trials:
        full = t["epochs"] * per_epoch
        start, end = t["start_s"], t["end_s"]
        if when is None or (end is not None and end <= when):
            total += full
        elif start is not None and start < when and end is not None and end > start:
            total += full * (when - start) / (end - start)
    return int(round(total))


def reach(r: dict[str, Any], size: dict) -> dict[str, Any]:
    """The method's figures for `size['target']`, from its trials (so another target can be
    read from the same run: --rows-from)."""
    trials = r["trials"]
    done = sorted(
        (t for t in trials if t["state"] == "complete" and t["value"] is not None), key=lambda t: t["end_s"]
    )
    hit = next((t for t in done if t["value"] >= size["target"]), None)
    per_epoch = images_per_epoch(size)
    total = compute_until(trials, None, per_epoch)
    return {
        **r,
        "to_target_s": None if hit is None else hit["end_s"],
        "to_target_images": None if hit is None else compute_until(trials, hit["end_s"], per_epoch),
        "target_trial": None if hit is None else hit["n"],
        "trials_to_target": None if hit is None else sum(t["start_s"] < hit["end_s"] for t in trials),
        "best_val_accuracy": max((t["value"] for t in done), default=None),
        "images_total": total,
        "images_per_s": round(total / r["wall_s"], 1) if r["wall_s"] else None,
        "finished": len(done),
        "pruned": sum(t["state"] == "pruned" for t in trials),
        "failed": sum(t["state"] == "fail" for t in trials),
    }


def run_method(
    label: str, ranges: list[str], extra: list[str], size: dict, folder: Path, index: int
) -> dict[str, Any]:
    """One search as a person runs it; its study read back for the trials' times and epochs."""
    import optuna

    from kpgui.core.training.search import open_storage

    storage = str(folder / f"study-{index}.journal")
    data_dir = folder / f"data-{index}"  # no compiled programs or runs from the method before
    data_dir.mkdir()
    env = {**C.child_env(), "KPGUI_DATA_DIR": str(data_dir)}
    cmd = [
        sys.executable,
        "-m",
        "kpgui",
        "search",
        *ranges,
        "--epochs",
        str(size["epochs"]),
        "--train-samples",
        str(size["train_samples"]),
        "--validation-split",
        str(size["validation_split"]),
        "--trials",
        str(size["trials"]),
        "--objective",
        "val_accuracy",
        "--storage",
        storage,
        "--study",
        "bench",
        "--json",
        *extra,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = _dt.datetime.now()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(C.ROOT))
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"{label}: exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    result = json.loads(proc.stdout)
    study = optuna.load_study(study_name="bench", storage=open_storage(storage))

    def since(moment: _dt.datetime | None) -> float | None:
        return None if moment is None else round((moment - started).total_seconds(), 2)

    return {
        "label": label,
        "command": " ".join(["kpgui", *cmd[3:]]),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "trials": [
            {
                "n": t.number,
                "state": t.state.name.lower(),
                "value": t.value,
                "epochs": _epochs(t),
                "params": t.params,
                "pid": t.user_attrs.get("pid"),
                "start_s": since(t.datetime_start),
                "end_s": since(t.datetime_complete),
            }
            for t in study.trials
        ],
        "best": result.get("best", {}).get("params") if result.get("best") else None,
    }


def _k(images: float | None) -> float | None:
    return None if images is None else images / 1000.0


def median_reach(values: list[float | None]) -> float | None:
    """The median over repeats, a run that never reached the target counting as the slowest;
    None when that median run did not reach it."""
    ranked = sorted(values, key=lambda v: math.inf if v is None else v)
    if not ranked:
        return None
    mid = len(ranked) // 2
    if len(ranked) % 2:
        return ranked[mid]
    low, high = ranked[mid - 1], ranked[mid]
    return None if low is None or high is None else (low + high) / 2


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One method over its repeats: medians (compute and time to the target, best accuracy,
    wall, CPU, throughput), how many runs reached the target, trials pruned and failed."""

    def med(key: str) -> float | None:
        values = [r[key] for r in runs if r[key] is not None]
        return C.median(values) if values else None

    reached = [r for r in runs if r["to_target_images"] is not None]
    return {
        "label": runs[0]["label"],
        "runs": len(runs),
        "reached": len(reached),
        "to_target_images": median_reach([r["to_target_images"] for r in runs]),
        "to_target_s": median_reach([r["to_target_s"] for r in runs]),
        "trials_to_target": median_reach([r["trials_to_target"] for r in runs]),
        "best_val_accuracy": med("best_val_accuracy"),
        "wall_s": med("wall_s"),
        "cpu_s": med("cpu_s"),
        "images_per_s": med("images_per_s"),
        "pruned": sum(r["pruned"] for r in runs),
        "failed": sum(r["failed"] for r in runs),
        "trials": sum(len(r["trials"]) for r in runs),
    }


def _reached(r: dict[str, Any]) -> str:
    """A method's name, with how often it reached the target when its median run did not."""
    if r["to_target_images"] is not None:
        return r["label"]
    return f"{r['label']} (reached in {r['reached']} of {r['runs']})"


def rows_for(results: list[dict[str, Any]], size: dict) -> list[dict[str, Any]]:
    """The report's rows, each a median over the repeats: each method's compute and time to the
    target beside the grid sweep; TPE's compute against the grid's and random search's
    (target: no more); 2 workers' throughput against 1 worker's (target: the default's rule)."""
    labels = [m[0] for m in METHODS]
    by = {label: summary([r for r in results if r["label"] == label]) for label in labels}
    grid, rand, one, two = by[GRID_LABEL], by[RANDOM_LABEL], by[TPE_1], by[TPE_2]
    target = f"val acc ≥ {100 * size['target']:.0f} %"
    runs = grid["runs"]
    per = f"median of {runs} runs" if runs > 1 else "1 run"
    rows = []

    def no_more(a: float | None, b: float | None) -> bool:
        return a is not None and (b is None or a <= b)

    for r in by.values():
        is_grid = r is grid
        is_tpe = r["label"].startswith("TPE")
        note = f"reached in {r['reached']} of {r['runs']}" + (
            "" if r["to_target_images"] is None else f"; {r['trials_to_target']:.0f} trials started"
        )
        for other in [grid, rand] if is_tpe else [None] if is_grid else [grid]:
            rows.append(
                C.row(
                    BENCH,
                    f"{r['label']}: training images until {target} (k, {per})",
                    _k(r["to_target_images"]),
                    "k",
                    alt_name="" if other is None else _reached(other),
                    alt_value=None if other is None else _k(other["to_target_images"]),
                    target=f"≤ {other['label']}" if is_tpe and other is not None else "",
                    met=no_more(r["to_target_images"], other["to_target_images"])
                    if is_tpe and other is not None
                    else None,
                    note=note,
                )
            )
        rows.append(
            C.row(
                BENCH,
                f"{r['label']}: seconds until {target} ({per})",
                r["to_target_s"],
                "s",
                alt_name="" if is_grid else grid["label"],
                alt_value=None if is_grid else grid["to_target_s"],
                note="not reached" if r["to_target_s"] is None else "",
            )
        )
        rows.append(
            C.row(
                BENCH,
                f"{r['label']}: best val accuracy in {size['trials']} trials ({per})",
                None if r["best_val_accuracy"] is None else 100 * r["best_val_accuracy"],
                "%",
                alt_name="" if is_grid else grid["label"],
                alt_value=None
                if is_grid or grid["best_val_accuracy"] is None
                else 100 * grid["best_val_accuracy"],
                show_ratio=False,
                note=f"{r['pruned']} of {r['trials']} trials pruned, {r['failed']} failed",
            )
        )
        rows.append(
            C.row(
                BENCH,
                f"{r['label']}: the whole budget, wall ({per}; CPU {r['cpu_s']:.0f} s)",
                r["wall_s"],
                "s",
                alt_name="" if is_grid else grid["label"],
                alt_value=None if is_grid else grid["wall_s"],
            )
        )
    speed = C.ratio(two["images_per_s"], one["images_per_s"])
    rows.append(
        C.row(
            BENCH,
            f"2 workers x 1 core against 1 worker x 2 cores: training images per second over the "
            f"budget ({per})",
            two["images_per_s"],
            "img/s",
            alt_name="1 worker",
            alt_value=one["images_per_s"],
            target=f"≥ {SEARCH_WORKERS_TARGET}x for 2 workers to be the default",
            met=None if speed is None else speed >= SEARCH_WORKERS_TARGET,
        )
    )
    return rows


def details_for(size: dict, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "size": size,
        "ranges": RANGES,
        "grid": GRID,
        "images_per_epoch": images_per_epoch(size),
        "cores": os.cpu_count(),
        "results": results,
        "notes": [
            f"Budget: {size['trials']} trials of {size['epochs']} epoch(s) on the first "
            f"{size['train_samples']:,} MNIST training images ({images_per_epoch(size):,} trained per "
            f"epoch, {100 * size['validation_split']:.0f} % held out for validation); objective: final "
            f"validation accuracy; target {100 * size['target']:.1f} %. Ranges {' '.join(RANGES)}; "
            f"the grid {' '.join(GRID)}.",
            "Training images until the target: every trial's epochs x images per epoch, summed until "
            "the first trial at or above the target ended (pruned and failed trials included; a "
            "diverged trial counts its complete epochs; with 2 workers, the other worker's running "
            "trial counts the share done by then). Seconds count from the command's start (each "
            "worker's import of JAX/TensorFlow included). TPE's and random search's draws differ from "
            f"run to run: each figure is the median of {size.get('repeats', 1)} run(s) of every method "
            "(a run that did not reach the target counts as the slowest).",
            "TPE draws its first 10 trials at random (Optuna's n_startup_trials) and MedianPruner "
            "prunes from the 6th trial on; 2 workers share the study (TPE's constant liar). Images "
            "per second = all trials' training images / the budget's wall time.",
        ],
    }


def run(args: Any) -> tuple[list[dict], dict]:
    if args.rows_from:  # the figures of earlier runs, read again (another --target, or repeats)
        earlier = [json.loads(Path(f).read_text(encoding="utf-8")) for f in args.rows_from]
        size = dict(earlier[0]["details"]["size"])
        size["target"] = args.target or (QUICK if earlier[0].get("quick") else FULL)["target"]
        size["repeats"] = sum(e["details"]["size"].get("repeats", 1) for e in earlier)
        results = [reach(r, size) for e in earlier for r in e["details"]["results"]]
        details = details_for(size, results)
        details["measured_on"] = [e.get("machine") for e in earlier]
        return rows_for(results, size), details
    size = dict(QUICK if args.quick else FULL)
    size["target"] = args.target or size["target"]
    size["repeats"] = args.repeats or size["repeats"]
    results = []
    with tempfile.TemporaryDirectory(prefix="kpgui-bench-search-") as tmp:
        for rep in range(size["repeats"]):
            order = METHODS[rep % len(METHODS) :] + METHODS[: rep % len(METHODS)]  # no method always first
            for label, ranges, extra in order:
                print(f"[search] run {rep + 1}: {label}…", file=sys.stderr, flush=True)
                index = len(results)
                r = reach(run_method(label, ranges, extra, size, Path(tmp), index), size)
                r["repeat"] = rep + 1
                print(
                    f"[search] {label}: {r['wall_s']} s, to target {r['to_target_images']} images / "
                    f"{r['to_target_s']} s, best {r['best_val_accuracy']}",
                    file=sys.stderr,
                    flush=True,
                )
                results.append(r)
    return rows_for(results, size), details_for(size, results)


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument("--target", type=float, default=None, help="validation accuracy to reach (0-1)")
    p.add_argument("--repeats", type=int, default=None, help="runs of every method (full: 3, quick: 1)")
    p.add_argument(
        "--rows-from",
        nargs="+",
        metavar="JSON",
        default=None,
        help="no training: the rows of earlier reports (their runs pooled as repeats)",
    )
    args = p.parse_args(argv)
    if args.quick and args.rows_from:
        p.error("--rows-from reads the size from the earlier report; leave out --quick")
    t0 = time.perf_counter()
    rows, details = run(args)
    C.finish(NAME, rows, details, args, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
