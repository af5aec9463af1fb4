"""4. Responsiveness while training: lateness of a 10 ms Qt timer during a GUI training run.

A precise 10 ms QTimer in the GUI thread records when it really fires; lateness = interval -
10 ms. Measured with the window idle, during a run started with `MainWindow.start_training`
(kpgui trains in a QThread; the first run in a process also imports TensorFlow and loads MNIST in
that thread, so the phase before the first batch is reported apart), and during the same run
done the naive way: `Trainer.run()` called in the GUI thread, its listener feeding the same plots
and calling `QApplication.processEvents()` after every batch (without that call the window would
freeze for the whole run).

    python benchmarks/bench_responsiveness.py [--quick] [--samples N] [--json out.json]
"""

from __future__ import annotations

import sys
import time
from typing import Any

import _common as C
import _gui as G

NAME = "responsiveness"
TARGET_P99_MS = 50.0
TEST_IMAGES = 2000


class _NaiveListener:
    """Feeds the window's plots from the GUI thread and keeps the loop alive by hand."""

    def __init__(self, window: Any) -> None:
        from PySide6.QtWidgets import QApplication

        self.plots = window.training_plots
        self.process = QApplication.processEvents

    def on_train_begin(self, start: Any) -> None:
        self.plots.reset(start.epochs)

    def on_batch(self, update: Any) -> None:
        self.plots.add_batch(update)
        self.process()

    def on_epoch(self, update: Any) -> None:
        self.plots.add_epoch(update)
        self.process()


def measure_idle(seconds: float) -> list[float]:
    timer = G.IntervalTimer(10)
    timer.start()
    G.process_events_for(seconds)
    timer.stop()
    return timer.lateness_ms()


def measure_gui_run(window: Any, spec: Any, data: tuple) -> dict[str, Any]:
    """Lateness during a window training run, split at the first batch signal."""
    from PySide6.QtCore import QTimer

    marks: dict[str, float] = {}

    def hook() -> None:
        session = window.training_session
        if session is not None:
            session.batch.connect(lambda _u: marks.setdefault("first_batch", time.perf_counter()))
            session.epoch.connect(lambda _u: marks.setdefault("first_epoch", time.perf_counter()))

    timer = G.IntervalTimer(10)
    timer.start()
    QTimer.singleShot(0, hook)  # runs right after start_training() returned
    t0 = time.perf_counter()
    result, seconds = G.train_in_window(window, spec, data=data)
    t1 = t0 + seconds
    timer.stop()
    first = marks.get("first_batch", t0)
    return {
        "whole": G.lateness_summary(timer.lateness_ms(t0, t1)),
        "before_first_batch": G.lateness_summary(timer.lateness_ms(t0, first)),
        "from_first_batch": G.lateness_summary(timer.lateness_ms(first, t1)),
        "seconds": seconds, "seconds_to_first_batch": first - t0,
        "test_accuracy": result.test_accuracy,
    }


def measure_naive_run(window: Any, spec: Any, data: tuple) -> dict[str, Any]:
    """The same run with Trainer.run() in the GUI thread (processEvents per batch)."""
    from PySide6.QtCore import QEventLoop, QTimer

    from kpgui.core.training import Trainer

    loop = QEventLoop()
    box: dict[str, float] = {}

    def train() -> None:
        box["t0"] = time.perf_counter()
        Trainer(spec, _NaiveListener(window), data=data).run()
        box["t1"] = time.perf_counter()
        loop.quit()

    timer = G.IntervalTimer(10)
    timer.start()
    QTimer.singleShot(20, train)
    loop.exec()
    timer.stop()
    return {"whole": G.lateness_summary(timer.lateness_ms(box["t0"], box["t1"] + 0.05)),
            "seconds": box["t1"] - box["t0"]}


def run(quick: bool, samples: int | None) -> tuple[list, dict]:
    from kpgui.core.spec import ModelSpec

    app, window_cls = G.load_gui()
    x, y, xt, yt = C.load_mnist()
    n = samples or (2000 if quick else 12000)
    data = (x[:n], y[:n], xt[:TEST_IMAGES], yt[:TEST_IMAGES])
    spec = ModelSpec(epochs=1 if quick else 2)
    window = G.new_window(window_cls)
    window.show()
    G.process_events_for(0.3)
    idle = G.lateness_summary(measure_idle(1.0 if quick else 3.0))
    gui = measure_gui_run(window, spec, data)  # first run: includes the TensorFlow import
    naive = measure_naive_run(window, spec, data)
    gui2 = None if quick else measure_gui_run(window, spec, data)
    window.close()
    return _rows(idle, gui, naive, gui2), {
        "spec": spec.describe(), "train_images": n, "idle": idle, "gui_first_run": gui,
        "gui_second_run": gui2, "naive_gui_thread": naive,
        "notes": [
            f"{spec.describe()} (10 % validation, test evaluation on {TEST_IMAGES} images), {n} images; "
            f"first GUI run took {gui['seconds']:.1f} s, {gui['seconds_to_first_batch']:.1f} s "
            "of it before the first batch (TensorFlow import, data, model).",
        ],
    }


def _rows(idle: dict, gui: dict, naive: dict, gui2: dict | None) -> list[dict]:
    w = gui["whole"]
    rows = [
        C.row("4 responsiveness", "p99 lateness, first GUI run (incl. TF import)", w["p99_ms"], "ms",
              alt_name="fit in GUI thread + processEvents", alt_value=naive["whole"]["p99_ms"],
              target=f"p99 <= {TARGET_P99_MS:g} ms", met=w["p99_ms"] <= TARGET_P99_MS),
        C.row("4 responsiveness", "max lateness, first GUI run", w["max_ms"], "ms",
              alt_name="fit in GUI thread", alt_value=naive["whole"]["max_ms"]),
        C.row("4 responsiveness", "p50 lateness, first GUI run", w["p50_ms"], "ms",
              alt_name="idle window", alt_value=idle["p50_ms"]),
        C.row("4 responsiveness", "p99 / max lateness before the first batch",
              gui["before_first_batch"]["p99_ms"], "ms", alt_name="max",
              alt_value=gui["before_first_batch"]["max_ms"], show_ratio=False),
        C.row("4 responsiveness", "p99 / max lateness from the first batch on",
              gui["from_first_batch"]["p99_ms"], "ms", alt_name="max",
              alt_value=gui["from_first_batch"]["max_ms"], show_ratio=False),
        C.row("4 responsiveness", "p99 lateness, idle window", idle["p99_ms"], "ms",
              alt_name="max", alt_value=idle["max_ms"], show_ratio=False),
    ]
    if gui2 is not None:
        w2 = gui2["whole"]
        rows.insert(2, C.row("4 responsiveness", "p99 lateness, second GUI run (TF loaded)",
                             w2["p99_ms"], "ms", alt_name="max", alt_value=w2["max_ms"], show_ratio=False,
                             target=f"p99 <= {TARGET_P99_MS:g} ms",
                             met=w2["p99_ms"] <= TARGET_P99_MS))
    return rows


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, help="training images (default 12000, quick 2000)")
    args = p.parse_args(argv)
    return G.run_and_report(NAME, args, lambda: run(args.quick, args.samples))


if __name__ == "__main__":
    sys.exit(main())
