"""2. Start-up: process start -> window painted with a first prediction, and -> everything built.

Each run is a fresh `python -c` process (offscreen Qt unless a display is set). kpgui's child
goes the way the `kpgui` command goes: CLI parser, `kpgui.ui.app.show_main_window()` (build and
show, what `run_app` does), then Qt's event loop. When the canvas is first painted, a digit is
drawn with mouse events, read (`app.drawing.render_now()`: strokes -> reading -> panels) and
the window repainted: "ready". "Everything built" is `App.built_at` (the charts, History,
Evaluation, Weights and My digits tabs, built on the loop's first turn). The naive child imports
Keras, loads the same model with `keras.saving.load_model`, shows a bare window and predicts once
with `model.predict`. Runs alternate; one unmeasured warm-up run of each fills the disk cache.
Time is wall clock from just before spawning the process.

Diagnostics: the same kpgui child with its first paint forced before the loop starts (a
synchronous `window.repaint()` after `show_main_window()`: where the two-step start-up puts the
first prediction when the paint comes first), and a profile child that splits the time into
interpreter, imports (numpy, Qt, kpgui's modules), window and model, and each piece of the
second step (pyqtgraph's import, each tab's import and construction, the database).

    python benchmarks/bench_startup.py [--quick] [--runs N] [--json out.json]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import _common as C

NAME = "startup"
BENCH = "2 start-up"
TARGET_S = 1.0

_PRELUDE = r"""
import os, sys, time
T0 = float(os.environ["KPGUI_BENCH_T0"])
def mark(name):
    print(f"MARK {name} {time.time() - T0:.4f}", flush=True)
mark("interpreter up")
"""

KPGUI_CHILD = (
    _PRELUDE
    + r"""
import kpgui.cli  # the `kpgui` command's module; with no arguments it builds no parser
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # what `kpgui` with no arguments sets
from kpgui.ui.app import show_main_window
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
mark("imports done")
app = show_main_window()  # build_app() + show(), exactly what run_app does
mark("window built and shown")
qapp = QApplication.instance()
canvas = app.panels["drawing"].canvas
seen = {}

def built():
    mark("everything built")
    seen["built"] = True
    if "ready" in seen:
        qapp.quit()

app.built.done.connect(built)

