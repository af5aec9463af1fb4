"""kpgui's engine, without Qt: everything here runs (and is tested) without a window.

The public API, in the order a person meets it:

    load_mnist(path=None)               the MNIST arrays (explicit path, $KPGUI_MNIST, the
                                        Keras cache, a Keras download); DatasetError says why not
    strokes_to_mnist(strokes, pen)      drawn strokes -> a 28x28 image made the way MNIST was
    image_to_mnist(picture)             a picture of a digit -> the same
    Predictor.load(path=None)           a model (None: the shipped one); .predict(images)
    Calibration, read(probs, cal)       honest confidence and the "not sure" verdict
    ModelSpec, OPTIONS                  every training choice, declared once
    Trainer(spec).run()                 Keras fit + callbacks -> TrainingResult
    TrainJob, run_job(job)              a whole run: train, measure, save, record in history
    finetune(predictor, images, labels) teach a model the person's handwriting, measured honestly
    save_model, copy_model              the one, atomic way to write a model and its card
    Store                               the run history and the person's samples (SQLite)
    AppState                            what the window shows, observable, Qt-free

Importing this package is cheap: NumPy only; Keras and TensorFlow load inside the functions that
train.
"""

from kpgui.core.confidence import Calibration, Reading, read
from kpgui.core.data import DatasetError, load_mnist
from kpgui.core.inference import ModelLoadError, Predictor
from kpgui.core.jobs import RunOutcome, TrainJob, run_job
from kpgui.core.options import OPTIONS, Option
from kpgui.core.personal import finetune
from kpgui.core.preprocess import image_to_mnist, strokes_to_mnist
from kpgui.core.saving import copy_model, save_model
from kpgui.core.spec import ModelSpec
from kpgui.core.state import AppState
from kpgui.core.store import Store, StoreError
from kpgui.core.training import Trainer, TrainingResult

__all__ = [
    "OPTIONS",
    "AppState",
    "Calibration",
    "DatasetError",
    "ModelLoadError",
    "ModelSpec",
    "Option",
    "Predictor",
    "Reading",
    "RunOutcome",
    "Store",
    "StoreError",
    "TrainJob",
    "Trainer",
    "TrainingResult",
    "copy_model",
    "finetune",
    "image_to_mnist",
    "load_mnist",
    "read",
    "run_job",
    "save_model",
    "strokes_to_mnist",
]
