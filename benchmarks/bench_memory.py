"""7. Memory: resident memory (VmRSS) of the window process idle and over train -> keep -> read cycles.

In this process: the window as `run_app` builds it (shown offscreen, everything built) with the
shipped model reads one drawn digit (idle RSS); then 20 cycles (quick: 2) of: a run started from
the window (the default 784-512-512-10 network, 1 epoch on 2 000 images, tested on the 10 000
test images, in the training process), its model measured and offered, kept
(`app.models.keep_candidate()`), then a digit drawn with the mouse and read with it. RSS of the
window process is sampled every 50 ms during each run (peak), and so is the training process's;
RSS is read after each cycle; growth per cycle is the slope of a least-squares line through
cycles 5..N (the first cycles warm caches up).

Beside it, in a separate process: the previous design, training in the window process. The same
window, the same cycles, but each run is `run_job` (the function the training process runs)
in a QThread of the window process, so Keras and TensorFlow live there; the model it saved is
then loaded and kept the same way, and a digit drawn and read.

    python benchmarks/bench_memory.py [--quick] [--cycles N] [--json out.json]
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from typing import Any

import _common as C
import _gui as G
import numpy as np
import strokes as S

NAME = "memory"
BENCH = "7 memory"
TRAIN_IMAGES = 2000
NOISE_MIB = 1.0  # growth per cycle accepted as noise (20 MiB over 20 cycles)


class RssSampler:
    """Reads this process's RSS (and another's) every `ms` milliseconds; keeps the maxima."""

    def __init__(self, ms: int = 50) -> None:
        from PySide6.QtCore import QTimer

        self.peak = 0.0
        self.child_peak = 0.0
        self.pid: int | None = None
        self.timer = QTimer()
        self.timer.setInterval(ms)
        self.timer.timeout.connect(self.sample)

    def sample(self) -> None:
        self.peak = max(self.peak, C.rss_mb())
        self.child_peak = max(self.child_peak, G.child_rss_mb(self.pid))

    def start(self) -> None:
        self.peak = C.rss_mb()
        self.child_peak = 0.0
        self.timer.start()

    def stop(self) -> tuple[float, float]:
        self.timer.stop()
        self.sample()
        return self.peak, self.child_peak


def _draw_and_read(app: Any, rng: np.random.Generator) -> None:
    strokes, pen = S.draw_digit(int(rng.integers(10)), rng)
    G.draw_digit(app, strokes, pen)
    G.process_events_for(0.05)


def malloc_trim() -> bool:
    """Ask glibc to return freed heap memory to the system (tells retention from leaks)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return True


def settle() -> float:
    gc.collect()
    G.process_events_for(0.2)
    return C.rss_mb()


def _spec() -> Any:
    from kpgui.core.model.spec import ModelSpec

    return ModelSpec(epochs=1, train_samples=TRAIN_IMAGES)


def measure_window(cycles: int) -> dict[str, Any]:
    """kpgui: runs from the window in the training process, kept, then a digit read."""
    G.load_gui()
    rng = np.random.default_rng(3)
    app = G.open_app()
    _draw_and_read(app, rng)
    idle = settle()
    sampler = RssSampler()
    per_cycle, peaks, child_peaks = [], [], []
    for _ in range(cycles):
        sampler.start()

        def watch_child() -> None:
            job = app.training.job
            if job is not None and sampler.pid is None:
                sampler.pid = job.process.pid

        sampler.pid = None
        G.train_in_window(app, _spec(), keep=True, on_tick=watch_child)
        peak, child = sampler.stop()
        peaks.append(peak)
        child_peaks.append(child)
        _draw_and_read(app, rng)
        per_cycle.append(settle())
    predictions = app.state.predictions
    model = app.state.model.source
    trimmed = settle() if malloc_trim() else None
    G.close_app(app)
    return {
        "idle_mb": idle,
        "cycles_mb": per_cycle,
        "peak_during_training_mb": peaks,
        "training_process_peak_mb": child_peaks,
        "vm_hwm_mb": C.hwm_mb(),
        "predictions": predictions,
        "model_at_end": model,
        "after_malloc_trim_mb": trimmed,
        "tensorflow_in_window_process": "tensorflow" in sys.modules,
    }


def measure_in_process(cycles: int) -> dict[str, Any]:
    """The previous design: the same cycles with run_job in a QThread of this process."""
    from PySide6.QtCore import QThread

    from kpgui.core.model.inference import Predictor
    from kpgui.core.state import CurrentModel
    from kpgui.core.training.jobs import TrainJob, run_job

    G.load_gui()
    rng = np.random.default_rng(3)
    app = G.open_app()
    _draw_and_read(app, rng)
    idle = settle()
    sampler = RssSampler()
    per_cycle, peaks = [], []
    for i in range(cycles):

        class Worker(QThread):
            outcome: Any = None

            def run(self) -> None:  # noqa: D401 - Qt's name
                self.outcome = run_job(TrainJob(_spec()))

        sampler.start()
        worker = Worker()
        worker.start()
        G.wait_until(worker.isFinished, 1800, step=0.02)
        peaks.append(sampler.stop()[0])
        outcome = worker.outcome
        if outcome is None or not outcome.usable:
            raise RuntimeError(f"in-process run {i + 1} gave no model")
        app.state.set_model(CurrentModel(Predictor.load(outcome.model_path), f"run {outcome.id}"))
        _draw_and_read(app, rng)
        per_cycle.append(settle())
    trimmed = settle() if malloc_trim() else None
    G.close_app(app)
    return {
        "idle_mb": idle,
        "cycles_mb": per_cycle,
        "peak_during_training_mb": peaks,
        "after_malloc_trim_mb": trimmed,
    }


