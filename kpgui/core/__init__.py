"""kpgui's engine, without Qt: everything here runs (and is tested) without a window.

The public API, in the order a person meets it:

    load_mnist(path=None)               the MNIST arrays (explicit path, $KPGUI_MNIST, the
                                        Keras cache, a Keras download); DatasetError says why not
    strokes_to_mnist(strokes, pen)      drawn strokes -> a 28x28 image made the way MNIST was
    image_to_mnist(picture)             a picture of a digit -> the same
    Predictor.load(path=None)           a model (None: the shipped one); .predict(images)
    Calibration, read(probs, cal)       honest confidence and the "not sure" verdict
    ModelSpec, OPTIONS                  every training choice, declared once
    Trainer(spec).run()                 Keras fit + callbacks -> RunRecord (the model: .model)
    TrainJob, run_job(job)              a whole run: train, measure, save, record in history
    RunRecord                           a finished run, one shape from trainer to History
    finetune(predictor, images, labels) teach a model the person's handwriting, measured honestly
    save_model, copy_model              the one, atomic way to write a model and its card
    Store                               the run history and the person's samples (SQLite)
    AppState                            what the window shows, observable, Qt-free

Importing this package is cheap: nothing loads until a name is used (PEP 562), and Keras and
TensorFlow load inside the functions that train.

The rooms, each a sub-package that says what it holds (README "How it is built"):

    data/      MNIST, augmentation, drawn styles, non-digits, real pen digits
    model/     options, spec, builder, the .keras file read safely, Predictor, card, evaluation
    reading/   drawing -> 28x28 -> verdict: preprocessing, numbers, confidence, saliency, Inside
    training/  Keras fit + callbacks, the training process, jobs, fine-tuning, sweeps, searches
    storage/   the SQLite store, the one save path, samples files, folders, bounded reading
    display/   messages for people, words, run names, plot ranges
    lessons/   the primer as lessons
    state.py   AppState: what the window shows
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpgui.core.data.mnist import DatasetError, load_mnist
    from kpgui.core.model.inference import ModelLoadError, Predictor
    from kpgui.core.model.options import OPTIONS, Option
    from kpgui.core.model.run import RunRecord
    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.reading.confidence import Calibration, Reading, read
    from kpgui.core.reading.preprocess import image_to_mnist, strokes_to_mnist
    from kpgui.core.state import AppState
    from kpgui.core.storage.saving import copy_model, save_model
    from kpgui.core.storage.store import Store, StoreError
    from kpgui.core.training.jobs import TrainJob, run_job
    from kpgui.core.training.personal import finetune
    from kpgui.core.training.trainer import Trainer

_WHERE = {
    "AppState": "kpgui.core.state",
    "Calibration": "kpgui.core.reading.confidence",
    "DatasetError": "kpgui.core.data.mnist",
    "ModelLoadError": "kpgui.core.model.inference",
    "ModelSpec": "kpgui.core.model.spec",
    "OPTIONS": "kpgui.core.model.options",
    "Option": "kpgui.core.model.options",
    "Predictor": "kpgui.core.model.inference",
    "Reading": "kpgui.core.reading.confidence",
    "RunRecord": "kpgui.core.model.run",
    "Store": "kpgui.core.storage.store",
    "StoreError": "kpgui.core.storage.store",
    "TrainJob": "kpgui.core.training.jobs",
    "Trainer": "kpgui.core.training.trainer",
    "copy_model": "kpgui.core.storage.saving",
    "finetune": "kpgui.core.training.personal",
    "image_to_mnist": "kpgui.core.reading.preprocess",
    "load_mnist": "kpgui.core.data.mnist",
    "read": "kpgui.core.reading.confidence",
    "run_job": "kpgui.core.training.jobs",
    "save_model": "kpgui.core.storage.saving",
    "strokes_to_mnist": "kpgui.core.reading.preprocess",
}

__all__ = [
    "AppState",
    "Calibration",
    "DatasetError",
    "ModelLoadError",
    "ModelSpec",
    "OPTIONS",
    "Option",
    "Predictor",
    "Reading",
    "RunRecord",
    "Store",
    "StoreError",
    "TrainJob",
    "Trainer",
    "copy_model",
    "finetune",
    "image_to_mnist",
    "load_mnist",
    "read",
    "run_job",
    "save_model",
    "strokes_to_mnist",
]


def __getattr__(name: str) -> Any:
    """Load the module that holds `name` only when it is first used, then keep it."""
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'kpgui.core' has no attribute {name!r}") from None
    value = vars(importlib.import_module(module))[name]  # PEP 562: the name asked for
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
