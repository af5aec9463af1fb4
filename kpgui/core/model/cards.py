"""Model cards: the JSON file beside every saved model that says what it is and how it was made.

One module makes, reads, checks and writes them: `make_card(run)` from a run's record
(kpgui.core.model.run.RunRecord), `read_model_card(model)` beside a model, `is_model_card(path)`,
`card_json(card)` (the text kpgui.core.storage.saving writes with the model, atomically) and
`card_facts(card)` for people. A card holds the spec, the test accuracy, the status and epochs of
the run, its history, the calibration, when it was trained and saved, and the library versions.
Cards are always valid JSON: NaN and infinities (a diverged run) are written as null.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
from pathlib import Path
from typing import Any

import kpgui
from kpgui.core.display.numbers import percent
from kpgui.core.display.words import count
from kpgui.core.model.run import RunRecord
from kpgui.core.storage.bounded import MAX_CARD_BYTES, BadInput, finite_json, loads_json, to_json

FORMAT = "kpgui-model-card/1"
UNREADABLE = "unreadable"  # the only key of a card that could not be used: why not


def versions() -> dict[str, str]:
    """kpgui, NumPy, Python, and Keras and its backends (TensorFlow, JAX, PyTorch) when they are
    already loaded (never imported here: the window must not load them to write a card)."""
    import importlib.metadata
    import sys

    import numpy

    v = {"kpgui": kpgui.__version__, "numpy": numpy.__version__, "python": platform.python_version()}
    for name, dists in _DISTRIBUTIONS.items():
        if name not in sys.modules:
            continue
        for dist in dists:  # the installed distribution's own record of its version
            try:
                v[name] = importlib.metadata.version(dist)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return v


# A loaded module -> the distributions that install it (CPU and GPU builds have their own names).
_DISTRIBUTIONS = {
    "keras": ("keras",),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu"),
    "jax": ("jax",),
    "torch": ("torch",),
}


def make_card(run: RunRecord | None = None, **extra: Any) -> dict:
    """The card of a run (or of a model without one): spec, accuracy, history, calibration,
    how and where it trained; `extra` adds keys (e.g. finetuned_from)."""
    card: dict[str, Any] = {"format": FORMAT}
    if run is not None:
        card.update(
            spec=run.spec.to_dict(),
            description=run.spec.describe(),
            test_accuracy=run.test_accuracy,
            test_loss=run.test_loss,
            status=run.status,
            epochs_run=run.epochs_run,
            partial_epoch=run.partial_epoch,
            training_time_s=None if run.wall_time is None else round(run.wall_time, 2),
            train_samples=run.train_samples,
            samples_per_second=round(run.samples_per_second, 1),
            history=run.history,
            trained_at=run.started_at,
            kind=run.kind,
        )
        optional = {
            "calibration": run.calibration,
            "backend": run.backend,
            "device": run.device,
            "personal": run.personal,
            "diverged_at": run.diverged_at,
        }
        card.update({k: v for k, v in optional.items() if v})
    card["saved_at"] = _dt.datetime.now().isoformat(timespec="seconds")
    card["versions"] = versions()
    card.update(extra)
    return finite_json(card)


def card_json(card: dict) -> str:
    """The card's file text: strict JSON (no NaN tokens), indented for people."""
    return to_json(card)


def card_path(model_path: str | os.PathLike) -> Path:
    """The JSON model card kept beside a model: `name.keras` -> `name.json`."""
    return Path(model_path).with_suffix(".json")


def read_model_card(model_path: str | os.PathLike) -> dict:
    """The model card beside a model, or {} when there is none or it is unreadable (also when
    it is larger than MAX_CARD_BYTES or nested too deeply: a card is only extra text); a card
    with an absurd number is {UNREADABLE: why}, said once in Model info (card_facts)."""
    path = card_path(model_path)
    try:
        if path.stat().st_size > MAX_CARD_BYTES:
            return {}
        data = loads_json(path.read_bytes())
        return data if isinstance(data, dict) else {}
    except BadInput as exc:
        if "number" in str(exc):
            return {UNREADABLE: f"{path.name} was ignored: {exc}"}
        return {}
    except (OSError, ValueError):
        return {}


def is_model_card(path: str | os.PathLike) -> bool:
    """Whether `path` is a kpgui model card (JSON object with a card's keys), or absent."""
    p = Path(path)
    if not p.exists():
        return True
    if not p.is_file():
        return False
    try:
        if p.stat().st_size > MAX_CARD_BYTES:
            return False
        data = loads_json(p.read_bytes())
    except (OSError, BadInput):
        return False
    return isinstance(data, dict) and (
        str(data.get("format", "")).startswith("kpgui-model-card/")
        or {"spec", "saved_at"} <= set(data)
        or {"spec", "versions"} <= set(data)
    )


def card_facts(card: dict) -> list[tuple[str, str]]:
    """The card as (label, value) lines a person reads in "Model info"."""
    from kpgui.core.model.spec import ModelSpec

    facts: list[tuple[str, str]] = []
    if isinstance(card.get(UNREADABLE), str):  # see read_model_card
        return [("Model card", card[UNREADABLE])]
    spec = card.get("spec")
    if isinstance(spec, dict):
        facts.append(("Network", ModelSpec.from_dict(spec).describe()))
    tested = card.get("test_accuracy")
    alone = "" if tested is None else " (the network alone on each picture)"
    facts.append(("MNIST test accuracy", percent(tested) + alone))
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
                f"; calibration error on MNIST test {percent(cal['ece_test_before'])} → "
                f"{percent(cal['ece_test_after'])}"
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
