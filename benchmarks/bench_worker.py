"""9. The training process: its start-up (multiprocessing spawn vs QProcess) and closing mid-run.

kpgui trains in a separate process started with multiprocessing ("spawn") and read through a
Pipe and a QSocketNotifier (`kpgui.ui.tasks.Tasks.start_job`, `kpgui.core.training.worker`). Measured
here, alternating in the same run, with the window built as `run_app` builds it and *Model ->
Keep a training process ready* turned off, so every run starts a process of its own (the cold
start; the warm one, the default, is timed by bench_training and bench_backends):

* start-up: `app.tasks.start_job(TrainJob(spec))` -> its first message ("Loading JAX…")
  -> Keras imported on the backend that trains (its next message, "Loading MNIST…"); the process
  is then killed.
  Beside it, the same work through QProcess (the other choice the issue names):
  `python -c` importing what the spawned process imports before its first message
  (kpgui.core.training.jobs, kpgui.core.training.worker), printing a line, importing Keras on the
  same backend, printing a line; the lines are read from the GUI thread as QProcess delivers
  them. Also how long each start call blocks the GUI thread.
* closing the window mid-run: `window.close()` with the close guard answered yes, timed until
  it returns, and whether the training process is gone then; once while training (after 20
  batches) and once while the training process still imports Keras. Beside it, the
  previous design: kpgui's `Trainer` in a QThread of the window process, closed with
  `Trainer.stop(abort=True)` (no final evaluation) and waiting for the thread.

This script keeps its module top level free of imports: the spawned process re-imports the
main module, as it imports kpgui.cli when started from the `kpgui` command.

    python benchmarks/bench_worker.py [--quick] [--rounds N] [--json out.json]
"""

from __future__ import annotations

import sys
import time
from typing import Any

NAME = "worker"
BENCH = "9 training process"
TARGET_CLOSE_S = 1.0

QPROCESS_CHILD = r"""
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
# what the spawned process has before its first message
import kpgui.core.training.jobs, kpgui.core.training.worker
print("up", flush=True)
import keras
print("ready", flush=True)
"""


def _spawn_once(app: Any, spec: Any) -> dict[str, float]:
    """kpgui's way: Tasks.start_job -> first message -> Keras imported; then kill."""
    import _gui as G

    from kpgui.core.training.jobs import TrainJob

    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    job = app.tasks.start_job(TrainJob(spec, record=False, logs=False))
    marks["block_s"] = time.perf_counter() - t0

    def status(text: str) -> None:
        now = time.perf_counter() - t0
        marks.setdefault("first_message_s", now)
        if text.startswith("Loading MNIST"):
            marks.setdefault("tensorflow_s", now)

    job.status.connect(status)
    ok = G.wait_until(lambda: "tensorflow_s" in marks or not job.running, 120)
    job.kill()
    G.wait_until(lambda: not job.running, 10)
    if not ok or "tensorflow_s" not in marks:
        raise RuntimeError(f"the training process did not report Keras imported: {marks}")
    return marks


def _qprocess_once() -> dict[str, float]:
    """The same work with QProcess: python -c ..., lines read as QProcess delivers them."""
    import _common as C
    import _gui as G
    from PySide6.QtCore import QProcess, QProcessEnvironment

    env = QProcessEnvironment.systemEnvironment()
    from kpgui.core.training.backends import resolve

    for key, value in C.child_env().items():
        env.insert(key, value)
    env.insert("KERAS_BACKEND", resolve(None))  # the backend kpgui's training process imports
    proc = QProcess()
    proc.setProcessEnvironment(env)
    proc.setStandardErrorFile(QProcess.nullDevice())
    marks: dict[str, float] = {}
    buf = bytearray()

    def read() -> None:
        buf.extend(bytes(proc.readAllStandardOutput()))
        now = time.perf_counter() - t0
        lines = buf.decode(errors="replace").split()
        if "up" in lines:
            marks.setdefault("first_message_s", now)
        if "ready" in lines:
            marks.setdefault("tensorflow_s", now)

    proc.readyReadStandardOutput.connect(read)
    t0 = time.perf_counter()
    proc.start(sys.executable, ["-c", QPROCESS_CHILD])
    marks["block_s"] = time.perf_counter() - t0
    ok = G.wait_until(
        lambda: "tensorflow_s" in marks or proc.state() == QProcess.ProcessState.NotRunning, 120
    )
    proc.waitForFinished(30000)  # it exits by itself (Keras' exit takes a moment)
    if not ok or "tensorflow_s" not in marks:
        raise RuntimeError(f"the QProcess child did not print 'ready': {marks} {bytes(buf)!r}")
    return marks


