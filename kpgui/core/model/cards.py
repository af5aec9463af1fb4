"""Model cards: the JSON file beside every saved model that says what it is and how it was made.

A card holds the spec, the test accuracy, the status and epochs of the run, its history, the
calibration, when it was trained and saved, and the library versions. Cards are always valid
JSON: NaN and infinities (a diverged run) are written as null.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import platform
from typing import Any

import kpgui
from kpgui.core.display.words import count

FORMAT = "kpgui-model-card/1"


def json_safe(value: Any) -> Any:
    """`value` with every NaN/inf float replaced by None and tuples by lists, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return json_safe(value.item())  # NumPy scalars
    return value


def to_json(value: Any, indent: int | None = 2) -> str:
    """Strict JSON text (no NaN tokens), e.g. for cards and `kpgui runs --json`."""
    return json.dumps(json_safe(value), indent=indent, allow_nan=False, default=str)


def versions() -> dict[str, str]:
    """kpgui, NumPy, Python, and Keras and its backends (TensorFlow, JAX, PyTorch) when they are
    already loaded (never imported here: the window must not load them to write a card)."""
    import sys

    import numpy

    v = {"kpgui": kpgui.__version__, "numpy": numpy.__version__, "python": platform.python_version()}
    for name in ("keras", "tensorflow", "jax", "torch"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "__version__"):
            v[name] = module.__version__
    return v


def make_card(result: Any = None, **extra: Any) -> dict:
    """The card of a TrainingResult (or of a model without one): spec, accuracy, history..."""
    card: dict[str, Any] = {"format": FORMAT}
    if result is not None:
        card.update(
            spec=result.spec.to_dict(),
            description=result.spec.describe(),
            test_accuracy=result.test_accuracy,
            test_loss=result.test_loss,
            status=result.status,
            epochs_run=result.epochs_run,
            partial_epoch=getattr(result, "partial_epoch", None),
            training_time_s=round(result.wall_time, 2),
            train_samples=result.train_samples,
            samples_per_second=round(result.samples_per_second, 1),
            history=result.history,
            trained_at=result.started_at,
        )
        if getattr(result, "calibration", None):
            card["calibration"] = result.calibration
    card["saved_at"] = _dt.datetime.now().isoformat(timespec="seconds")
    card["versions"] = versions()
    card.update(extra)
    return json_safe(card)


def _pct(v: Any) -> str:
    return "unknown" if not isinstance(v, int | float) else f"{100 * v:.2f} %"


def card_facts(card: dict) -> list[tuple[str, str]]:
    """The card as (label, value) lines a person reads in "Model info"."""
    from kpgui.core.model.spec import ModelSpec

    facts: list[tuple[str, str]] = []
    if isinstance(card.get("unreadable"), str):  # see kpgui.core.model.inference.read_model_card
        return [("Model card", card["unreadable"])]
    spec = card.get("spec")
    if isinstance(spec, dict):
        facts.append(("Network", ModelSpec.from_dict(spec).describe()))
    facts.append(("MNIST test accuracy", _pct(card.get("test_accuracy"))))
    status, epochs = card.get("status"), card.get("epochs_run")
    if status or epochs is not None:
        text = f"{status or 'trained'}, {count(epochs, 'epoch') if epochs is not None else '? epochs'}"
        part = card.get("partial_epoch")
        if isinstance(part, dict):
            text += f" + {part.get('batches')}/{part.get('of')} batches of epoch {part.get('epoch')}"
        if isinstance(card.get("training_time_s"), int | float):
            text += f" in {card['training_time_s']:.0f} s"
        facts.append(("Training", text))
    if isinstance(card.get("train_samples"), int):
        facts.append(("Training images", f"{card['train_samples']:,}"))
    cal = card.get("calibration")
    if isinstance(cal, dict):
        from kpgui.core.reading.confidence import Calibration

        text = f"temperature {cal.get('temperature')}, {Calibration.from_card(card).rule()}"
        fitted = cal.get("temperature_fitted")
        if isinstance(fitted, int | float) and fitted != cal.get("temperature"):
            text += f" (a fitted {fitted:g} was not kept: no gain on held-out digits)"
        if isinstance(cal.get("ece_test_before"), int | float) and isinstance(
            cal.get("ece_test_after"), int | float
        ):
            text += (
                f"; calibration error on MNIST test {100 * cal['ece_test_before']:.2f} % → "
                f"{100 * cal['ece_test_after']:.2f} %"
            )
        facts.append(("Confidence", text))
    else:
        facts.append(("Confidence", "not calibrated ('not sure' below 50 %)"))
    personal = card.get("personal")
    if isinstance(personal, dict) and personal.get("summary"):
        facts.append(("Your digits", str(personal["summary"])))
    for key, label in (
        ("trained_at", "Trained"),
        ("saved_at", "Saved"),
        ("finetuned_from", "Fine-tuned from"),
    ):
        if card.get(key):
            facts.append((label, str(card[key]).replace("T", " ")))
    v = card.get("versions")
    if isinstance(v, dict) and v:
        facts.append(("Made with", ", ".join(f"{k} {val}" for k, val in v.items())))
    return facts
