"""3. Training overhead: samples/s of a run started from the window (live plots) vs plain fit.

Both sides train the same spec (784-512-512-10 relu, rmsprop, batch 128, no validation split,
2 epochs; quick: 1 epoch) on the same MNIST images, in this one process, alternating order. The
GUI side calls `MainWindow.start_training(spec, data=..., evaluate=False)` on a shown
(offscreen) window and runs the Qt event loop until `training_finished`: the worker thread, the
per-batch signals, the live plots and the progress bar all run. The plain side calls
`build_model(spec)` and `model.fit(..., verbose=0)` directly. A third, diagnostic side runs
kpgui's `Trainer` without a window (its per-batch callbacks, a do-nothing listener), to tell
the cost of the callbacks from the cost of the window. Samples/s are counted end to end
(start -> trained model in hand, model building included) and for `fit` alone.

    python benchmarks/bench_training.py [--quick] [--samples N] [--epochs N] [--repeats N]
"""

from __future__ import annotations

import sys
import time
from typing import Any

import _common as C
import _gui as G
import numpy as np

NAME = "training"
TARGET_RATIO = 0.95


def plain_fit(spec: Any, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """build_model + model.fit on the same arrays, the way a script would do it."""
    from kpgui.core.data import to_model_input
    from kpgui.core.network import build_model

    t0 = time.perf_counter()
    steps = -(-len(x) // spec.batch_size)
    model = build_model(spec, steps_total=steps * spec.epochs)
    xin, yin = to_model_input(x), np.eye(10, dtype=np.float32)[y]
    t1 = time.perf_counter()
    model.fit(xin, yin, batch_size=spec.batch_size, epochs=spec.epochs, shuffle=True, verbose=0)
    t2 = time.perf_counter()
    n = len(x) * spec.epochs
    return {"end_to_end_s": t2 - t0, "fit_s": t2 - t1, "samples_per_s": n / (t2 - t0),
            "fit_samples_per_s": n / (t2 - t1)}


def trainer_fit(spec: Any, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """kpgui's Trainer without a window (its per-batch callbacks, a listener that does nothing)."""
    from kpgui.core.training import Trainer

    class Quiet:
        def on_batch(self, update: Any) -> None:
            pass

    empty = (np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))
    t0 = time.perf_counter()
    result = Trainer(spec, Quiet(), data=(x, y, *empty), evaluate=False).run()
    seconds = time.perf_counter() - t0
    n = len(x) * spec.epochs
    return {"end_to_end_s": seconds, "fit_s": result.wall_time, "samples_per_s": n / seconds,
            "fit_samples_per_s": n / result.wall_time}


def gui_fit(window: Any, spec: Any, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The same run started from the window, with the event loop (and the plots) running."""
    empty = (np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))
    redraws0 = getattr(window.training_plots, "redraws", 0)
    result, seconds = G.train_in_window(window, spec, data=(x, y, *empty), evaluate=False)
    n = len(x) * spec.epochs
    return {"end_to_end_s": seconds, "fit_s": result.wall_time, "samples_per_s": n / seconds,
            "fit_samples_per_s": n / result.wall_time,
            "plot_redraws": getattr(window.training_plots, "redraws", 0) - redraws0,
            "batches": -(-len(x) // spec.batch_size) * spec.epochs}


def run(quick: bool, samples: int | None, epochs: int | None, repeats: int | None):
    from kpgui.core.spec import ModelSpec

    app, window_cls = G.load_gui()
    x_train, y_train, _, _ = C.load_mnist()
    n = samples or (2000 if quick else 20000)
    spec = ModelSpec(epochs=epochs or (1 if quick else 2), validation_split=0.0)
    x, y = x_train[:n], y_train[:n]
    window = G.new_window(window_cls)
    window.show()
    G.process_events_for(0.3)
    # Warm-up, not measured: TensorFlow import and first graph tracing for both paths.
    plain_fit(spec.replace(epochs=1), x[:512], y[:512])
    trainer_fit(spec.replace(epochs=1), x[:512], y[:512])
    gui_fit(window, spec.replace(epochs=1), x[:512], y[:512])
    runs: dict[str, list[dict]] = {"plain": [], "trainer": [], "gui": []}
    sides = {"plain": lambda: plain_fit(spec, x, y), "trainer": lambda: trainer_fit(spec, x, y),
             "gui": lambda: gui_fit(window, spec, x, y)}
    for i in range(repeats or (1 if quick else 3)):
        order = ("plain", "gui", "trainer") if i % 2 == 0 else ("trainer", "gui", "plain")
        for side in order:
            runs[side].append(sides[side]())
    window.close()
    return _rows(runs), _details(spec, n, runs)


def _med(runs: list[dict], key: str) -> float:
    return C.median([r[key] for r in runs])


def _rows(runs: dict[str, list[dict]]) -> list[dict]:
    plain, gui, trainer = runs["plain"], runs["gui"], runs["trainer"]
    e2e = C.ratio(_med(gui, "samples_per_s"), _med(plain, "samples_per_s"))
    fit = C.ratio(_med(gui, "fit_samples_per_s"), _med(plain, "fit_samples_per_s"))
    return [
        C.row("3 training overhead", f"samples/s end to end, median of {len(gui)}",
              _med(gui, "samples_per_s"), "samples/s", alt_name="plain model.fit",
              alt_value=_med(plain, "samples_per_s"), target=f"ratio >= {TARGET_RATIO}",
              met=e2e is not None and e2e >= TARGET_RATIO),
        C.row("3 training overhead", "samples/s inside fit only", _med(gui, "fit_samples_per_s"),
              "samples/s", alt_name="plain model.fit", alt_value=_med(plain, "fit_samples_per_s"),
              ratio_value=fit),
        C.row("3 training overhead", "samples/s end to end, Trainer without window",
              _med(trainer, "samples_per_s"), "samples/s", alt_name="plain model.fit",
              alt_value=_med(plain, "samples_per_s"), note="diagnostic: callbacks only"),
    ]


def _details(spec: Any, n: int, runs: dict[str, list[dict]]) -> dict:
    gui = runs["gui"]
    return {
        "spec": spec.describe(), "train_images": n, "plain_runs": runs["plain"], "gui_runs": gui,
        "trainer_runs": runs["trainer"],
        "notes": [
            f"{spec.describe()}, {n} images, no validation, no test evaluation; window shown "
            f"offscreen; plots redrawn {gui[-1]['plot_redraws']} times in the last GUI run of "
            f"{gui[-1]['batches']} batches.",
        ],
    }


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, help="training images (default 20000, quick 2000)")
    p.add_argument("--epochs", type=int, help="epochs (default 2, quick 1)")
    p.add_argument("--repeats", type=int, help="rounds of runs, each side once (default 3, quick 1)")
    args = p.parse_args(argv)
    return G.run_and_report(NAME, args, lambda: run(args.quick, args.samples, args.epochs, args.repeats))


if __name__ == "__main__":
    sys.exit(main())