def measure_startup(rounds: int, warm_up: bool = True) -> dict[str, Any]:
    import _gui as G

    from kpgui.core.model.spec import ModelSpec

    app = G.open_app(warm=False)  # a process of its own per run: the cold start
    spec = ModelSpec(epochs=1, train_samples=256)
    if warm_up:  # not measured: disk cache, .pyc files
        _spawn_once(app, spec)
        _qprocess_once()
    spawn, qproc = [], []
    for i in range(rounds):
        if i % 2 == 0:
            spawn.append(_spawn_once(app, spec))
            qproc.append(_qprocess_once())
        else:
            qproc.append(_qprocess_once())
            spawn.append(_spawn_once(app, spec))
    G.close_app(app)
    return {"spawn": spawn, "qprocess": qproc}


def _close_kpgui(during: str, spec: Any, batches: int) -> dict[str, Any]:
    """Open the window, start a run, close the window mid-run; how long close() took."""
    import _gui as G

    app = G.open_app(warm=False)  # a process of its own per run: the cold start
    run = G.start_run(app, spec)
    job = run._job  # type: ignore[attr-defined]
    if during == "training":
        ok = G.wait_until(lambda: run.batches >= batches, 300)
    else:  # while the training process imports Keras
        ok = G.wait_until(
            lambda: any(k.startswith("status: Loading ") and "MNIST" not in k for k in run.marks), 60
        )  # Loading JAX… / TensorFlow…
        G.process_events_for(0.5)
        ok = ok and run.tensorflow_imported is None
    if not ok:
        raise RuntimeError(f"could not reach the moment to close ({during}): {run.marks}")
    app.window.close_guard = lambda: True
    t0 = time.perf_counter()
    app.window.close()
    seconds = time.perf_counter() - t0
    alive = job.process.is_alive()
    code = job.process.exitcode
    G.process_events_for(0.05)
    return {
        "close_s": seconds,
        "process_alive_after": alive,
        "exitcode": code,
        "batches_before_close": run.batches,
        "window_visible_after": app.window.isVisible(),
    }


class _ThreadJob:
    """The previous design: kpgui's Trainer in a QThread of the window process (MNIST loaded and
    TensorFlow imported in that thread); closing asks it to stop without the final evaluation
    (`Trainer.stop(abort=True)`) and waits for the thread."""

    def __init__(self, spec: Any) -> None:
        from PySide6.QtCore import QThread

        from kpgui.core.training.trainer import Trainer

        self.batches = 0
        self.statuses: list[str] = []
        self.began = False
        owner = self

        from kpgui.core.training.progress import Listener

        class Reporter(Listener):
            def on_status(self, text: str) -> None:
                owner.statuses.append(text)

            def on_train_begin(self, _start: Any) -> None:
                owner.began = True

            def on_batch(self, _update: Any) -> None:
                owner.batches += 1

        self.trainer = Trainer(spec, Reporter())

        class Worker(QThread):
            def run(self) -> None:  # noqa: D401 - Qt's name
                try:
                    owner.trainer.run()
                except BaseException:  # noqa: BLE001 - a stopped run may end any way
                    pass

        self.thread = Worker()
        self.thread.start()

    def close(self) -> float:
        t0 = time.perf_counter()
        self.trainer.stop(abort=True)
        self.thread.wait()
        return time.perf_counter() - t0


