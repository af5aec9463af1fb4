"""The model that ships is as accurate as its card says, and loads without TensorFlow."""

from __future__ import annotations

import json

import numpy as np

from kpgui.core.evaluation import evaluate
from kpgui.core.inference import Predictor
from kpgui.core.resources import default_model_path, resource_path


def test_shipped_model_matches_its_card_on_the_full_test_set(mnist):
    predictor = Predictor.load()
    assert predictor.backend == "numpy"
    card = json.loads(default_model_path().with_suffix(".json").read_text())
    ev = evaluate(predictor, mnist[2], mnist[3])
    assert abs(ev.accuracy - card["test_accuracy"]) <= 0.001
    assert ev.confusion.sum() == 10000
    assert card["spec"]["hidden"] and card["train_samples"] >= 54000


def test_resources_are_found():
    assert resource_path("models").is_dir()
    assert default_model_path().is_file()


def test_shipped_model_reads_drawn_digits():
    from kpgui.core.preprocess import strokes_to_mnist
    from tests.conftest import draw_polyline

    p = Predictor.load()
    one = [draw_polyline([[200, 60], [195, 340]], 50)]
    t = np.linspace(0, 2 * np.pi, 100)
    zero = [np.c_[200 + 80 * np.cos(t), 200 + 120 * np.sin(t)]]
    assert p.predict_one(strokes_to_mnist(one, 14)).argmax() == 1
    assert p.predict_one(strokes_to_mnist(zero, 14)).argmax() == 0
