"""11. Training at the machine's limit: Keras backends, the machine's own limit, augmentation, and
Start -> first batch in a warm training process.

Measured in the same run, each side in a process of its own (Keras' backend is fixed per
process), one after the other:

* the machine's limit: a 2048x2048 float32 matrix product (NumPy's BLAS, all cores), GFLOP/s,
  divided by what one sample of the classic 784-512-512-10 network costs forward + backward
  (2 x 669 k multiply-adds forward, twice that backward: ~4.0 MFLOP) -> samples/s; measured
  before and after the trainings, the higher one counts;
* kpgui the window's way: the recipe as a job sent to a warm training process
  (kpgui.core.training.worker.serve in a spawned process, imports and rehearsal done, every report read
  from the pipe as the window reads it; TensorBoard and CSV logs, layer stats, Stop, the
  divergence guard, validation, saving): samples/s inside `fit` as the run reports it;
* the same network and data in plain Keras (`build_model(spec)` + `fit` with the same
  validation set, no callbacks) in a process of its own, on each installed backend;
* diagnostics, on JAX: the same train step in plain JAX without Keras, on both cores and pinned
  to one (where the machine's limit is lost: Keras' `fit` or XLA's threads);
* kpgui's recipe with `--augment --elastic 0.6` beside without, the window's way;
* the training process: cold (job given at the start: imports, then the run) and warm
  (imports and the rehearsal done, then the job sent): job sent -> first batch reported; the
  warm process's memory.

The default recipe is the classic one the targets name (20 epochs of 54,000 images, 10 %
validation; several minutes on 2 cores); --quick trains 1 epoch of 6,000. Each side also reports
its CPU seconds per sample (all its threads): on a shared machine wall-clock rates move with the
load, CPU time much less, so compare both.

    python benchmarks/bench_backends.py [--quick] [--samples N] [--epochs N]
"""

from __future__ import annotations

import json
import os
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
spec = ModelSpec.from_dict(json.loads(os.environ["KPGUI_BENCH_SPEC"]))
x, y, xt, yt = load_mnist()
n = spec.train_samples or len(x)
n_val = int(n * spec.validation_split)
eye = np.eye(10, dtype=np.float32)
xs, ys = as_model_input(x[: n - n_val]), eye[y[: n - n_val]]
val = (as_model_input(x[n - n_val : n]), eye[y[n - n_val : n]]) if n_val else None
out = {"backend": keras.backend.backend()}
# Warm-up, not measured: the backend's first-use costs, as kpgui's warm process pays them
# before Start (its rehearsal fits the same network on 640 images); the measured fit builds
# and compiles a model of its own, as each kpgui run does.
m = build_model(spec)
warm_val = None if val is None else (val[0][:200], val[1][:200])
m.fit(xs[:640], ys[:640], batch_size=spec.batch_size, epochs=1, verbose=0, validation_data=warm_val)
m = build_model(spec)
t0, c0 = time.perf_counter(), time.process_time()
m.fit(xs, ys, batch_size=spec.batch_size, epochs=spec.epochs, shuffle=True, verbose=0, validation_data=val)
out["fit_s"] = time.perf_counter() - t0
out["cpu_us_per_sample"] = (time.process_time() - c0) / (len(xs) * spec.epochs) * 1e6
out["samples_per_s"] = len(xs) * spec.epochs / out["fit_s"]
probs = np.asarray(m(as_model_input(xt), training=False))
out["test_accuracy"] = float(np.mean(probs.argmax(1) == yt))
print("RESULT " + json.dumps(out), flush=True)
"""


# Where the limit is lost (a diagnostic, not kpgui's way): the same network's train step in plain
# JAX, no Keras (RMSprop as Keras defines it, one jitted step per batch, the same shuffled
# batches), on both cores and pinned to one core (XLA's thread pool then has one thread).
JAX_STEP_CHILD = r"""
import json, os, sys, time
if os.environ.get("KPGUI_BENCH_ONE_CORE") == "1":
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
import numpy as np
import jax, jax.numpy as jnp
from kpgui.core.data.arrays import as_model_input
from kpgui.core.data.mnist import load_mnist
from kpgui.core.model.spec import ModelSpec
spec = ModelSpec.from_dict(json.loads(os.environ["KPGUI_BENCH_SPEC"]))
x, y, _, _ = load_mnist()
n = spec.train_samples or len(x)
n_fit = n - int(n * spec.validation_split)
xs, ys = as_model_input(x[:n_fit]), np.eye(10, dtype=np.float32)[y[:n_fit]]
sizes = [784, *spec.hidden, 10]
keys = jax.random.split(jax.random.PRNGKey(spec.seed), len(sizes) - 1)
def glorot(k, i, o):
    lim = np.sqrt(6 / (i + o))
    return (jax.random.uniform(k, (i, o), minval=-lim, maxval=lim), jnp.zeros(o))
params = [glorot(k, i, o) for k, i, o in zip(keys, sizes[:-1], sizes[1:])]
acc = jax.tree.map(jnp.zeros_like, params)
def loss(p, xb, yb):
    h = xb
    for w, b in p[:-1]:
        h = jax.nn.relu(h @ w + b)
    w, b = p[-1]
    return -jnp.mean(jnp.sum(yb * jax.nn.log_softmax(h @ w + b), -1))