def _close_thread(during: str, spec: Any, batches: int) -> dict[str, Any]:
    import _gui as G

    job = _ThreadJob(spec)
    if during == "training":
        ok = G.wait_until(lambda: job.batches >= batches, 300)
    else:  # "Building the network…" comes just before `import keras` in Trainer.run
        ok = G.wait_until(lambda: bool(job.statuses), 60)
        G.process_events_for(0.5)
        ok = ok and not job.began
    if not ok:
        raise RuntimeError(f"the thread run did not reach the moment to close ({during})")
    seconds = job.close()
    return {"close_s": seconds, "batches_before_close": job.batches}


def measure_close(quick: bool) -> dict[str, Any]:
    from kpgui.core.model.spec import ModelSpec

    spec = ModelSpec(epochs=20)
    batches = 5 if quick else 20
    scenarios = ("training",) if quick else ("importing", "training")
    out = {f"kpgui_{d}": _close_kpgui(d, spec, batches) for d in scenarios}
    # The previous design imports TensorFlow into this process: measured last, importing first.
    out.update({f"thread_{d}": _close_thread(d, spec, batches) for d in scenarios})
    return out


def run(quick: bool, rounds: int | None) -> tuple[list, dict]:
    import _common as C
    import _gui as G

    G.load_gui()
    n = rounds or (1 if quick else 5)
    startup = measure_startup(n, warm_up=not quick)
    close = measure_close(quick)

    def med(side: str, key: str) -> float:
        return C.median([m[key] for m in startup[side]])

    rows = [
        C.row(
            BENCH,
            f"start-up: spawn -> first message (median of {n})",
            med("spawn", "first_message_s"),
            "s",
            alt_name="QProcess: first line",
            alt_value=med("qprocess", "first_message_s"),
        ),
        C.row(
            BENCH,
            "start-up: spawn -> Keras imported (on the backend that trains)",
            med("spawn", "tensorflow_s"),
            "s",
            alt_name="QProcess: python -c 'import keras' line",
            alt_value=med("qprocess", "tensorflow_s"),
        ),
        C.row(
            BENCH,
            "GUI thread blocked while starting the process",
            1e3 * med("spawn", "block_s"),
            "ms",
            alt_name="QProcess.start()",
            alt_value=1e3 * med("qprocess", "block_s"),
        ),
    ]
    for during, what in (("training", "while training"), ("importing", "while it imports Keras")):
        if f"kpgui_{during}" not in close:
            continue
        k, t = close[f"kpgui_{during}"], close[f"thread_{during}"]
        gone = "process gone" if not k["process_alive_after"] else "PROCESS STILL ALIVE"
        rows.append(
            C.row(
                BENCH,
                f"close the window {what}: window.close() returns ({gone})",
                k["close_s"],
                "s",
                alt_name="previous design: QThread stop + wait",
                alt_value=t["close_s"],
                target=f"<= {TARGET_CLOSE_S:g} s",
                met=k["close_s"] <= TARGET_CLOSE_S and not k["process_alive_after"],
            )
        )
    details = {
        "rounds": n,
        "startup": startup,
        "close": close,
        "notes": [
            "Start-up per round (s, spawn / QProcess): first message "
            + ", ".join(
                f"{s['first_message_s']:.2f}/{q['first_message_s']:.2f}"
                for s, q in zip(startup["spawn"], startup["qprocess"], strict=True)
            )
            + "; Keras imported "
            + ", ".join(
                f"{s['tensorflow_s']:.2f}/{q['tensorflow_s']:.2f}"
                for s, q in zip(startup["spawn"], startup["qprocess"], strict=True)
            ),
            f"Closing while training: the process's exit code {close['kpgui_training']['exitcode']} "
            f"after {close['kpgui_training']['batches_before_close']} batches"
            + (
                f"; while importing: exit code {close['kpgui_importing']['exitcode']}. The previous "
                "design, closed while importing, has to wait for the import before it can stop."
                if "kpgui_importing" in close
                else " (quick: the close while importing is left out)."
            ),
        ],
    }
    return rows, details


def main(argv: list[str] | None = None) -> int:
    import _common as C
    import _gui as G

    C.setup_env()
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, help="start-up rounds, each side once (default 5, quick 1)")
    args = p.parse_args(argv)
    return G.run_and_report(NAME, args, lambda: run(args.quick, args.rounds))


if __name__ == "__main__":
    sys.exit(main())
