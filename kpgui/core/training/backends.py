"""Which Keras backend trains: the one declaration of the choices, and the choosing.

Keras 3 runs the same model code on JAX, TensorFlow or PyTorch. Measured on a 2-core CPU
(benchmarks/bench_backends.py), the classic 784-512-512-10 network trains about twice as fast
on JAX as on TensorFlow, so "auto" takes the fastest one installed, in the order of BACKENDS.
The backend is chosen per training process, before Keras is imported (KERAS_BACKEND): the
window's training process and `kpgui train` call `select()`; the window itself never imports
any of them (`installed()` only looks for the packages). A model saved on one backend is the
same .keras file on every other, and the window's NumPy Predictor reads it.

The backend is a property of the job (kpgui.core.training.jobs.TrainJob.backend), not of the ModelSpec:
it changes how fast a recipe trains, not what it learns (within seed noise), so two runs of
the same spec on different backends are the same recipe. The run's card records which one
trained it (`backend`, `device`).
"""

from __future__ import annotations

import importlib.util
import os
import sys

AUTO = "auto"
BACKENDS = ("jax", "tensorflow", "torch")  # fastest first, as measured on a 2-core CPU
CHOICES = (AUTO, *BACKENDS)
NAMES = {"jax": "JAX", "tensorflow": "TensorFlow", "torch": "PyTorch", AUTO: "Fastest installed"}
HELP = "the Keras backend that trains: auto = the fastest installed (JAX, then TensorFlow, then PyTorch)"
_PACKAGES = {"jax": ("jax", "jaxlib"), "tensorflow": ("tensorflow",), "torch": ("torch",)}
_INSTALL = {
    "jax": "pip install 'jax[cpu]'",
    "tensorflow": "pip install tensorflow",
    "torch": "pip install torch",
}


class BackendError(ValueError):
    """The chosen backend cannot be used here; the message says why and what to do."""


def installed(name: str) -> bool:
    """The backend's packages are installed (found, not imported: cheap, safe in the window)."""
    return all(importlib.util.find_spec(p) is not None for p in _PACKAGES.get(name, (name,)))


def available() -> tuple[str, ...]:
    """The installed backends, fastest first."""
    return tuple(b for b in BACKENDS if installed(b))


def resolve(choice: str | None) -> str:
    """`choice` (auto, jax, tensorflow, torch; None = auto) -> the backend that will train.
    BackendError when it is unknown or not installed, in one line a person can act on."""
    choice = (choice or AUTO).strip().lower()
    if choice not in CHOICES:
        raise BackendError(f"unknown backend {choice!r}: choose one of {', '.join(CHOICES)}")
    have = available()
    if choice == AUTO:
        if not have:
            raise BackendError("no Keras backend is installed: pip install 'jax[cpu]' (or tensorflow)")
        return have[0]
    if choice not in have:
        others = f" (installed: {', '.join(have)})" if have else ""
        raise BackendError(
            f"the {NAMES[choice]} backend is not installed: {_INSTALL[choice]}, or choose another{others}"
        )
    return choice


def select(choice: str | None) -> str:
    """Make this process's Keras use the backend `choice` resolves to (call before Keras is
    imported); returns its name. Once Keras is imported, "auto" is the backend it has, and
    another explicit choice is a BackendError."""
    name = resolve(choice)
    keras = sys.modules.get("keras")
    if keras is not None:
        current = keras.backend.backend()
        if (choice or AUTO).strip().lower() == AUTO:
            return current  # Keras is loaded already (tests, a notebook): the best there is here
        if current != name:
            raise BackendError(
                f"this process already trains on {NAMES.get(current, current)}; {NAMES[name]} needs a new one"
            )
        return name
    os.environ["KERAS_BACKEND"] = name
    if name == "jax":
        # TensorFlow is imported beside JAX only for TensorBoard's logs: keep it from
        # claiming all of a GPU that JAX will use.
        os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
        # XLA compiles each network's training step before its first batch (a second or more
        # on a busy 2-core CPU). Its persistent cache makes the next run of the same shape of
        # network (the usual case: another learning rate, more epochs) skip that.
        cache = _jax_cache_dir()
        if cache is not None:
            os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", cache)
            os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
            os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
    return name


def single_thread_blas() -> bool:
    """Make NumPy's OpenBLAS use one thread in this (training) process; True if it could.

    The training process's own NumPy work is small (layer stats' probe batch, calibration), but
    OpenBLAS's worker threads spin for a while after every call, on the cores XLA trains on.
    Measured (benchmarks/bench_backends.py's classic recipe, one epoch fits interleaved in one
    process, machine shared): layer stats cost ~14 µs of CPU per trained sample with OpenBLAS'
    default threads, ~2 µs with one. OPENBLAS_NUM_THREADS only counts before NumPy loads, which
    a spawned process has done before its first line runs; this asks the loaded library."""
    import ctypes

    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:
        return False
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in (
            "scipy_openblas_set_num_threads64_",
            "openblas_set_num_threads64_",
            "openblas_set_num_threads",
        ):
            try:
                fn = lib[symbol]
            except AttributeError:  # ctypes' word for "no such symbol in this library"
                continue
            fn.argtypes, fn.restype = [ctypes.c_int], None
            fn(1)
            return True
    return False


def _jax_cache_dir() -> str | None:
    """kpgui's folder for XLA's compiled programs (in its data folder), or None."""
    try:
        from kpgui.core.storage.paths import data_dir

        path = data_dir() / "xla-cache"
        path.mkdir(parents=True, exist_ok=True)
        return str(path)
    except Exception:  # noqa: BLE001 - no cache is slower, never wrong
        return None


def gpu_build_installed(name: str) -> bool:
    """A GPU build of backend `name` is installed (then its GPU is not hidden from it)."""
    if name == "jax":
        return any(
            importlib.util.find_spec(p) is not None
            for p in ("jax_cuda12_plugin", "jax_cuda13_plugin", "jax_rocm60_plugin")
        )
    if name == "tensorflow":
        return importlib.util.find_spec("nvidia") is not None and installed("tensorflow")
    return name == "torch"


def device() -> str:
    """'CPU' or 'GPU' (what trains in this process); call after Keras is imported."""
    import keras

    name = keras.backend.backend()
    try:
        if name == "jax":
            import jax

            return "GPU" if jax.default_backend() in ("gpu", "cuda", "rocm") else "CPU"
        if name == "tensorflow":
            import tensorflow as tf

            return "GPU" if tf.config.list_logical_devices("GPU") else "CPU"
        if name == "torch":
            import torch

            return "GPU" if torch.cuda.is_available() else "CPU"
    except Exception:  # noqa: BLE001 - a device probe must never stop a run
        pass
    return "CPU"


def describe(name: str, where: str) -> str:
    """'CPU (JAX)': what the window and the CLI say trains."""
    return f"{where} ({NAMES.get(name, name)})"


def current() -> str:
    """What trains in this process, for people: 'CPU (JAX)' (Keras imported)."""
    import keras

    return describe(keras.backend.backend(), device())