def first_prediction():
    s = min(canvas.width(), canvas.height()) / 400.0
    pts = [(110 + 2.4 * i, 100) for i in range(80)] + [(300 - 1.6 * i, 100 + 3.2 * i) for i in range(80)]
    def send(kind, x, y):
        p = QPointF(x * s, y * s)
        release = kind == QEvent.Type.MouseButtonRelease
        buttons = Qt.MouseButton.NoButton if release else Qt.MouseButton.LeftButton
        ev = QMouseEvent(kind, p, canvas.mapToGlobal(p), Qt.MouseButton.LeftButton, buttons,
                         Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(canvas, ev)
    send(QEvent.Type.MouseButtonPress, *pts[0])
    for x, y in pts[1:]:
        send(QEvent.Type.MouseMove, x, y)
    send(QEvent.Type.MouseButtonRelease, *pts[-1])
    app.drawing.render_now()  # the drawing controller's frame timer would do this within 16 ms
    app.window.repaint()  # the answer on screen
    if app.state.predictions < 1 or app.state.reading is None:
        print("ERROR no prediction was made", flush=True)
    mark("ready")
    print(f"INFO built_before_ready={app.built_at is not None} "
          f"pyqtgraph_imported_at_ready={'pyqtgraph' in sys.modules} "
          f"tensorflow_imported={'tensorflow' in sys.modules} keras_imported={'keras' in sys.modules} "
          f"answer={app.state.reading.digit if app.state.reading else None}", flush=True)
    seen["ready"] = True
    if "built" in seen:
        qapp.quit()

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "painted" not in seen:
            seen["painted"] = True
            mark("first paint")
            QTimer.singleShot(0, first_prediction)
        return False

watch = FirstPaint()
canvas.installEventFilter(watch)
if os.environ.get("KPGUI_BENCH_FORCE_PAINT") == "1":
    app.window.repaint()  # the first paint now, before the loop's first turn (diagnostic)
    first_prediction()
QTimer.singleShot(60000, qapp.quit)
qapp.exec()
app.window.close_guard = lambda: True
app.window.close()
"""
)

NAIVE_CHILD = (
    _PRELUDE
    + r"""
import numpy as np
import keras
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
mark("imports done")
app = QApplication(["naive"])
model = keras.saving.load_model(os.environ["KPGUI_BENCH_MODEL"])
window = QMainWindow()
window.setCentralWidget(QLabel("naive"))
window.resize(1400, 860)
window.show()
mark("window built and shown")

def first_prediction():
    mark("first paint")
    x = np.zeros((1, 784), np.float32)
    x[0, 300:320] = 1.0
    model.predict(x, verbose=0)
    mark("ready")
    mark("everything built")
    app.quit()

from PySide6.QtCore import QTimer
QTimer.singleShot(0, first_prediction)
app.exec()
"""
)

PROFILE_CHILD = (
    _PRELUDE
    + r"""
def timed_import(label, fn):
    t = time.perf_counter(); fn(); print(f"PART {label} {time.perf_counter() - t:.4f}", flush=True)

timed_import("import numpy", lambda: __import__("numpy"))
def qt():
    from PySide6 import QtCore, QtGui, QtWidgets  # noqa: F401
timed_import("import PySide6 QtCore/QtGui/QtWidgets", qt)
def cli():
    import kpgui.cli  # noqa: F401  (with no arguments `kpgui` builds no parser)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
timed_import("import kpgui.cli", cli)
timed_import("import kpgui.ui.app (kpgui's window modules)", lambda: __import__("kpgui.ui.app"))
import kpgui.ui.app as A
from kpgui.ui.controllers.models import ModelController
from kpgui.ui.window import MainWindow
from kpgui.ui.panels.prediction import PredictionPanel
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

PARTS = {}
def wrap(owner, name, label):
    orig = getattr(owner, name)
    def timed(*a, **k):
        t = time.perf_counter()
        try:
            return orig(*a, **k)
        finally:
            PARTS[label] = PARTS.get(label, 0.0) + time.perf_counter() - t
    setattr(owner, name, timed)

wrap(ModelController, "load_shipped_now", "step 1: shipped model loaded (NumPy)")
orig_phase_two = A._build_phase_two
def phase_two(*args):
    t_all = time.perf_counter()
    from kpgui.ui import charts
    timed_import("step 2: import pyqtgraph", charts.pyqtgraph)
    import importlib
    for mod in ("training_plots", "evaluation", "weights", "history", "samples", "finetune"):
        timed_import(f"step 2: import kpgui.ui.panels.{mod}",
                     lambda m=mod: importlib.import_module(f"kpgui.ui.panels.{m}"))
    timed_import(
        "step 2: import kpgui.core.storage.store", lambda: importlib.import_module("kpgui.core.storage.store")
    )
    import kpgui.ui.panels.training_plots as TP, kpgui.ui.panels.evaluation as EV
    import kpgui.ui.panels.weights as WE, kpgui.ui.panels.history as HI
    wrap(PredictionPanel, "build_chart", "step 2: probability chart built")
    wrap(TP, "TrainingPlots", "step 2: training plots built")
    wrap(EV, "EvaluationPanel", "step 2: Evaluation tab built")
    wrap(WE, "WeightsPanel", "step 2: Weights tab built")
    wrap(HI, "HistoryPanel", "step 2: History tab built")
    wrap(A, "_my_digits", "step 2: My digits tab built")
    wrap(A, "open_default_store", "step 2: database opened")
    wrap(MainWindow, "fit_dock", "step 2: dock re-laid out (fit_dock)")
    t = time.perf_counter()
    orig_phase_two(*args)
    PARTS["step 2: the rest"] = time.perf_counter() - t - sum(
        v for k, v in PARTS.items() if k.startswith("step 2:"))
    print(f"PART step 2 total (from its start) {time.perf_counter() - t_all:.4f}", flush=True)
A._build_phase_two = phase_two

mark("imports done")
t = time.perf_counter()
A.make_qapp()
print(f"PART step 1: QApplication {time.perf_counter() - t:.4f}", flush=True)
t = time.perf_counter()
app = A.build_app()
app.window.show()
print(f"PART step 1: build_app() + show() {time.perf_counter() - t:.4f}", flush=True)
mark("window built and shown")
qapp = QApplication.instance()

SEEN = set()
def seen(what):
    SEEN.add(what)
    mark(what)
    if {"first paint", "everything built"} <= SEEN:
        QTimer.singleShot(0, qapp.quit)

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "first paint" not in SEEN:
            seen("first paint")
        return False

watch = FirstPaint()
app.panels["drawing"].canvas.installEventFilter(watch)
app.built.done.connect(lambda: seen("everything built"))
QTimer.singleShot(60000, qapp.quit)
qapp.exec()
for k, v in PARTS.items():
    print(f"PART {k} {v:.4f}", flush=True)
mark("ready")
app.window.close_guard = lambda: True
app.window.close()
"""
)


def run_child(
    code: str, timeout: float = 180.0, extra_env: dict | None = None, python_args: tuple[str, ...] = ()
) -> dict:
    """Spawn one child; its phase marks (s since spawn), parts and the info it printed."""
    env = C.child_env()
    env["KPGUI_BENCH_MODEL"] = str(C.default_model_path())
    env.update(extra_env or {})
    env["KPGUI_BENCH_T0"] = repr(time.time())
    proc = subprocess.run(
        [sys.executable, *python_args, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(C.ROOT),
    )
    marks, info, parts, errors = {}, {}, {}, []
    for line in proc.stdout.splitlines():
        if line.startswith("MARK "):
            name, value = line[5:].rsplit(" ", 1)
            marks.setdefault(name, float(value))
        elif line.startswith("PART "):
            name, value = line[5:].rsplit(" ", 1)
            parts[name] = float(value)
        elif line.startswith("INFO "):
            info.update(kv.split("=", 1) for kv in line[5:].split())
        elif line.startswith("ERROR "):
            errors.append(line[6:])
    if "ready" not in marks:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise RuntimeError(f"child exited ({proc.returncode}) without 'ready':\n{tail}")
    if errors:
        raise RuntimeError("; ".join(errors))
    return {"marks": marks, "info": info, "parts": parts, "stderr": proc.stderr}


def _median_marks(runs: list[dict]) -> dict[str, float]:
    names = runs[0]["marks"].keys()
    return {n: C.median([r["marks"][n] for r in runs if n in r["marks"]]) for n in names}


def import_profile() -> dict[str, float]:
    """Import time of the kpgui child by package (python -X importtime, self times summed, ms):
    numpy, Qt (PySide6 + shiboken), pyqtgraph, kpgui, h5py, everything else."""
    res = run_child(KPGUI_CHILD, python_args=("-X", "importtime"))
    groups = {
        "PySide6": "Qt (PySide6, shiboken6)",
        "shiboken6": "Qt (PySide6, shiboken6)",
        "shibokensupport": "Qt (PySide6, shiboken6)",
        "numpy": "numpy",
        "pyqtgraph": "pyqtgraph",
        "kpgui": "kpgui's own modules",
        "h5py": "h5py (reading the model)",
    }
    out: dict[str, float] = {}
    for line in res["stderr"].splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:") :].split("|")
        try:
            self_us = int(parts[0])
        except ValueError:
            continue
        root = parts[2].strip().split(".")[0]
        group = groups.get(root, "standard library and others")
        out[group] = out.get(group, 0.0) + self_us / 1e3
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def run(n_runs: int, warm_up: bool = True) -> tuple[list, dict]:
    if warm_up:  # disk cache, .pyc files
        run_child(KPGUI_CHILD)
        run_child(NAIVE_CHILD)
    ours, forced, naive, prof = [], [], [], []
    for _ in range(n_runs):
        ours.append(run_child(KPGUI_CHILD))
        naive.append(run_child(NAIVE_CHILD))
        forced.append(run_child(KPGUI_CHILD, extra_env={"KPGUI_BENCH_FORCE_PAINT": "1"}))
    for _ in range(max(1, min(3, n_runs))):
        prof.append(run_child(PROFILE_CHILD))
    imports = import_profile()

    def med(runs: list[dict], mark: str) -> float:
        return C.median([r["marks"][mark] for r in runs])

    ready = [r["marks"]["ready"] for r in ours]
    built = [r["marks"]["everything built"] for r in ours]
    naive_ready = [r["marks"]["ready"] for r in naive]
    painted_first = sum(r["marks"]["first paint"] < r["marks"]["everything built"] for r in ours)
    plural = "s" if n_runs != 1 else ""
    rows = [
        C.row(
            BENCH,
            f"median to window + first prediction ({n_runs} run{plural})",
            C.median(ready),
            "s",
            alt_name="Keras load_model + predict",
            alt_value=C.median(naive_ready),
            target=f"<= {TARGET_S:g} s",
            met=C.median(ready) <= TARGET_S,
        ),
        C.row(
            BENCH,
            "median to everything built (App.built_at: charts and every tab)",
            C.median(built),
            "s",
            alt_name="Keras app ready",
            alt_value=C.median(naive_ready),
            target=f"<= {TARGET_S:g} s",
            met=C.median(built) <= TARGET_S,
        ),
        C.row(
            BENCH,
            "slowest run to first prediction",
            max(ready),
            "s",
            alt_name="naive slowest",
            alt_value=max(naive_ready),
        ),
        C.row(
            BENCH,
            f"first paint of the window (painted before everything was built in "
            f"{painted_first} of {n_runs} runs)",
            med(ours, "first paint"),
            "s",
            alt_name="everything built",
            alt_value=C.median(built),
            note="diagnostic",
        ),
        C.row(
            BENCH,
            "window + first prediction with the first paint forced before step 2",
            med(forced, "ready"),
            "s",
            alt_name="its everything built",
            alt_value=med(forced, "everything built"),
            note="diagnostic: what the two-step start-up gives when the paint comes first",
        ),
    ]
    breakdown = _breakdown(prof)
    for label, seconds in _summary(breakdown):
        rows.append(C.row(BENCH, f"where the time goes: {label}", seconds, "s", note="profile child"))
    phases = _median_marks(ours)
    details = {
        "runs": n_runs,
        "kpgui_ready_s": ready,
        "kpgui_built_s": built,
        "naive_ready_s": naive_ready,
        "forced_paint_ready_s": [r["marks"]["ready"] for r in forced],
        "kpgui_phase_medians_s": phases,
        "naive_phase_medians_s": _median_marks(naive),
        "forced_paint_phase_medians_s": _median_marks(forced),
        "profile_breakdown_s": dict(breakdown),
        "profile_runs": [r["parts"] for r in prof],
        "profile_marks": [r["marks"] for r in prof],
        "heaviest_imports": imports,
        "kpgui_child_info": ours[-1]["info"],
        "notes": [
            "kpgui phases (median s since spawn): " + ", ".join(f"{k} {v:.3f}" for k, v in phases.items()),
            f"First paint before everything was built in {painted_first} of {n_runs} runs (the "
            "second step starts from the window's first paint, so the window and the first "
            "prediction come before the charts and tabs).",
            "Import time of the kpgui child by package (python -X importtime, ms): "
            + ", ".join(f"{k} {v:.0f}" for k, v in imports.items()),
            "Start-up parts (profile child, median s): " + "; ".join(f"{k} {v:.3f}" for k, v in breakdown),
            f"TensorFlow imported by the window at start-up: {ours[-1]['info'].get('tensorflow_imported')}.",
        ],
    }
    return rows, details


def _breakdown(prof: list[dict]) -> list[tuple[str, float]]:
    """Median seconds of each part of the start-up, in order, from the profile children."""

    def med_mark(name: str) -> float:
        return C.median([r["marks"][name] for r in prof])

    def med_part(name: str) -> float:
        return C.median([r["parts"].get(name, 0.0) for r in prof])

    out = [("interpreter start (spawn -> first line of Python)", med_mark("interpreter up"))]
    names = list(prof[0]["parts"])
    step1 = [n for n in names if not n.startswith("step")]
    out += [(n, med_part(n)) for n in step1]
    out += [(n, med_part(n)) for n in names if n.startswith("step 1")]
    model = med_part("step 1: shipped model loaded (NumPy)")
    out = [(k, v - model if k.startswith("step 1: build_app") else v) for k, v in out]
    out = [(k.replace("build_app() + show()", "build_app() + show() without the model"), v) for k, v in out]
    out.append(("first paint, after step 1", med_mark("first paint") - med_mark("window built and shown")))
    out += [(n, med_part(n)) for n in names if n.startswith("step 2") and "total" not in n]
    out.append(("total to first paint", med_mark("first paint")))
    out.append(("total to everything built", med_mark("everything built")))
    return out


def _summary(parts: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """The breakdown in a few lines for the table (the whole list is in the notes)."""
    d = dict(parts)

    def total(pred) -> float:
        return sum(v for k, v in parts if pred(k))

    step2_import_panels = total(lambda k: k.startswith("step 2: import kpgui"))
    return [
        (
            "interpreter + imports (numpy, Qt, kpgui.cli parser, kpgui.ui.app)",
            total(lambda k: not k.startswith(("step", "first", "total"))),
        ),
        ("step 1: QApplication, window, shipped model", total(lambda k: k.startswith("step 1"))),
        ("step 2: import pyqtgraph", d.get("step 2: import pyqtgraph", 0.0)),
        ("step 2: import kpgui's chart and tab modules", step2_import_panels),
        (
            "step 2: build charts, tabs, database",
            total(lambda k: k.startswith("step 2:") and "import" not in k),
        ),
        ("first paint, after step 1 and before step 2", d.get("first paint, after step 1", 0.0)),
    ]


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, help="measured runs of each (default 7, quick 1)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    try:
        import kpgui.ui.app  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        return C.fail(C.gui_missing_message(exc), args, NAME)
    rows, details = run(args.runs or (1 if args.quick else 7), warm_up=not args.quick)
    C.finish(NAME, rows, details, args, t0)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
