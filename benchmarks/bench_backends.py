"""11. Training at the machine's limit: Keras backends, the machine's own limit, augmentation, and
Start -> first batch in a warm training process.

Measured in the same run, each side in a process of its own (Keras' backend is fixed per
process), one after the other:

* the machine's limit: a 2048x2048 float32 matrix product (NumPy's BLAS, all cores), GFLOP/s,
  divided by what one sample of the classic 784-512-512-10 network costs forward + backward
  (2 x 669 k multiply-adds forward, twice that backward: ~4.0 MFLOP) -> samples/s;
* samples/s inside `model.fit` of that network (RMSprop, batch 128, no validation) on each
  installed backend: plain Keras (`build_model(spec)` + `fit`), and kpgui's Trainer (every batch
  reported to a listener, Stop, TerminateOnNaN, CSV and TensorBoard logs);
* kpgui's Trainer with `--augment --elastic 0.6` beside without, on the default backend;
* the training process (kpgui.core.training.worker.serve, spawned as the window spawns it): cold
  (job given at the start: imports, then the run) and warm (imports and the rehearsal done,
  then the job sent): job sent -> first batch reported; the warm process's memory.

    python benchmarks/bench_backends.py [--quick] [--samples N] [--epochs N]
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import _common as C

NAME = "backends"
BENCH = "15 backends"
MFLOP_PER_SAMPLE = 6 * (784 * 512 + 512 * 512 + 512 * 10) / 1e6  # fwd 2x, bwd 4x multiply-adds
TARGET_OF_LIMIT = 0.60
TARGET_VS_TF = 1.8
TARGET_AUGMENT = 0.8
TARGET_WARM_S = 1.0

FIT_CHILD = r"""
import json, os, sys, time
from kpgui.core.training.backends import select
select(os.environ["KPGUI_BENCH_BACKEND"])
import numpy as np
import keras
from kpgui.core.data.arrays import as_model_input
from kpgui.core.data.mnist import load_mnist
from kpgui.core.model.network import build_model
from kpgui.core.model.spec import ModelSpec
from kpgui.core.training.trainer import Trainer
spec = ModelSpec.from_dict(json.loads(os.environ["KPGUI_BENCH_SPEC"]))
mode = os.environ["KPGUI_BENCH_MODE"]
x, y, xt, yt = load_mnist()
n = spec.train_samples
out = {"backend": keras.backend.backend()}
# Warm-up, not measured: compile the training step for both batch shapes the run uses (full
# batches and the epoch's last, partial one; JAX compiles once per shape).
warm = spec.replace(epochs=1, train_samples=2 * spec.batch_size + n % spec.batch_size)
if mode == "plain":
    xs, ys = as_model_input(x[:n]), np.eye(10, dtype=np.float32)[y[:n]]
    m = build_model(warm)
    m.fit(xs[:warm.train_samples], ys[:warm.train_samples], batch_size=spec.batch_size, epochs=1,
          verbose=0)
    m = build_model(spec)
    t0 = time.perf_counter()
    m.fit(xs, ys, batch_size=spec.batch_size, epochs=spec.epochs, shuffle=True, verbose=0)
    out["fit_s"] = time.perf_counter() - t0
    out["samples_per_s"] = n * spec.epochs / out["fit_s"]
    probs = np.asarray(m(as_model_input(xt), training=False))
    out["test_accuracy"] = float(np.mean(probs.argmax(1) == yt))
else:
    import tempfile
    Trainer(warm, data=(x, y, xt[:0], yt[:0]), evaluate=False).run()
    class Count:
        def on_batch(self, u):
            pass
    with tempfile.TemporaryDirectory() as d:
        r = Trainer(spec, Count(), data=(x, y, xt, yt), log_dir=d).run()
    out["fit_s"] = r.wall_time
    out["samples_per_s"] = r.samples_per_second
    out["test_accuracy"] = r.test_accuracy
