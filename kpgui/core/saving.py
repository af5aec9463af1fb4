"""Saving trained models atomically, each with a JSON model card a person can read."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from pathlib import Path
from typing import Any

import kpgui
from kpgui.core.atomic import atomic_write
from kpgui.core.inference import card_path


def _versions() -> dict[str, str]:
    import numpy

    v = {"kpgui": kpgui.__version__, "numpy": numpy.__version__, "python": platform.python_version()}
    try:
        import keras
        import tensorflow as tf

        v["keras"], v["tensorflow"] = keras.__version__, tf.__version__
    except ImportError:  # pragma: no cover
        pass
    return v


def make_card(result: Any = None, **extra: Any) -> dict:
    """The model card: spec, test accuracy, epochs, time, history, date, versions."""
    card: dict[str, Any] = {"format": "kpgui-model-card/1"}
    if result is not None:
        card.update(
            spec=result.spec.to_dict(),
            description=result.spec.describe(),
            test_accuracy=result.test_accuracy,
            test_loss=result.test_loss,
            status=result.status,
            epochs_run=result.epochs_run,
            training_time_s=round(result.wall_time, 2),
            train_samples=result.train_samples,
            samples_per_second=round(result.samples_per_second, 1),
            history=result.history,
            trained_at=result.started_at,
        )
    card["saved_at"] = _dt.datetime.now().isoformat(timespec="seconds")
    card["versions"] = _versions()
    card.update(extra)
    return card


def save_model(model: Any, path: str | os.PathLike, result: Any = None, **card_extra: Any) -> Path:
    """Write `model` to `path` (.keras) and its card to `path` with .json, each atomically.

    A crash or full disk mid-save leaves any previous file at `path` intact.
    """
    p = Path(path)
    if p.suffix != ".keras":
        p = p.with_suffix(".keras")
    atomic_write(p, lambda tmp: model.save(tmp))
    card = make_card(result, **card_extra)
    text = json.dumps(card, indent=2, default=str)
    atomic_write(card_path(p), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return p
