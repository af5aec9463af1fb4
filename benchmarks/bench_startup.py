"""2. Start-up: process start -> main window shown, default model loaded, first prediction made.

Each run is a fresh `python -c` process (offscreen Qt unless a display is set). kpgui's child
goes the way the `kpgui` command goes (CLI parser, `make_app`, `MainWindow()` which loads the
shipped model, `show()`), then, from the running event loop, draws a digit with mouse events and
predicts it. The naive child imports Keras, loads the same model with `keras.saving.load_model`,
shows a bare window and predicts once with `model.predict`. Runs alternate; one unmeasured
warm-up run of each fills the disk cache. Time is wall clock from just before spawning the
process until it prints "ready".

    python benchmarks/bench_startup.py [--quick] [--runs N] [--json out.json]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import _common as C

NAME = "startup"
TARGET_S = 1.0

_PRELUDE = r"""
import os, sys, time
T0 = float(os.environ["KPGUI_BENCH_T0"])
def mark(name):
    print(f"MARK {name} {time.time() - T0:.4f}", flush=True)
mark("interpreter up")
"""

KPGUI_CHILD = _PRELUDE + r"""
import kpgui.cli
kpgui.cli.build_parser()  # what the `kpgui` command does before opening the window
from kpgui.ui.app import make_app
app = make_app(["kpgui"])
from kpgui.ui.app import show_main_window
from kpgui.ui.main_window import MainWindow  # noqa: F401 - counted as an import, not window time
mark("imports done")
window = show_main_window()  # exactly what run_app does; charts and panels follow next turn
mark("window built, model loaded")
from PySide6.QtCore import QTimer
window.repaint()  # the first paint, synchronously (queued work such as the charts waits)

def first_prediction():
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication
    mark("window shown")
    canvas = window.canvas
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
    window.update_prediction()  # the window's coalescing timer would do this within 16 ms
    window.repaint()  # the answer on screen
    if window.predictions < 1 or window.predictor is None:
        print("ERROR no prediction was made", flush=True)
    mark("ready")
    QTimer.singleShot(0, panels_ready)


def panels_ready():
    mark("panels installed")  # and the pyqtgraph charts built
    if window.prediction_view.bars is None:
        print("ERROR the bar chart was not built", flush=True)
    print(f"INFO insight_installed={getattr(window, 'insight', None) is not None}", flush=True)
    print(f"INFO tensorflow_imported={'tensorflow' in sys.modules} "
          f"keras_imported={'keras' in sys.modules} backend={window.predictor.backend}", flush=True)
    app.quit()

first_prediction()
app.exec()
"""

NAIVE_CHILD = _PRELUDE + r"""
import numpy as np
import keras
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
mark("imports done")
app = QApplication(["naive"])
model = keras.saving.load_model(os.environ["KPGUI_BENCH_MODEL"])
mark("window built, model loaded")
window = QMainWindow()
window.setCentralWidget(QLabel("naive"))
window.resize(1440, 880)
window.show()

def first_prediction():
    mark("window shown")
    x = np.zeros((1, 784), np.float32)
    x[0, 300:320] = 1.0
    model.predict(x, verbose=0)
    mark("ready")
    app.quit()

from PySide6.QtCore import QTimer
QTimer.singleShot(0, first_prediction)
app.exec()
"""

PYQTGRAPH_CHILD = _PRELUDE + r"""
import numpy
from PySide6 import QtCore, QtGui, QtWidgets
mark("numpy + Qt imported")
import pyqtgraph
mark("ready")
"""


def run_child(code: str, timeout: float = 180.0) -> dict:
    """Spawn one child; its phase marks (s since spawn) and the info it printed."""
    env = C.child_env()
    env["KPGUI_BENCH_MODEL"] = str(C.default_model_path())
    env["KPGUI_BENCH_T0"] = repr(time.time())
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=str(C.ROOT))
    marks, info, errors = {}, {}, []
    for line in proc.stdout.splitlines():
        if line.startswith("MARK "):
            name, value = line[5:].rsplit(" ", 1)
            marks[name] = float(value)
        elif line.startswith("INFO "):
            info.update(kv.split("=", 1) for kv in line[5:].split())
        elif line.startswith("ERROR "):
            errors.append(line[6:])
    if "ready" not in marks:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise RuntimeError(f"child exited ({proc.returncode}) without 'ready':\n{tail}")
    if errors:
        raise RuntimeError("; ".join(errors))
    return {"marks": marks, "info": info}


def _phase_medians(runs: list[dict]) -> dict[str, float]:
    names = runs[0]["marks"].keys()
    return {n: C.median([r["marks"][n] for r in runs]) for n in names}


def run(n_runs: int, warm_up: bool = True) -> tuple[list, dict]:
    if warm_up:  # disk cache, .pyc files
        run_child(KPGUI_CHILD)
        run_child(NAIVE_CHILD)
    ours, naive, pg = [], [], []
    for _ in range(n_runs):
        ours.append(run_child(KPGUI_CHILD))
        naive.append(run_child(NAIVE_CHILD))
        pg.append(run_child(PYQTGRAPH_CHILD))
    pg_import = C.median([r["marks"]["ready"] - r["marks"]["numpy + Qt imported"] for r in pg])
    ready = [r["marks"]["ready"] for r in ours]
    naive_ready = [r["marks"]["ready"] for r in naive]
    med, naive_med = C.median(ready), C.median(naive_ready)
    plural = "s" if n_runs != 1 else ""
    rows = [
        C.row("2 start-up", f"median to window + first prediction ({n_runs} run{plural})", med, "s",
              alt_name="Keras load_model + predict", alt_value=naive_med,
              target=f"<= {TARGET_S:g} s", met=med <= TARGET_S),
        C.row("2 start-up", "slowest run", max(ready), "s", alt_name="naive slowest",
              alt_value=max(naive_ready)),
        C.row("2 start-up", "until the pyqtgraph charts and insight panels are built too",
              C.median([r["marks"]["panels installed"] for r in ours]), "s", note="diagnostic"),
        C.row("2 start-up", "import pyqtgraph after numpy + Qt (separate process)",
              pg_import, "s", note="diagnostic"),
    ]
    phases = _phase_medians(ours)
    details = {
        "runs": n_runs, "kpgui_ready_s": ready, "naive_ready_s": naive_ready,
        "kpgui_phase_medians_s": phases, "naive_phase_medians_s": _phase_medians(naive),
        "kpgui_child_info": ours[-1]["info"], "pyqtgraph_import_s_median": pg_import,
        "notes": [
            "kpgui phases (median s since spawn): "
            + ", ".join(f"{k} {v:.3f}" for k, v in phases.items()),
            f"TensorFlow imported by kpgui at start-up: {ours[-1]['info'].get('tensorflow_imported')}"
            f" (prediction backend {ours[-1]['info'].get('backend')}).",
        ],
    }
    return rows, details


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, help="measured runs of each (default 7, quick 1)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    try:
        import kpgui.ui.main_window  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        return C.fail(C.gui_missing_message(exc), args, NAME)
    rows, details = run(args.runs or (1 if args.quick else 7), warm_up=not args.quick)
    C.finish(NAME, rows, details, args, t0)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
