"""Experiment files: a run's or a sweep's settings as a small JSON file — how a teacher hands a
class the same experiment. Opening one fills the training form (and the sweep) again.

    {"format": "kpgui-experiment/1", "name": "...", "description": "...",
     "spec": {...every training option...}, "sweep": {"option": "learning_rate",
     "values": [1e-06, 0.01, 1.0]}}

The spec holds the seed and the number of training images too, so the run can be repeated.
Files are read with a size limit and validated value by value; a bad file is refused with the
reason, never half-applied.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kpgui.core.model.spec import ModelSpec
from kpgui.core.storage.atomic import atomic_write
from kpgui.core.storage.bounded import to_json
from kpgui.core.training.sweep import Sweep

FORMAT = "kpgui-experiment/1"
MAX_BYTES = 256 * 1024  # an experiment is a few hundred bytes; anything this big is not one


class ExperimentError(ValueError):
    """An experiment file that cannot be used; the message names the file and why."""


@dataclass(frozen=True)
class Experiment:
    spec: ModelSpec
    sweep: Sweep | None = None
    name: str = ""
    description: str = ""

    def to_dict(self) -> dict:
        data = {
            "format": FORMAT,
            "name": self.name,
            "description": self.description,
            "spec": self.spec.to_dict(),
        }
        if self.sweep is not None:
            data["sweep"] = self.sweep.to_dict()
        return data


def save_experiment(path: str | os.PathLike, experiment: Experiment) -> Path:
    """Write the experiment as JSON, atomically (never over a file kpgui owns)."""
    from kpgui.core.storage.paths import refuse_kpgui_file

    refuse_kpgui_file(path)
    text = to_json(experiment.to_dict())
    return atomic_write(Path(path), lambda tmp: Path(tmp).write_text(text + "\n", "utf-8"))


def load_experiment(path: str | os.PathLike) -> Experiment:
    """Read and validate an experiment file; ExperimentError naming the file and the cause."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise ExperimentError(
                f"{p.name} is {size // 1024} KB: too big for an experiment "
                "file (they are a few hundred bytes); choose a kpgui experiment"
            )
        with open(p, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ExperimentError(f"{p}: cannot be read ({exc.strerror or exc})") from exc
    from kpgui.core.storage.bounded import BadInput, loads_json

    try:
        data = loads_json(raw)
    except BadInput as exc:
        if "number" in str(exc):
            raise ExperimentError(f"{p.name} cannot be used: {exc}") from None
        raise ExperimentError(f"{p.name} is not a kpgui experiment file ({exc})") from None
    if not isinstance(data, dict) or not str(data.get("format", "")).startswith("kpgui-experiment/"):
        raise ExperimentError(
            f"{p.name} is not a kpgui experiment file (no "
            f'"format": "{FORMAT}"); make one with Export experiment…'
        )
    if data["format"] != FORMAT:
        raise ExperimentError(f"{p.name} was made by a newer kpgui ({data['format']}); update kpgui")
    try:
        spec = ModelSpec.from_dict(data.get("spec") or {}, strict=True).validate()
        sweep = Sweep.from_dict(data["sweep"], spec) if data.get("sweep") else None
    except (TypeError, ValueError, OverflowError) as exc:
        raise ExperimentError(f"{p.name}: {exc}") from None
    return Experiment(spec, sweep, str(data.get("name") or ""), str(data.get("description") or ""))
