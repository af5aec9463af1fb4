"""3. Training from the window: samples/s beside plain model.fit, and the training process's start-up.

Both sides train the same spec (784-512-512-10 relu, rmsprop, batch 128, no validation split,
2 epochs; quick: 1 epoch) on the same first N MNIST training images and then test on the 10 000
test images, alternating order. The kpgui side is a run started from the window
(`app.training.start(spec)` on the app as `run_app` builds it, shown offscreen, Qt's event
loop running): the training process (multiprocessing spawn), every batch sent up the pipe, the
live plots and the progress redrawn in the window, the model saved and recorded, then measured
beside the current one and offered. The plain side is a process of its own
(`python -c`) on the Keras backend the window trains on (the fastest installed, JAX here): import
Keras, load MNIST, `build_model(spec)` + `model.fit(..., verbose=0)`,
test with `model(x)`, `model.save`. Samples/s inside fit (the training process's own count;
for the plain side, the fit call's) is the headline; end to end and the training process's
fixed start-up (start -> first message -> Keras imported -> first batch) are reported apart,
since that start-up is paid by every run. The window's runs go to the training process it keeps
ready (the default: its imports and first compilation are done before Start); the cold start,
a process of its own per run, is timed by bench_worker and bench_backends.

    python benchmarks/bench_training.py [--quick] [--samples N] [--epochs N] [--repeats N]
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import _common as C
import _gui as G

NAME = "training"
BENCH = "3 training"
TARGET_RATIO = 0.95

PLAIN_CHILD = r"""
import json, os, sys, tempfile, time
T0 = float(os.environ["KPGUI_BENCH_T0"])
out = {"interpreter_s": time.time() - T0}
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras
out["keras_imported_s"] = time.time() - T0
from kpgui.core.data.arrays import as_model_input as to_model_input
from kpgui.core.data.mnist import load_mnist
from kpgui.core.model.network import build_model
from kpgui.core.model.spec import ModelSpec
spec = ModelSpec.from_dict(json.loads(os.environ["KPGUI_BENCH_SPEC"]))
x, y, xt, yt = load_mnist()
n = spec.train_samples or len(x)
x, y = to_model_input(x[:n]), np.eye(10, dtype=np.float32)[y[:n]]
steps = -(-n // spec.batch_size)
model = build_model(spec, steps_total=steps * spec.epochs)
out["fit_called_s"] = time.time() - T0
t0 = time.perf_counter()
model.fit(x, y, batch_size=spec.batch_size, epochs=spec.epochs, shuffle=True, verbose=0)
out["fit_s"] = time.perf_counter() - t0
xt = to_model_input(xt)
probs = np.concatenate([np.asarray(model(xt[i:i + 2048], training=False)) for i in range(0, len(xt), 2048)])
out["test_accuracy"] = float(np.mean(probs.argmax(axis=1) == yt))
with tempfile.TemporaryDirectory() as d:
    model.save(os.path.join(d, "plain.keras"))
out["end_to_end_s"] = time.time() - T0
out["samples"] = n * spec.epochs
print("RESULT " + json.dumps(out), flush=True)
"""


def plain_fit(spec: Any) -> dict[str, float]:
    """The plain side in a process of its own (spawned now, timed from just before)."""
    from kpgui.core.training.backends import resolve

    env = C.child_env()
    env["KERAS_BACKEND"] = resolve(None)  # what the window's runs train on
    env["KPGUI_BENCH_SPEC"] = json.dumps(spec.to_dict())
    env["KPGUI_BENCH_T0"] = repr(time.time())
    proc = subprocess.run(
        [sys.executable, "-c", PLAIN_CHILD],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        cwd=str(C.ROOT),
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            r = json.loads(line[7:])
            r["samples_per_s"] = r["samples"] / r["fit_s"]
            return r
    tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
    raise RuntimeError(f"plain model.fit child failed ({proc.returncode}):\n{tail}")


def gui_fit(app: Any, spec: Any) -> dict[str, Any]:
    """The same run started from the window, with the event loop (and the plots) running."""
    plots = app.panels.get("plots")
    redraws0 = getattr(plots, "redraws", 0)
    run = G.train_in_window(app, spec)
    o = run.outcome
    m = run.marks
    return {
        "samples_per_s": o.samples_per_second,
        "fit_s": o.wall_time,
        "test_accuracy": o.test_accuracy,
        "end_to_end_s": m["ended"],
        "first_message_s": run.ready_after,
        "tensorflow_imported_s": run.tensorflow_imported,
        "began_s": m.get("began"),
        "first_batch_s": m.get("first batch"),
        "process_gone_s": m.get("process gone"),
        "candidate_s": m.get("candidate"),
        "start_block_ms": 1e3 * run.start_block_s,
        "timings_in_process": o.timings,
        "batches_seen_by_window": run.batches,
        "plot_redraws": getattr(plots, "redraws", 0) - redraws0,
        "marks": m,
    }


def run(quick: bool, samples: int | None, epochs: int | None, repeats: int | None):
    from kpgui.core.model.spec import ModelSpec

    G.load_gui()
    n = samples or (2000 if quick else 20000)
    spec = ModelSpec(epochs=epochs or (1 if quick else 2), validation_split=0.0, patience=0, train_samples=n)
    app = G.open_app()
    if not quick:  # warm-up, not measured: disk cache and .pyc files for both sides
        warm = spec.replace(epochs=1, train_samples=512)
        gui_fit(app, warm)
        plain_fit(warm)
    runs: dict[str, list[dict]] = {"plain": [], "gui": []}
    for i in range(repeats or (1 if quick else 3)):
        for side in ("plain", "gui") if i % 2 == 0 else ("gui", "plain"):
            runs[side].append(plain_fit(spec) if side == "plain" else gui_fit(app, spec))
    G.close_app(app)
    return _rows(runs), _details(spec, n, runs)


def _med(runs: list[dict], key: str) -> float:
    return C.median([r[key] for r in runs if r.get(key) is not None])


def _rows(runs: dict[str, list[dict]]) -> list[dict]:
    plain, gui = runs["plain"], runs["gui"]
    fit = C.ratio(_med(gui, "samples_per_s"), _med(plain, "samples_per_s"))
    return [
        C.row(
            BENCH,
            f"samples/s inside fit, run from the window (median of {len(gui)})",
            _med(gui, "samples_per_s"),
            "samples/s",
            alt_name="plain model.fit, own process",
            alt_value=_med(plain, "samples_per_s"),
            target=f"ratio >= {TARGET_RATIO}",
            met=fit is not None and fit >= TARGET_RATIO,
        ),
        C.row(
            BENCH,
            "end to end: start -> model trained, tested, saved (kpgui: + recorded, in the window)",
            _med(gui, "end_to_end_s"),
            "s",
            alt_name="plain process: spawn -> saved",
            alt_value=_med(plain, "end_to_end_s"),
        ),
        C.row(
            BENCH,
            "warm training process: start() -> first message",
            _med(gui, "first_message_s"),
            "s",
            alt_name="plain: spawn -> Python running",
            alt_value=_med(plain, "interpreter_s"),
            show_ratio=False,
        ),
        C.row(
            BENCH,
            "warm training process: start() -> Keras and its backend imported",
            _med(gui, "tensorflow_imported_s"),
            "s",
            alt_name="plain: spawn -> Keras imported",
            alt_value=_med(plain, "keras_imported_s"),
        ),
        C.row(
            BENCH,
            "warm training process: start() -> first batch in the window",
            _med(gui, "first_batch_s"),
            "s",
            alt_name="plain: spawn -> model.fit called",
            alt_value=_med(plain, "fit_called_s"),
            show_ratio=False,
            note="fixed cost per run",
        ),
        C.row(
            BENCH,
            "after the run: outcome -> process gone / -> candidate measured and offered",
            _med([{"v": r["process_gone_s"] - r["end_to_end_s"]} for r in gui], "v"),
            "s",
            alt_name="candidate",
            alt_value=_med(
                [{"v": r["candidate_s"] - r["end_to_end_s"]} for r in gui if r["candidate_s"]], "v"
            ),
            show_ratio=False,
            note="diagnostic",
        ),
    ]


def _details(spec: Any, n: int, runs: dict[str, list[dict]]) -> dict:
    gui = runs["gui"]
    last = gui[-1]
    return {
        "spec": spec.describe(),
        "train_images": n,
        "plain_runs": runs["plain"],
        "gui_runs": gui,
        "notes": [
            f"{spec.describe()}, {n} images, no validation, test on 10 000; window shown offscreen; "
            f"plots redrawn {last['plot_redraws']} times in the last window run, which sent "
            f"{last['batches_seen_by_window']} batches up the pipe.",
            "Inside the training process (last run): "
            + ", ".join(f"{k} {v}" for k, v in (last.get("timings_in_process") or {}).items())
            + f"; starting the process blocked the GUI thread {last['start_block_ms']:.1f} ms.",
            "Test accuracy, window / plain (last runs): "
            f"{100 * (last['test_accuracy'] or 0):.2f} % / {100 * runs['plain'][-1]['test_accuracy']:.2f} %.",
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
