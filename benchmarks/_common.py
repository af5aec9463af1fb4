"""Shared helpers for the benchmark scripts: statistics, machine notes, output, MNIST, memory.

Every benchmark script builds a *report*: a dict with its name, a list of *rows* (one measured
figure each, beside the alternative measured in the same run, a ratio and the target) and free
`details`. `finish()` prints the rows as a Markdown table and writes the report as JSON.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
_SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"


def setup_env() -> None:
    """Quiet TensorFlow, offscreen Qt when there is no display, the shared MNIST when present."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if not os.environ.get("KPGUI_MNIST") and _SHARED_MNIST.is_file():
        os.environ["KPGUI_MNIST"] = str(_SHARED_MNIST)
    # The window remembers settings and runs: keep the benchmarks' away from the person's own.
    for var in ("KPGUI_DATA_DIR", "KPGUI_CONFIG_DIR"):
        if not os.environ.get(var):
            os.environ[var] = _scratch_dir(var.split("_")[1].lower())


_SCRATCH: dict[str, str] = {}


def _scratch_dir(kind: str) -> str:
    """A temporary folder for this process tree, removed when the process that made it exits."""
    if kind not in _SCRATCH:
        import atexit
        import shutil
        import tempfile

        path = tempfile.mkdtemp(prefix=f"kpgui-bench-{kind}-")
        atexit.register(shutil.rmtree, path, True)
        _SCRATCH[kind] = path
    return _SCRATCH[kind]


def child_env() -> dict[str, str]:
    """Environment for benchmark subprocesses (same settings as setup_env, made explicit)."""
    setup_env()
    return dict(os.environ)


# -- statistics ----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """q-th percentile (0..100, linear interpolation); NaN for no values."""
    return float(np.percentile(np.asarray(values, np.float64), q)) if len(values) else float("nan")


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if len(values) else float("nan")


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is zero."""
    if a is None or b is None or not b or a != a or b != b:
        return None
    return float(a) / float(b)


# -- machine -------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _package_versions() -> dict[str, str]:
    """Versions without importing TensorFlow (that alone takes seconds)."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in (
        "kpgui",
        "numpy",
        "tensorflow",
        "keras",
        "PySide6-Essentials",
        "PySide6",
        "pyqtgraph",
        "pillow",
        "h5py",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + (" (with local changes)" if dirty.stdout.strip() else "")


def machine_info() -> dict[str, Any]:
    """CPU model, cores, load, versions, date: what a reader needs to judge the numbers."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "load_average_1_5_15": _load_average(),
        "os": platform.platform(),
        "versions": _package_versions(),
        "qt_platform": os.environ.get("QT_QPA_PLATFORM", "(default)"),
        "git": _git_commit(),
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def machine_line(info: dict[str, Any]) -> str:
    v = info.get("versions", {})
    qt = v.get("PySide6-Essentials") or v.get("PySide6", "?")
    return (
        f"{info['cpu']}, {info['cores']} cores, load {info.get('load_average_1_5_15')}; "
        f"Python {v.get('python')}, TensorFlow {v.get('tensorflow', '?')}, Keras "
        f"{v.get('keras', '?')}, Qt/PySide6 {qt}, NumPy {v.get('numpy')}; "
        f"QT_QPA_PLATFORM={info.get('qt_platform')}; git {info.get('git')}; {info['date']}"
    )


# -- rows, tables, output --------------------------------------------------------------------


def row(
    bench: str,
    measure: str,
    value: float | None,
    unit: str,
    *,
    alt_name: str = "",
    alt_value: float | None = None,
    ratio_value: float | None = None,
    target: str = "",
    met: bool | None = None,
    note: str = "",
    show_ratio: bool = True,
) -> dict[str, Any]:
    """One figure of a benchmark beside its alternative. ratio defaults to value / alt_value
    (`show_ratio=False` when the "alternative" is only a second figure, e.g. p95 beside p50)."""
    if ratio_value is None and show_ratio:
        ratio_value = ratio(value, alt_value)
    return {
        "benchmark": bench,
        "measure": measure,
        "value": value,
        "unit": unit,
        "alternative": alt_name,
        "alt_value": alt_value,
        "ratio": ratio_value,
        "target": target,
        "met": met,
        "note": note,
    }


def _fmt(x: Any, unit: str = "") -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        if x != x:
            return "nan"
        if unit == "%":
            return f"{x:.2f} %"
        mag = abs(x)
        text = f"{x:.3g}" if mag < 10 else f"{x:.1f}" if mag < 1000 else f"{x:,.0f}"
        return f"{text} {unit}".strip()
    return f"{x} {unit}".strip()


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The rows as one Markdown table."""
    head = "| Benchmark | Measure | kpgui | Alternative (same run) | Ratio | Target | Met |"
    lines = [head, "|---|---|---|---|---|---|---|"]
    for r in rows:
        alt = f"{r['alternative']}: {_fmt(r['alt_value'], r['unit'])}" if r["alternative"] else "–"
        met = {True: "yes", False: "**no**", None: "–"}[r["met"]]
        ratio_text = "–" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        measure = r["measure"] + (f" ({r['note']})" if r["note"] else "")
        lines.append(
            f"| {r['benchmark']} | {measure} | {_fmt(r['value'], r['unit'])} | {alt} | "
            f"{ratio_text} | {r['target'] or '–'} | {met} |"
        )
    return "\n".join(lines)


def base_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--json", metavar="PATH", help="also write the report as JSON to PATH")
    p.add_argument("--quick", action="store_true", help="fewer runs / smaller data (smoke run)")
    return p


def finish(
    name: str, rows: list[dict[str, Any]], details: dict[str, Any], args: Any, started: float
) -> dict[str, Any]:
    """Print the table (and any notes), write JSON when asked, return the report."""
    import time

    report = {
        "name": name,
        "quick": bool(getattr(args, "quick", False)),
        "rows": rows,
        "details": details,
        "machine": machine_info(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(markdown_table(rows))
    for note in details.get("notes", []):
        print(f"- {note}")
    print(f"\nMachine: {machine_line(report['machine'])}")
    if getattr(args, "json", None):
        write_json(Path(args.json), report)
    return report


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=_json_default) + "\n", encoding="utf-8")


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    return str(o)


# -- data, model, memory ----------------------------------------------------------------------


def load_mnist() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from kpgui.core.data.mnist import load_mnist as _load

    return _load()


def default_model_path() -> Path:
    from kpgui.core.storage.resources import default_model_path as _path

    return _path()


def default_card() -> dict[str, Any]:
    from kpgui.core.model.cards import read_model_card

    return read_model_card(default_model_path())


def rss_mb() -> float:
    """Resident memory of this process in MiB (VmRSS from /proc/self/status)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def hwm_mb() -> float:
    """Peak resident memory of this process so far in MiB (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def gui_missing_message(exc: BaseException) -> str:
    return (
        f"the desktop window (kpgui.ui) is not usable yet ({exc.__class__.__name__}: {exc}); "
        "this benchmark needs kpgui.ui.app.build_app() and its App (state, drawing, training, "
        "panels, built)"
    )


def fail(message: str, args: Any, name: str) -> int:
    """Report a benchmark that cannot run: clear message on stderr, JSON with the error."""
    print(f"{name}: cannot run: {message}", file=sys.stderr)
    if getattr(args, "json", None):
        write_json(Path(args.json), {"name": name, "error": message, "rows": [], "machine": machine_info()})
    return 2