@jax.jit
def step(p, a, xb, yb):
    g = jax.grad(loss)(p, xb, yb)
    a = jax.tree.map(lambda a, g: 0.9 * a + 0.1 * g * g, a, g)
    p = jax.tree.map(lambda p, g, a: p - spec.learning_rate * g / (jnp.sqrt(a) + 1e-7), p, g, a)
    return p, a
bs = spec.batch_size
rng = np.random.default_rng(spec.seed)
def epochs(k, p, a):
    for _ in range(k):
        order = rng.permutation(n_fit)
        for i in range(0, n_fit - bs + 1, bs):
            j = order[i : i + bs]
            p, a = step(p, a, xs[j], ys[j])
    jax.block_until_ready(p)
    return p, a
params, acc = epochs(1, params, acc)  # warm-up: compiling, first use
t0, c0 = time.perf_counter(), time.process_time()
params, acc = epochs(spec.epochs, params, acc)
trained = (n_fit // bs) * bs * spec.epochs
out = {"fit_s": time.perf_counter() - t0, "cores": len(os.sched_getaffinity(0))}
out["samples_per_s"] = trained / out["fit_s"]
out["cpu_us_per_sample"] = (time.process_time() - c0) / trained * 1e6
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


def fit_child(backend: str, spec: Any, code: str = FIT_CHILD, **extra: str) -> dict[str, Any]:
    """Plain Keras `fit` of the spec's network on its data (or `code`: JAX_STEP_CHILD), in a
    process of its own."""
    env = C.child_env()
    env.update(
        KPGUI_BENCH_BACKEND=backend,
        KPGUI_BENCH_SPEC=json.dumps(spec.to_dict()),
        TF_CPP_MIN_LOG_LEVEL="3",
        **extra,
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
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
    raise RuntimeError(f"plain {backend} child failed ({proc.returncode}):\n{tail}")


def window_job(backend: str, spec: Any, warm: bool, stop_at_first_batch: bool = False) -> dict[str, Any]:
    """A job run the window's way: kpgui.core.training.worker.serve in a spawned process, every report
    read from the pipe. warm: the process is started, does its imports and rehearsal, idles a
    second (a window before Start), then gets the job; cold: the job is given at the start.
    Returns job sent -> first batch, and for a whole run its rate, CPU time and accuracy."""
    import multiprocessing

    from kpgui.core.training.jobs import TrainJob
    from kpgui.core.training.worker import serve

    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    parent, child = ctx.Pipe(duplex=True)
    job = TrainJob(spec, backend=backend, record=False, logs=True)
    t0 = time.perf_counter()
    process = ctx.Process(target=serve, args=(child, stop, None, backend, None if warm else job), daemon=True)
    process.start()
    child.close()
    out: dict[str, Any] = {"batches_reported": 0}
    try:
        if warm:
            while True:
                kind, value = parent.recv()
                if kind == "ready":
                    out["ready_s"] = time.perf_counter() - t0
                    out["rss_mb_ready"] = value["rss_mb"]
                    break
            time.sleep(1.0)  # idle, as a window is before Start
            cpu0 = _cpu_s(process.pid)
            t0 = time.perf_counter()
            parent.send(("job", job))
        while True:
            kind, value = parent.recv()
            if kind == "batch":
                out["batches_reported"] += 1
                if "first_batch_s" not in out:
                    out["first_batch_s"] = time.perf_counter() - t0
                    if stop_at_first_batch:
                        stop.set()
            elif kind == "error":
                raise RuntimeError(f"{backend} job failed: {value}")
            elif kind == "outcome":
                if not stop_at_first_batch:
                    trained = value.train_samples * value.epochs_run
                    out["samples_per_s"] = value.samples_per_second
                    out["fit_s"] = value.wall_time
                    out["test_accuracy"] = value.test_accuracy
                    out["device"] = value.device
                    if warm and trained:
                        out["cpu_us_per_sample"] = (_cpu_s(process.pid) - cpu0) / trained * 1e6
                break
        out["rss_mb_after_run"] = _rss(process.pid)
        parent.send(("quit", None))
        process.join(30)
    finally:
        if process.is_alive():
            process.kill()
    return out


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) process `pid` has used so far (Linux)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


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

    # The classic recipe (ModelSpec's defaults: 784-512-512-10, RMSprop, batch 128, 10 %
    # validation, 20 epochs), on all of MNIST unless told otherwise.
    n = samples or (6000 if quick else 0)  # 0: all of MNIST
    spec = ModelSpec(epochs=epochs or (1 if quick else ModelSpec().epochs), train_samples=n, seed=1)
    have = [b for b in backends.available() if b != "torch"]
    default = backends.resolve("auto")
    results: dict[str, Any] = {"limit": machine_limit(), "spec": spec.describe(), "train_images": n or 60000}
    for b in have:
        results[f"plain_{b}"] = fit_child(b, spec)
        results[f"kpgui_{b}"] = window_job(b, spec, warm=True)
    if "jax" in have and hasattr(os, "sched_setaffinity"):
        results["jax_step"] = fit_child("jax", spec, JAX_STEP_CHILD)
        results["jax_step_one_core"] = fit_child("jax", spec, JAX_STEP_CHILD, KPGUI_BENCH_ONE_CORE="1")
    results["kpgui_augmented"] = window_job(default, spec.replace(augment=True, elastic=0.6), warm=True)
    start = ModelSpec(epochs=1, train_samples=5000)
    results["cold"] = window_job(default, start, warm=False, stop_at_first_batch=True)
    results["warm"] = window_job(default, start, warm=True, stop_at_first_batch=True)
    results["limit_after"] = machine_limit()
    return _rows(results, default), {**results, "notes": _notes(results, default)}


def _sps(results: dict, key: str) -> float | None:
    r = results.get(key)
    return None if r is None else r["samples_per_s"]


def _limit(r: dict) -> dict[str, float]:
    """The machine's limit in this run: the better of the two measurements (before, after)."""
    return max(r["limit"], r.get("limit_after", r["limit"]), key=lambda m: m["samples_per_s"])


def _rows(r: dict, default: str) -> list[dict]:
    limit = _limit(r)["samples_per_s"]
    k_default, p_tf = _sps(r, f"kpgui_{default}"), _sps(r, "plain_tensorflow")
    aug = _sps(r, "kpgui_augmented")
    rows = [
        C.row(
            BENCH,
            "machine limit: 2048² float32 matmul / 4.0 MFLOP per sample",
            limit,
            "samples/s",
            alt_name="GFLOP/s",
            alt_value=_limit(r)["gflops"],
            show_ratio=False,
        ),
        C.row(
            BENCH,
            f"classic recipe, the window's way, on {default} (default) vs the machine limit",
            k_default,
            "samples/s",
            alt_name="limit",
            alt_value=limit,
            target=f"ratio >= {TARGET_OF_LIMIT}",
            met=k_default is not None and k_default / limit >= TARGET_OF_LIMIT,
        ),
        C.row(
            BENCH,
            f"classic recipe, the window's way, on {default} vs plain Keras-on-TensorFlow fit",
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
                    f"kpgui on {b}, the window's way (callbacks, logs, reports)",
                    _sps(r, f"kpgui_{b}"),
                    "samples/s",
                    alt_name=f"plain {b} fit",
                    alt_value=_sps(r, f"plain_{b}"),
                )
            )
    if "jax_step" in r:
        step, one = r["jax_step"], r["jax_step_one_core"]
        rows += [
            C.row(
                BENCH,
                "diagnostic: the train step in plain JAX, no Keras, both cores "
                f"({step['cpu_us_per_sample']:.0f} µs CPU per sample)",
                step["samples_per_s"],
                "samples/s",
                alt_name="plain jax fit",
                alt_value=_sps(r, "plain_jax"),
            ),
            C.row(
                BENCH,
                "diagnostic: the same on one core "
                f"({one['cpu_us_per_sample']:.0f} µs CPU per sample; twice that is "
                f"{100 * 2 * one['samples_per_s'] / limit:.0f} % of the limit)",
                one["samples_per_s"],
                "samples/s",
                alt_name="both cores",
                alt_value=step["samples_per_s"],
            ),
        ]
    rows += [
        C.row(
            BENCH,
            "--augment --elastic 0.6 vs no augmentation (the window's way, default backend)",
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
    sides = {k: v for k, v in r.items() if isinstance(v, dict) and "samples_per_s" in v and k != "limit"}
    acc = ", ".join(
        f"{k}: {100 * v['test_accuracy']:.2f} %"
        for k, v in sides.items()
        if v.get("test_accuracy") is not None
    )
    cpu = ", ".join(
        f"{k}: {v['cpu_us_per_sample']:.0f}"
        for k, v in sides.items()
        if v.get("cpu_us_per_sample") is not None
    )
    reports = ", ".join(f"{k}: {v['batches_reported']}" for k, v in sides.items() if "batches_reported" in v)
    return [
        f"{r['spec']}, {r['train_images']} images; each side in its own process, one after the other; "
        "plain sides after a warm-up fit in that process, kpgui's in a warm training process.",
        f"Machine limit measured before and after: {r['limit']['gflops']:.0f} / "
        f"{r['limit_after']['gflops']:.0f} GFLOP/s (a difference means the machine was shared).",
        f"CPU time per trained sample, µs (all threads; kpgui's includes its evaluation and saving): {cpu}.",
        f"Batch reports that reached the window's side of the pipe: {reports}.",
        f"Test accuracy: {acc}.",
        f"Warm process ready {r['warm'].get('ready_s', 0):.1f} s after it was started (in the "
        "background, while the window is idle).",
    ]


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument(
        "--samples", type=int, help="MNIST images, 10 %% of them for validation (default all, quick 6000)"
    )
    p.add_argument("--epochs", type=int, help="epochs (default the classic recipe's 20, quick 1)")
    args = p.parse_args(argv)
    started = time.perf_counter()
    rows, details = run(args.quick, args.samples, args.epochs)
    C.finish(NAME, rows, details, args, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