print("RESULT " + json.dumps(out), flush=True)
"""


def machine_limit(size: int = 2048, repeats: int = 5) -> dict[str, float]:
    """GFLOP/s of a size x size float32 matrix product (best of `repeats`), and samples/s."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    gflops = 2 * size**3 / best / 1e9
    return {"gflops": gflops, "samples_per_s": gflops * 1e3 / MFLOP_PER_SAMPLE}


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def fit_child(backend: str, spec: Any, mode: str) -> dict[str, Any]:
    env = C.child_env()
    env.update(
        KPGUI_BENCH_BACKEND=backend,
        KPGUI_BENCH_SPEC=json.dumps(spec.to_dict()),
        KPGUI_BENCH_MODE=mode,
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    proc = subprocess.run(
        [sys.executable, "-c", FIT_CHILD],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        cwd=str(C.ROOT),
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
    raise RuntimeError(f"{backend} {mode} child failed ({proc.returncode}):\n{tail}")


def worker_start(backend: str, warm: bool) -> dict[str, Any]:
    """Job sent -> first batch, through kpgui.core.training.worker.serve in a spawned process."""
    import multiprocessing

    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.training.jobs import TrainJob
    from kpgui.core.training.worker import serve

    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    parent, child = ctx.Pipe(duplex=True)
    job = TrainJob(ModelSpec(epochs=1, train_samples=5000), backend=backend, record=False, logs=True)
    t0 = time.perf_counter()
    process = ctx.Process(target=serve, args=(child, stop, None, backend, None if warm else job), daemon=True)
    process.start()
    child.close()
    out: dict[str, Any] = {}
    try:
        if warm:
            while True:
                kind, value = parent.recv()
                if kind == "ready":
                    out["ready_s"] = time.perf_counter() - t0
                    out["rss_mb_ready"] = value["rss_mb"]
                    break
            time.sleep(1.0)  # idle, as a window is before Start
            t0 = time.perf_counter()
            parent.send(("job", job))
        while True:
            kind, value = parent.recv()
            if kind == "batch" and "first_batch_s" not in out:
                out["first_batch_s"] = time.perf_counter() - t0
                stop.set()
            if kind in ("outcome", "error"):
                break
        out["rss_mb_after_run"] = _rss(process.pid)
        parent.send(("quit", None))
        process.join(30)
    finally:
        if process.is_alive():
            process.kill()
    return out


def _rss(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run(quick: bool, samples: int | None, epochs: int | None) -> tuple[list, dict]:
    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.training import backends

    n = samples or (6000 if quick else 20000)
    spec = ModelSpec(epochs=epochs or (1 if quick else 2), validation_split=0.0, train_samples=n, seed=1)
    have = backends.available()
    default = backends.resolve("auto")
    limit = machine_limit()
    results: dict[str, Any] = {"limit": limit, "spec": spec.describe(), "train_images": n}
    for b in have:
        if b == "torch":
            continue
        results[f"plain_{b}"] = fit_child(b, spec, "plain")
        results[f"kpgui_{b}"] = fit_child(b, spec, "kpgui")
    results["kpgui_augmented"] = fit_child(default, spec.replace(augment=True, elastic=0.6), "kpgui")
    results["cold"] = worker_start(default, warm=False)
    results["warm"] = worker_start(default, warm=True)
    results["limit_after"] = machine_limit()
    return _rows(results, default), {**results, "notes": _notes(results, default)}


def _sps(results: dict, key: str) -> float | None:
    r = results.get(key)
    return None if r is None else r["samples_per_s"]


def _rows(r: dict, default: str) -> list[dict]:
    limit = r["limit"]["samples_per_s"]
    k_default, p_tf = _sps(r, f"kpgui_{default}"), _sps(r, "plain_tensorflow")
    aug = _sps(r, "kpgui_augmented")
    rows = [
        C.row(
            BENCH,
            "machine limit: 2048² float32 matmul / 4.0 MFLOP per sample",
            limit,
            "samples/s",
            alt_name="GFLOP/s",
            alt_value=r["limit"]["gflops"],
            show_ratio=False,
        ),
        C.row(
            BENCH,
            f"kpgui Trainer on {default} (default) vs the machine limit",
            k_default,
            "samples/s",
            alt_name="limit",
            alt_value=limit,
            target=f"ratio >= {TARGET_OF_LIMIT}",
            met=k_default is not None and k_default / limit >= TARGET_OF_LIMIT,
        ),
        C.row(
            BENCH,
            f"kpgui Trainer on {default} vs plain Keras-on-TensorFlow fit",
            k_default,
            "samples/s",
            alt_name="plain TF fit",
            alt_value=p_tf,
            target=f"ratio >= {TARGET_VS_TF}",
            met=None if p_tf is None or k_default is None else k_default / p_tf >= TARGET_VS_TF,
        ),
    ]
    for b in ("jax", "tensorflow"):
        if f"plain_{b}" in r:
            rows.append(
                C.row(
                    BENCH,
                    f"kpgui Trainer on {b} (callbacks, logs)",
                    _sps(r, f"kpgui_{b}"),
                    "samples/s",
                    alt_name=f"plain {b} fit",
                    alt_value=_sps(r, f"plain_{b}"),
                )
            )
    rows += [
        C.row(
            BENCH,
            "--augment --elastic 0.6 vs no augmentation (kpgui Trainer, default backend)",
            aug,
            "samples/s",
            alt_name="no augmentation",
            alt_value=k_default,
            target=f"ratio >= {TARGET_AUGMENT}",
            met=None if aug is None or not k_default else aug / k_default >= TARGET_AUGMENT,
        ),
        C.row(
            BENCH,
            "training process: job sent -> first batch, warm (imports + rehearsal done)",
            r["warm"].get("first_batch_s"),
            "s",
            alt_name="cold (imports after the job)",
            alt_value=r["cold"].get("first_batch_s"),
            target=f"warm <= {TARGET_WARM_S}",
            met=(r["warm"].get("first_batch_s") or 99) <= TARGET_WARM_S,
        ),
        C.row(
            BENCH,
            "warm training process memory (RSS, ready / after a run)",
            r["warm"].get("rss_mb_ready"),
            "MB",
            alt_name="after a run",
            alt_value=r["warm"].get("rss_mb_after_run"),
            show_ratio=False,
        ),
    ]
    return rows


def _notes(r: dict, default: str) -> list[str]:
    acc = ", ".join(
        f"{k}: {100 * v['test_accuracy']:.2f} %"
        for k, v in r.items()
        if isinstance(v, dict) and v.get("test_accuracy") is not None
    )
    return [
        f"{r['spec']}, {r['train_images']} images, no validation; each side in its own process, one "
        f"after the other, after a warm-up fit (compiles both batch shapes) in that process.",
        f"Machine limit measured before and after: {r['limit']['gflops']:.0f} / "
        f"{r['limit_after']['gflops']:.0f} GFLOP/s (a difference means the machine was shared).",
        f"Test accuracy: {acc}.",
        f"Warm process ready {r['warm'].get('ready_s', 0):.1f} s after it was started (in the "
        "background, while the window is idle).",
    ]


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, help="training images (default 20000, quick 6000)")
    p.add_argument("--epochs", type=int, help="epochs (default 2, quick 1)")
    args = p.parse_args(argv)
    started = time.perf_counter()
    rows, details = run(args.quick, args.samples, args.epochs)
    C.finish(NAME, rows, details, args, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
