"""7. Memory: resident memory (VmRSS) of the app idle, during training, and over train/predict cycles.

In this process: the window is shown with the shipped model and reads one drawn digit (idle RSS);
then 20 cycles (quick: 3) of a small training run from the window (1 epoch on 2000 images, the
default 784-512-512-10 network, evaluated on 1000 test images; the trained model replaces the
live one) followed by drawing a digit and predicting it. RSS is sampled every 50 ms while
training (peak) and read after each cycle; growth per cycle is the slope of a straight line
through cycles 5..N (the first cycles warm caches up). Beside it, in a separate process: the naive
app (Keras imported, model loaded with `keras.saving.load_model`, bare window) idle, then the
same cycles done with `build_model` + `model.fit` + `model.predict` directly.

    python benchmarks/bench_memory.py [--quick] [--cycles N] [--json out.json]
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from typing import Any

import _common as C
import _gui as G
import numpy as np
import strokes as S

NAME = "memory"
TRAIN_IMAGES = 2000
TEST_IMAGES = 1000
NOISE_MIB = 1.0  # growth per cycle accepted as noise (20 MiB over 20 cycles)

NAIVE_CHILD = r"""
import gc, json, os, sys
sys.path.insert(0, os.environ["KPGUI_BENCH_DIR"])
import numpy as np
import _common as C
import keras
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
from kpgui.core.network import build_model
from kpgui.core.spec import ModelSpec
app = QApplication(["naive"])
model = keras.saving.load_model(str(C.default_model_path()))
win = QMainWindow(); win.setCentralWidget(QLabel("naive")); win.show()
for _ in range(20):
    app.processEvents()
x = np.zeros((1, 784), np.float32); x[0, 300:320] = 1
model.predict(x, verbose=0)
out = {"idle_mb": C.rss_mb(), "cycles_mb": []}
xt, yt, _, _ = C.load_mnist()
n = int(os.environ["KPGUI_BENCH_TRAIN"])
xs = xt[:n].reshape(n, 784).astype(np.float32) / 255.0
ys = np.eye(10, dtype=np.float32)[yt[:n]]
for _ in range(int(os.environ["KPGUI_BENCH_CYCLES"])):
    model = build_model(ModelSpec(epochs=1))
    model.fit(xs, ys, batch_size=128, epochs=1, verbose=0)
    model.predict(x, verbose=0)
    app.processEvents()
    gc.collect()
    out["cycles_mb"].append(C.rss_mb())
out["peak_mb"] = C.hwm_mb()
out["cleared_cycles_mb"] = []  # the same, with keras.backend.clear_session() before each model
for _ in range(int(os.environ["KPGUI_BENCH_CYCLES"])):
    keras.backend.clear_session()
    model = build_model(ModelSpec(epochs=1))
    model.fit(xs, ys, batch_size=128, epochs=1, verbose=0)
    model.predict(x, verbose=0)
    app.processEvents()
    gc.collect()
    out["cleared_cycles_mb"].append(C.rss_mb())
try:
    import ctypes
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    out["after_malloc_trim_mb"] = C.rss_mb()
except (OSError, AttributeError):
    out["after_malloc_trim_mb"] = None
print("RESULT " + json.dumps(out), flush=True)
"""


class RssSampler:
    """Reads this process's RSS every `ms` milliseconds from a Qt timer; keeps the maximum."""

    def __init__(self, ms: int = 50) -> None:
        from PySide6.QtCore import QTimer

        self.peak = 0.0
        self.timer = QTimer()
        self.timer.setInterval(ms)
        self.timer.timeout.connect(self.sample)

    def sample(self) -> None:
        self.peak = max(self.peak, C.rss_mb())

    def start(self) -> None:
        self.peak = C.rss_mb()
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        self.sample()
        return self.peak


def _draw_and_predict(window: Any, rng: np.random.Generator) -> None:
    strokes, _pen = S.draw_digit(int(rng.integers(10)), rng)
    window.clear_canvas()
    G.draw(window, strokes)
    window.update_prediction()
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


