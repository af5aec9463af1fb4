"""The README tables are generated from benchmarks/results.json and must agree with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_tables_match_the_results_file():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "readme_tables.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_a_changed_figure_makes_the_readme_stale(tmp_path):
    import json

    results = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    targeted = next(r for r in results["rows"] if r.get("target") and r.get("value") is not None)
    targeted["value"] = targeted["value"] + 12.345
    changed = tmp_path / "results.json"
    changed.write_text(json.dumps(results), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "readme_tables.py"), "--check", "--json", str(changed)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "README.md does not match" in done.stderr