CHILD = r"""
import json, os, sys
sys.path.insert(0, os.environ["KPGUI_BENCH_DIR"])
import bench_memory
print("RESULT " + json.dumps(bench_memory.measure_in_process(int(os.environ["KPGUI_BENCH_CYCLES"]))),
      flush=True)
"""


def run_in_process_child(cycles: int) -> dict[str, Any]:
    env = C.child_env()
    env.update(KPGUI_BENCH_DIR=str(C.BENCH_DIR), KPGUI_BENCH_CYCLES=str(cycles))
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=3600, cwd=str(C.ROOT)
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
    raise RuntimeError(f"in-process child failed ({proc.returncode}):\n{tail}")


def growth_per_cycle(values: list[float], skip: int = 4) -> float | None:
    """Slope (MiB per cycle) of a least-squares line through values[skip:] (or all if few)."""
    v = values[skip:] if len(values) - skip >= 3 else values
    if len(v) < 2:
        return None
    return float(np.polyfit(np.arange(len(v)), v, 1)[0])


def _first(n: int, skip: int = 4) -> int:
    """First cycle (1-based) growth_per_cycle uses for n cycles."""
    return skip + 1 if n - skip >= 3 else 1


def run(quick: bool, cycles: int | None) -> tuple[list, dict]:
    n = cycles or (2 if quick else 20)
    gui = measure_window(n)
    old = run_in_process_child(n)
    g_slope, o_slope = growth_per_cycle(gui["cycles_mb"]), growth_per_cycle(old["cycles_mb"])

    def kib(x: float | None) -> float | None:
        return None if x is None else x * 1024

    rows = [
        C.row(
            BENCH,
            "window process RSS idle (everything built, shipped model, one reading)",
            gui["idle_mb"],
            "MiB",
            alt_name="same window, previous design",
            alt_value=old["idle_mb"],
        ),
        C.row(
            BENCH,
            "window process RSS after cycle 1",
            gui["cycles_mb"][0],
            "MiB",
            alt_name="training in the window process",
            alt_value=old["cycles_mb"][0],
        ),
        C.row(
            BENCH,
            f"window process RSS after cycle {n}",
            gui["cycles_mb"][-1],
            "MiB",
            alt_name="training in the window process",
            alt_value=old["cycles_mb"][-1],
        ),
        C.row(
            BENCH,
            f"window process growth per train -> keep -> read cycle (slope, cycles {_first(n)}-{n})",
            kib(g_slope),
            "KiB",
            alt_name="training in the window process",
            alt_value=kib(o_slope),
            target=f"<= {NOISE_MIB * 1024:.0f} KiB/cycle",
            met=None if g_slope is None else g_slope <= NOISE_MIB,
        ),
        C.row(
            BENCH,
            "peak RSS during a run: window process / training process (first run)",
            gui["peak_during_training_mb"][0],
            "MiB",
            alt_name="training process",
            alt_value=gui["training_process_peak_mb"][0],
            show_ratio=False,
        ),
        C.row(
            BENCH,
            "peak RSS during the first run, window process",
            gui["peak_during_training_mb"][0],
            "MiB",
            alt_name="training in the window process",
            alt_value=old["peak_during_training_mb"][0],
        ),
    ]
    details = {
        "cycles": n,
        "window": gui,
        "in_process": old,
        "notes": [
            f"{n} cycles of: 1 epoch on {TRAIN_IMAGES} images from the window, test on "
            "10 000, measured and kept, a digit drawn and read. Window process RSS per "
            "cycle (MiB): " + ", ".join(f"{v:.0f}" for v in gui["cycles_mb"]),
            "Training in the window process (MiB): " + ", ".join(f"{v:.0f}" for v in old["cycles_mb"]),
            "Training process peak RSS per run (MiB): "
            + ", ".join(f"{v:.0f}" for v in gui["training_process_peak_mb"]),
            f"After the cycles and glibc malloc_trim(0): {gui['after_malloc_trim_mb']:.0f} "
            f"MiB (window), {old['after_malloc_trim_mb']:.0f} MiB (previous design). "
            f"TensorFlow in the window process: {gui['tensorflow_in_window_process']}.",
        ],
    }
    return rows, details


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument("--cycles", type=int, help="train/keep/read cycles (default 20, quick 2)")
    args = p.parse_args(argv)
    return G.run_and_report(NAME, args, lambda: run(args.quick, args.cycles))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