def measure_gui(cycles: int) -> dict[str, Any]:
    from kpgui.core.spec import ModelSpec

    _app, window_cls = G.load_gui()
    rng = np.random.default_rng(3)
    x, y, xt, yt = C.load_mnist()
    data = (x[:TRAIN_IMAGES], y[:TRAIN_IMAGES], xt[:TEST_IMAGES], yt[:TEST_IMAGES])
    window = G.new_window(window_cls)
    window.show()
    G.process_events_for(0.5)
    _draw_and_predict(window, rng)
    idle = settle()
    spec = ModelSpec(epochs=1)
    sampler = RssSampler()
    per_cycle, peaks = [], []
    for _ in range(cycles):
        sampler.start()
        G.train_in_window(window, spec, data=data)
        peaks.append(sampler.stop())
        _draw_and_predict(window, rng)
        per_cycle.append(settle())
    predictions = window.predictions
    trimmed = settle() if malloc_trim() else None
    window.close()
    return {"idle_mb": idle, "cycles_mb": per_cycle, "peak_during_training_mb": peaks,
            "vm_hwm_mb": C.hwm_mb(), "predictions": predictions, "after_malloc_trim_mb": trimmed}


def measure_naive(cycles: int) -> dict[str, Any]:
    env = C.child_env()
    env.update(KPGUI_BENCH_DIR=str(C.BENCH_DIR), KPGUI_BENCH_CYCLES=str(cycles),
               KPGUI_BENCH_TRAIN=str(TRAIN_IMAGES))
    proc = subprocess.run([sys.executable, "-c", NAIVE_CHILD], env=env, capture_output=True,
                          text=True, timeout=3600, cwd=str(C.ROOT))
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
    raise RuntimeError(f"naive child failed ({proc.returncode}):\n{tail}")


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
    n = cycles or (3 if quick else 20)
    gui = measure_gui(n)
    naive = measure_naive(n)
    g_slope, n_slope = growth_per_cycle(gui["cycles_mb"]), growth_per_cycle(naive["cycles_mb"])
    c_slope = growth_per_cycle(naive["cleared_cycles_mb"])
    rows = [
        C.row("7 memory", "RSS idle (window, model, one prediction)", gui["idle_mb"], "MiB",
              alt_name="Keras app idle", alt_value=naive["idle_mb"]),
        C.row("7 memory", "peak RSS during training (first run)", gui["peak_during_training_mb"][0],
              "MiB", alt_name="plain fit loop peak", alt_value=naive["peak_mb"]),
        C.row("7 memory", f"RSS after cycle 1 / after cycle {n}", gui["cycles_mb"][0], "MiB",
              alt_name=f"after {n}", alt_value=gui["cycles_mb"][-1]),
        C.row("7 memory", f"growth per train/predict cycle (slope, cycles {_first(n)}-{n})",
              None if g_slope is None else g_slope * 1024, "KiB",
              alt_name="plain Keras loop", alt_value=None if n_slope is None else n_slope * 1024,
              target=f"<= {NOISE_MIB * 1024:.0f} KiB/cycle",
              met=None if g_slope is None else g_slope <= NOISE_MIB),
        C.row("7 memory", f"RSS after cycle {n}, then after glibc malloc_trim(0)",
              gui["cycles_mb"][-1], "MiB", alt_name="after trim",
              alt_value=gui["after_malloc_trim_mb"], note="diagnostic: freed but kept vs leaked"),
        C.row("7 memory", "plain Keras loop with keras.backend.clear_session() per model",
              None if c_slope is None else c_slope * 1024, "KiB", note="what a fix could reach"),
    ]
    details = {"cycles": n, "gui": gui, "naive": naive,
               "notes": [f"{n} cycles of: 1 epoch on {TRAIN_IMAGES} images from the window, "
                         f"evaluate on {TEST_IMAGES}, draw + predict. RSS per cycle (MiB): "
                         + ", ".join(f"{v:.0f}" for v in gui["cycles_mb"]),
                         "Naive per cycle (MiB): "
                         + ", ".join(f"{v:.0f}" for v in naive["cycles_mb"]),
                         "Naive with clear_session (MiB): "
                         + ", ".join(f"{v:.0f}" for v in naive["cleared_cycles_mb"])]}
    return rows, details


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument("--cycles", type=int, help="train/predict cycles (default 20, quick 3)")
    args = p.parse_args(argv)
    return G.run_and_report(NAME, args, lambda: run(args.quick, args.cycles))


if __name__ == "__main__":
    sys.exit(main())
