"""11. A big store: the window with 100,000 samples and 3,000 runs (issue 25, item 7).

A 10 ms Qt timer in the GUI thread records the longest gap between its timeouts (the longest
stall a person feels) while the window opens and fills My digits and History, after a digit is
saved (key 7 on a drawing), after a run ends (History reads the runs again), and while 20,000
samples are imported in the background with a digit saved in the middle of it. "Window open"
is from build_app() to the canvas's first paint (drawing works), "every tab built" to History
and My digits in place, "data shown" adds the reads on threads.

The alternative is the previous design measured the same way in its own process: My digits as a
QListWidget rebuilt from every stored sample, History re-read and re-laid-out on the GUI
thread, one transaction per import (`--old PATH`: a kpgui source tree of that design, e.g.
`git archive 7978e8d kpgui | tar -x -C /tmp/old`; skipped when not given).

    python benchmarks/bench_bigstore.py [--quick] [--samples N] [--runs N] [--old PATH] [--json out]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as C
import numpy as np

NAME = "bigstore"
BENCH = "13 big store"
STALL_TARGET_MS = 100.0
OPEN_TARGET_S = 2.0


def _import_file(path: Path, n: int) -> Path:
    """A samples file of `n` new digits (written with kpgui's own writer)."""
    from kpgui.core.storage.samplefiles import SampleBundle, write_samples_file

    rng = np.random.default_rng(7)
    images = (rng.random((n, 28, 28)) > 0.85).astype(np.uint8) * 255
    strokes = [[rng.uniform(0, 400, (10, 2)).astype(np.float32)] for _ in range(n)]
    write_samples_file(
        path,
        SampleBundle(
            images=images,
            labels=rng.integers(0, 10, n).astype(np.uint8),
            strokes=strokes,
            pen_widths=np.full(n, 18.0, np.float32),
            canvas_sizes=np.full((n, 2), 420, np.int32),
            created_at=["2026-02-01T10:00:00"] * n,
        ),
    )
    return path


def measure(import_n: int) -> dict[str, Any]:
    """Run in the process whose kpgui is measured (this tree or --old): the figures as JSON."""
    import _gui as G
    import strokes as S

    G.load_gui()
    from PySide6.QtCore import QEvent, QObject

    from kpgui.ui.app import build_app

    class FirstPaint(QObject):
        at: float | None = None

        def eventFilter(self, _obj, event) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint and self.at is None:
                self.at = time.perf_counter()
            return False

    watch = G.IntervalTimer(10)
    painted = FirstPaint()
    t0 = time.perf_counter()
    app = build_app()
    app.panels["drawing"].canvas.installEventFilter(painted)
    app.window.show()
    watch.start()
    G.wait_until(lambda: app.built_at is not None, 120)
    opened = app.built_at - t0
    build_stall = max(watch.lateness_ms(), default=0.0)  # step 2 builds the tabs: any store
    filling = time.perf_counter()
    app.tasks.wait(120)
    G.process_events_for(0.3)
    shown = time.perf_counter() - t0
    open_stall = max(watch.lateness_ms(filling), default=0.0)
    app.window.show_tab("My digits")
    G.process_events_for(0.5)

    def stall_after(action, seconds: float = 1.5) -> tuple[float, float]:
        watch.start()
        G.process_events_for(0.05)
        a = time.perf_counter()
        action()
        took = time.perf_counter() - a
        G.process_events_for(seconds)
        app.tasks.wait(60)
        G.process_events_for(0.2)
        return max(watch.lateness_ms(), default=0.0), took

    rng = np.random.default_rng(3)
    G.draw_digit(app, S.draw_digit(7, rng)[0])
    save_stall, save_s = stall_after(lambda: app.samples.save_drawing(7))
    app.window.show_tab("History")
    G.process_events_for(0.3)
    run_stall, _ = stall_after(app.state.runs_changed)
    app.window.show_tab("My digits")
    path = _import_file(Path(tempfile.mkdtemp()) / "more.npz", import_n)
    G.draw_digit(app, S.draw_digit(3, rng)[0])
    watch.start()
    G.process_events_for(0.05)
    task = app.samples.import_(str(path))
    G.process_events_for(0.5)
    a = time.perf_counter()
    app.samples.save_drawing(3)
    key_s = time.perf_counter() - a
    G.wait_until(lambda: not task.running, 600)
    app.tasks.wait(60)
    G.process_events_for(0.3)
    import_stall = max(watch.lateness_ms(), default=0.0)
    G.close_app(app)
    return {
        "open_s": opened,
        "shown_s": shown,
        "painted_s": (painted.at or t0) - t0,
        "open_stall_ms": open_stall,
        "build_stall_ms": build_stall,
        "save_stall_ms": save_stall,
        "save_call_s": save_s,
        "run_ended_stall_ms": run_stall,
        "import_stall_ms": import_stall,
        "key_during_import_s": key_s,
    }


def _child(code: str | None, data: Path, import_n: int) -> dict[str, Any]:
    env = C.child_env()
    env["KPGUI_DATA_DIR"] = str(data)
    env["KPGUI_CONFIG_DIR"] = tempfile.mkdtemp(prefix="kpgui-bench-config-")
    if code:
        env["PYTHONPATH"] = code
    out = data / "figures.json"
    cmd = [sys.executable, str(Path(__file__)), "--measure", str(out), "--import-n", str(import_n)]
    proc = subprocess.run(cmd, env=env, cwd=str(C.BENCH_DIR), capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0 or not out.is_file():
        raise RuntimeError(f"the measuring process failed: {proc.stderr.strip()[-400:]}")
    return json.loads(out.read_text())


def main() -> int:
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3_000)
    p.add_argument("--import-n", type=int, default=20_000)
    p.add_argument("--old", metavar="PATH", help="a kpgui source tree of the previous design")
    p.add_argument("--measure", metavar="OUT", help=argparse_hidden())
    args = p.parse_args()
    if args.measure:
        C.write_json(Path(args.measure), measure(args.import_n))
        return 0
    if args.quick:
        args.samples, args.runs, args.import_n = 10_000, 300, 2_000
    started = time.perf_counter()
    from _bigstore import make_big_store

    with tempfile.TemporaryDirectory(prefix="kpgui-bench-big-") as tmp:
        seed = Path(tmp) / "seed.sqlite3"
        t = time.perf_counter()
        make_big_store(seed, args.samples, args.runs)
        made = time.perf_counter() - t
        figures = {}
        for name, code in (("kpgui", str(C.ROOT)), ("empty", str(C.ROOT)), ("old", args.old)):
            if name == "old" and not code:
                continue
            data = Path(tmp) / name
            data.mkdir()
            if name != "empty":
                (data / "kpgui.sqlite3").write_bytes(seed.read_bytes())
            figures[name] = _child(code, data, args.import_n)
    new, old = figures["kpgui"], figures.get("old")
    alt = "previous design" if old else ""
    size = f"{args.samples:,} samples, {args.runs:,} runs"

    def fig(key: str) -> Any:
        return None if old is None else old[key]

    empty = figures["empty"]
    rows = [
        C.row(
            BENCH,
            f"window open: shown, drawing works ({size})",
            new["painted_s"],
            "s",
            alt_name=alt,
            alt_value=fig("painted_s"),
            target=f"< {OPEN_TARGET_S:g} s",
            met=new["painted_s"] < OPEN_TARGET_S,
        ),
        C.row(
            BENCH,
            "window open: every tab built (database opened and checked on a thread)",
            new["open_s"],
            "s",
            alt_name=alt,
            alt_value=fig("open_s"),
        ),
        C.row(
            BENCH,
            "window open with an empty store (same machine, same moment)",
            empty["open_s"],
            "s",
            alt_name="with the big store",
            alt_value=new["open_s"],
        ),
        C.row(
            BENCH,
            "window open until My digits and History are shown",
            new["shown_s"],
            "s",
            alt_name=alt,
            alt_value=fig("shown_s"),
        ),
        C.row(
            BENCH,
            "longest GUI stall while My digits and History fill",
            new["open_stall_ms"],
            "ms",
            alt_name=alt,
            alt_value=fig("open_stall_ms"),
            target=f"< {STALL_TARGET_MS:g} ms",
            met=new["open_stall_ms"] < STALL_TARGET_MS,
        ),
        C.row(
            BENCH,
            "longest GUI stall building the tabs (start-up step 2, the same for any store: pyqtgraph import)",
            new["build_stall_ms"],
            "ms",
            alt_name=alt,
            alt_value=fig("build_stall_ms"),
        ),
        C.row(
            BENCH,
            "longest GUI stall after saving a digit",
            new["save_stall_ms"],
            "ms",
            alt_name=alt,
            alt_value=fig("save_stall_ms"),
            target=f"< {STALL_TARGET_MS:g} ms",
            met=new["save_stall_ms"] < STALL_TARGET_MS,
        ),
        C.row(
            BENCH,
            "longest GUI stall after a run ends (History re-read)",
            new["run_ended_stall_ms"],
            "ms",
            alt_name=alt,
            alt_value=fig("run_ended_stall_ms"),
            target=f"< {STALL_TARGET_MS:g} ms",
            met=new["run_ended_stall_ms"] < STALL_TARGET_MS,
        ),
        C.row(
            BENCH,
            f"longest GUI stall importing {args.import_n:,} samples + a digit key",
            new["import_stall_ms"],
            "ms",
            alt_name=alt,
            alt_value=fig("import_stall_ms"),
            target=f"< {STALL_TARGET_MS:g} ms",
            met=new["import_stall_ms"] < STALL_TARGET_MS,
        ),
        C.row(
            BENCH,
            "a digit key during that import",
            new["key_during_import_s"] * 1e3,
            "ms",
            alt_name=alt,
            alt_value=None if old is None else old["key_during_import_s"] * 1e3,
        ),
    ]
    details = {
        "figures": figures,
        "store_made_s": made,
        "notes": [f"store of {size} made with executemany in {made:.1f} s"],
    }
    C.finish(NAME, rows, details, args, started)
    return 0


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main())
