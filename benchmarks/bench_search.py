"""12. Search: time to reach a validation accuracy on a fixed budget of trials, by search method.

The same ranges (learning rate, hidden layers, optimizer, each a list so the grid can run them
too), the same budget of trials and epochs, the same data, one after the other in the same run:

* TPE + pruning (Optuna's TPE sampler, MedianPruner), 1 worker and 2 workers (`--workers 2`,
  each with cores // 2 threads);
* the grid sweep: every combination in order (GridSampler), no pruning, 1 worker;
* random search over the same lists, no pruning, 1 worker.

Each is `kpgui search ... --json` in its own process with its own study (a journal file in a
temporary folder). Measured: seconds from the command's start until the first trial whose final
validation accuracy reaches the target (trial completion times from the study), the best
validation accuracy after the whole budget, the wall time of the whole budget, and how many trials
were pruned. Startup (TensorFlow import in each worker) counts: it is what a person waits for.

    python benchmarks/bench_search.py [--quick] [--json out.json]
"""

from __future__ import annotations

import datetime as _dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as C

NAME = "search"
BENCH = "14 search"
RANGES = ["--lr", "0.001/0.003/0.01/0.03/0.1", "--hidden", "32/128/256", "--optimizer", "adam/sgd"]
FULL = {"trials": 16, "epochs": 4, "train_samples": 20000, "target": 0.965}
QUICK = {"trials": 3, "epochs": 1, "train_samples": 2000, "target": 0.80}
METHODS = (  # (label, extra arguments)
    ("TPE + pruning, 1 worker", ["--sampler", "tpe", "--pruner", "median", "--workers", "1"]),
    ("TPE + pruning, 2 workers", ["--sampler", "tpe", "--pruner", "median", "--workers", "2"]),
    ("grid sweep", ["--sampler", "grid", "--pruner", "none", "--workers", "1"]),
    ("random search", ["--sampler", "random", "--pruner", "none", "--workers", "1"]),
)


def run_method(label: str, extra: list[str], size: dict, folder: Path, index: int) -> dict[str, Any]:
    """One search as a person runs it; its study read back for the completion times."""
    import optuna

    from kpgui.core.training.search import open_storage

    storage = str(folder / f"study-{index}.journal")
    cmd = [
        sys.executable,
        "-m",
        "kpgui",
        "search",
        *RANGES,
        "--epochs",
        str(size["epochs"]),
        "--train-samples",
        str(size["train_samples"]),
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
    started = _dt.datetime.now()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=C.child_env(), capture_output=True, text=True, cwd=str(C.ROOT))
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{label}: exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    result = json.loads(proc.stdout)
    study = optuna.load_study(study_name="bench", storage=open_storage(storage))
    finished = sorted(
        (t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE),
        key=lambda t: t.datetime_complete,
    )
    reach = next(
        (
            (t.datetime_complete - started).total_seconds()
            for t in finished
            if t.value is not None and t.value >= size["target"]
        ),
        None,
    )
    best = max((t.value for t in finished if t.value is not None), default=None)
    return {
        "label": label,
        "wall_s": round(wall, 1),
        "to_target_s": None if reach is None else round(reach, 1),
        "best_val_accuracy": best,
        "finished": len(finished),
        "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
        "failed": sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials),
        "best": result.get("best", {}).get("params") if result.get("best") else None,
    }


def run(args: Any) -> tuple[list[dict], dict]:
    size = QUICK if args.quick else FULL
    results = []
    with tempfile.TemporaryDirectory(prefix="kpgui-bench-search-") as tmp:
        for i, (label, extra) in enumerate(METHODS):
            print(f"[search] {label}…", file=sys.stderr, flush=True)
            results.append(run_method(label, extra, size, Path(tmp), i))
    grid = next(r for r in results if r["label"] == "grid sweep")
    rows = []
    for r in results:
        is_grid = r is grid
        rows.append(
            C.row(
                BENCH,
                f"{r['label']}: time to val acc {100 * size['target']:.1f} %",
                r["to_target_s"],
                "s",
                alt_name="" if is_grid else "grid sweep",
                alt_value=None if is_grid else grid["to_target_s"],
                note="not reached" if r["to_target_s"] is None else "",
            )
        )
        rows.append(
            C.row(
                BENCH,
                f"{r['label']}: best val accuracy in {size['trials']} trials",
                None if r["best_val_accuracy"] is None else 100 * r["best_val_accuracy"],
                "%",
                alt_name="" if is_grid else "grid sweep",
                alt_value=None
                if is_grid or grid["best_val_accuracy"] is None
                else 100 * grid["best_val_accuracy"],
                show_ratio=False,
                note=f"{r['pruned']} pruned, {r['failed']} failed",
            )
        )
        rows.append(
            C.row(
                BENCH,
                f"{r['label']}: wall time of the budget",
                r["wall_s"],
                "s",
                alt_name="" if is_grid else "grid sweep",
                alt_value=None if is_grid else grid["wall_s"],
            )
        )
    details = {
        "size": size,
        "ranges": RANGES,
        "results": results,
        "notes": [
            f"Budget: {size['trials']} trials of {size['epochs']} epoch(s) on the first "
            f"{size['train_samples']:,} MNIST images (10 % held out for validation); ranges "
            f"{' '.join(RANGES)}; objective: final validation accuracy.",
            "Times count from the command's start (TensorFlow import in each worker included) to the "
            "first finished trial at or above the target. MedianPruner prunes only from the 6th trial on.",
        ],
    }
    return rows, details


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    p = C.base_parser(__doc__.splitlines()[0])
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    rows, details = run(args)
    C.finish(NAME, rows, details, args, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
