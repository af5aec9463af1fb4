"""Run every kpgui benchmark, print one Markdown table, write all figures as JSON.

Each benchmark runs as its own process (so start-up, memory and TensorFlow state do not leak
between them), one after the other (so they do not compete for the 2 cores).

    python benchmarks/run_all.py                 # the standard run (~14 min on 2 quiet cores)
    python benchmarks/run_all.py --quick         # smoke run: every script, tiny sizes (~3 min)
    python benchmarks/run_all.py --full          # also retrains the shipped recipe (hours) and
                                                 # compares search methods (bench_search.py)
    python benchmarks/run_all.py --only latency robustness --json /tmp/r.json
    python benchmarks/run_all.py --only startup --merge --readme   # redo one, keep the rest
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as C

BENCHMARKS: dict[str, str] = {
    "latency": "bench_latency.py",  # 1
    "startup": "bench_startup.py",  # 2
    "training": "bench_training.py",  # 3
    "responsiveness": "bench_responsiveness.py",  # 4
    "accuracy": "bench_accuracy.py",  # 5
    "robustness": "bench_robustness.py",  # 6
    "memory": "bench_memory.py",  # 7
    "reading": "bench_reading.py",  # 8
    "worker": "bench_worker.py",  # 9
    "numbers": "bench_numbers.py",  # 10
    "pendigits": "bench_pendigits.py",  # 11
    "inside": "bench_inside.py",  # 12
    "bigstore": "bench_bigstore.py",  # 13
    "search": "bench_search.py",  # 14 (with --full or --only: many trainings)
    "backends": "bench_backends.py",  # 15
}
FULL_ONLY = {"search"}  # left out of the standard and quick runs


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: fewer runs, tiny sizes")
    p.add_argument(
        "--full",
        action="store_true",
        help="also retrain the shipped recipe (accuracy) and its last step per writer fold (pendigits)",
    )
    p.add_argument(
        "--only",
        nargs="+",
        choices=sorted(BENCHMARKS),
        metavar="NAME",
        help=f"run only these ({', '.join(BENCHMARKS)})",
    )
    p.add_argument(
        "--json",
        default=str(C.BENCH_DIR / "results.json"),
        metavar="PATH",
        help="where to write the results (default benchmarks/results.json)",
    )
    p.add_argument(
        "--readme",
        action="store_true",
        help="also regenerate the tables in README.md and benchmarks/README.md",
    )
    p.add_argument(
        "--merge",
        action="store_true",
        help="keep the other benchmarks' results already in --json and replace only "
        "those run now (e.g. --only startup --merge after a failed run)",
    )
    p.add_argument(
        "--add",
        nargs="+",
        default=[],
        metavar="NAME=JSON",
        help="merge reports a script wrote on its own (e.g. pendigits=/tmp/p.json from "
        "bench_pendigits.py --folds) without running them; implies --merge",
    )
    p.add_argument(
        "--timeout", type=float, default=7200.0, help="seconds allowed for each benchmark (default 7200)"
    )
    return p


def run_one(name: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Run one script in its own process; its report, or an error report."""
    out = tmp / f"{name}.json"
    cmd = [sys.executable, str(C.BENCH_DIR / BENCHMARKS[name]), "--json", str(out)]
    if args.quick:
        cmd.append("--quick")
    if args.full and name == "accuracy":
        cmd.append("--full")
    if args.full and name == "pendigits":
        cmd.append("--folds")
    print(f"[run_all] {name}: {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, env=C.child_env(), capture_output=True, text=True, timeout=args.timeout, cwd=str(C.ROOT)
        )
    except subprocess.TimeoutExpired:
        return {"name": name, "error": f"timed out after {args.timeout:.0f} s", "rows": []}
    seconds = time.perf_counter() - t0
    print(f"[run_all] {name}: exit {proc.returncode} after {seconds:.0f} s", file=sys.stderr, flush=True)
    report = json.loads(out.read_text()) if out.is_file() else {"name": name, "rows": []}
    if proc.returncode != 0 and "error" not in report:
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        report["error"] = f"exit code {proc.returncode}: {tail}"
    report["wall_seconds"] = round(seconds, 1)
    return report


def _error_row(report: dict[str, Any]) -> dict[str, Any]:
    lines = str(report["error"]).strip().splitlines()
    telling = [ln for ln in lines if "rror" in ln] or lines[-1:]
    what = telling[0].strip()[:200]
    if report.get("rows"):  # the figures were written; the process died afterwards
        return C.row(report["name"], f"FAILED after writing its figures: {what}", None, "")
    return C.row(report["name"], f"FAILED: {what}", None, "")


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    args = _parser().parse_args(argv)
    added = dict(item.split("=", 1) for item in args.add)
    names = args.only or ([] if added else [n for n in BENCHMARKS if args.full or n not in FULL_ONLY])
    started = time.perf_counter()
    reports: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="kpgui-bench-") as tmp:
        for name in names:
            reports[name] = run_one(name, args, Path(tmp))
    for name, path in added.items():  # reports a script wrote on its own run
        reports[name] = json.loads(Path(path).read_text(encoding="utf-8"))
        args.merge = True
    command = "python benchmarks/run_all.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.merge and Path(args.json).is_file():
        earlier = json.loads(Path(args.json).read_text(encoding="utf-8"))
        merged = {**earlier.get("benchmarks", {}), **reports}
        reports = {name: merged[name] for name in BENCHMARKS if name in merged}
        command = f"{earlier.get('command', '?')}; then {command.strip()}"
    rows: list[dict[str, Any]] = []
    for report in reports.values():
        rows.extend(report.get("rows", []))
        if report.get("error"):
            rows.append(_error_row(report))
    machine = C.machine_info()
    table = C.markdown_table(rows)
    mode = "quick (smoke run)" if args.quick else "full" if args.full else "standard"
    print(table)
    print()
    for name, report in reports.items():
        for note in report.get("details", {}).get("notes", []):
            print(f"- {name}: {note}")
    print(f"\nMachine: {C.machine_line(machine)}")
    print(f"Mode: {mode}; command: {command.strip()}; total {time.perf_counter() - started:.0f} s")
    results = {
        "command": command.strip(),
        "mode": mode,
        "machine": machine,
        "table": table,
        "rows": rows,
        "benchmarks": reports,
        "seconds": round(time.perf_counter() - started, 1),
    }
    C.write_json(Path(args.json), results)
    print(f"JSON: {args.json}")
    if args.readme:
        from readme_tables import write_readmes

        write_readmes(json.loads(Path(args.json).read_text(encoding="utf-8")))
    return 1 if any(r.get("error") for r in reports.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
