"""The README tables, made from benchmarks/results.json and nothing else, so prose cannot drift
from the data: the full table in benchmarks/README.md and the summary of every figure that has a
target in README.md, each between its markers.

    python benchmarks/readme_tables.py           # rewrite both blocks from results.json
    python benchmarks/readme_tables.py --check   # exit 1 if either README disagrees (tests do this)

`run_all.py --readme` calls `write_readmes` after a run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import _common as C

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results.json"
BENCH_README = Path(__file__).resolve().parent / "README.md"
MAIN_README = ROOT / "README.md"
FULL = ("<!-- results:start -->", "<!-- results:end -->")
SUMMARY = ("<!-- summary:start -->", "<!-- summary:end -->")
# Rows with a target that the summary folds into one line each: their worst case is what counts.
FOLDED = {"style '": "each of the 21 drawn styles (worst shown)"}


def full_block(results: dict[str, Any]) -> str:
    """benchmarks/README.md's results block: the command, the machine, every row."""
    return (
        f"\n\nCommand: `{results.get('command', '?')}` ({results.get('mode', '?')})\n\n"
        f"Machine: {C.machine_line(results['machine'])}\n\n{C.markdown_table(results['rows'])}\n\n"
    )


def _met(row: dict[str, Any]) -> str:
    return {True: " ✓", False: " ✗", None: ""}[row.get("met")]


def summary_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row with a target; rows of one family (the styles) folded into their worst."""
    out: list[dict[str, Any]] = []
    folded: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if not r.get("target") or r.get("value") is None:
            continue
        family = next((k for k in FOLDED if r["measure"].startswith(k)), None)
        if family is None:
            out.append(r)
            continue
        if family not in folded:
            folded[family] = []
            out.append({"family": family})
        folded[family].append(r)
    final = []
    for r in out:
        if "family" in r:
            members = folded[r["family"]]
            worst = min(members, key=lambda m: m["value"])
            final.append(
                {
                    **worst,
                    "measure": f"{FOLDED[r['family']]}: {worst['measure']}",
                    "met": all(m.get("met") for m in members),
                }
            )
        else:
            final.append(r)
    return final


def summary_block(results: dict[str, Any]) -> str:
    """README.md's summary: what was measured against a target, beside the alternative."""
    lines = [
        "| benchmark | what | kpgui | strongest alternative, same run | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in summary_rows(results["rows"]):
        alt = f"{r['alternative']}: {C._fmt(r['alt_value'], r['unit'])}" if r.get("alternative") else ""
        lines.append(
            f"| {r['benchmark']} | {r['measure']} | {C._fmt(r['value'], r['unit'])} | "
            f"{alt} | {r['target']}{_met(r)} |"
        )
    date = str(results["machine"].get("date", "?"))[:10]
    return (
        f"\n\n{chr(10).join(lines)}\n\n(Generated from `benchmarks/results.json`, run of {date}, "
        f"{results.get('mode', '?')}; every row in `benchmarks/README.md`.)\n\n"
    )


def _replace(text: str, markers: tuple[str, str], block: str) -> str:
    start, end = markers
    if start not in text or end not in text:
        raise ValueError(f"markers {start} … {end} missing")
    head, rest = text.split(start, 1)
    return head + start + block + end + rest.split(end, 1)[1]


def expected(results: dict[str, Any]) -> dict[Path, str]:
    """What each README must say for these results."""
    return {
        BENCH_README: _replace(BENCH_README.read_text(encoding="utf-8"), FULL, full_block(results)),
        MAIN_README: _replace(MAIN_README.read_text(encoding="utf-8"), SUMMARY, summary_block(results)),
    }


def write_readmes(results: dict[str, Any]) -> None:
    for path, text in expected(results).items():
        path.write_text(text, encoding="utf-8")


def stale(results: dict[str, Any]) -> list[Path]:
    """The READMEs whose tables do not match the results."""
    return [p for p, text in expected(results).items() if p.read_text(encoding="utf-8") != text]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only check; exit 1 if a README is stale")
    p.add_argument("--json", default=str(RESULTS), help="the results file")
    args = p.parse_args(argv)
    results = json.loads(Path(args.json).read_text(encoding="utf-8"))
    if args.check:
        bad = stale(results)
        for path in bad:
            print(
                f"{path} does not match {args.json}: run python benchmarks/readme_tables.py", file=sys.stderr
            )
        return 1 if bad else 0
    write_readmes(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
