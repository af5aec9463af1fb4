"""Naming runs the way people compare them: by what differs ("lr 0.01 · 97.2 %"), for the
History tab, the plot legends and `kpgui runs`."""

from __future__ import annotations

from typing import Any

from kpgui.core.options import OPTIONS
from kpgui.core.spec import ModelSpec

_DEFAULT = ModelSpec()


def settings_text(spec: ModelSpec, against: ModelSpec = _DEFAULT) -> str:
    """What differs from `against`, in short words: 'sgd, lr 0.5, layers 32'."""
    diff = spec.differences(against)
    parts = [o.tag(diff[o.name][0]) for o in OPTIONS if o.name in diff and o.name != "seed"]
    return ", ".join(parts) or "the classic recipe"


def run_labels(runs: list[Any]) -> dict[int, str]:
    """A name for each run that says how it differs from the others: its own name if the
    person gave one; else the options whose values differ across `runs` (or from the default
    recipe, for one run), and its test accuracy: 'lr 0.01 · 97.2 %'."""
    differing = [o for o in OPTIONS if o.name != "seed"
                 and len({repr(getattr(r.spec, o.name)) for r in runs}) > 1]
    labels = {}
    for r in runs:
        if r.name and r.name not in ("fine-tune", "continued"):
            base = r.name
        elif differing:
            base = ", ".join(o.tag(getattr(r.spec, o.name)) for o in differing)
        elif len(runs) == 1:
            base = settings_text(r.spec)
        else:
            base = f"run {r.id}"
        if r.kind == "finetune" and not r.name:
            base = f"fine-tune {r.id}" if not differing else f"fine-tune · {base}"
        acc = "" if r.test_accuracy is None else f" · {100 * r.test_accuracy:.1f} %"
        labels[r.id] = base + acc
    return labels


def final_numbers(outcome: Any) -> dict[str, str]:
    """The last epoch's numbers of a run (RunOutcome or RunRecord) as text, "-" when missing."""
    import math

    history = getattr(outcome, "history", None) or {}

    def last(key: str) -> float | None:
        values = [v for v in history.get(key, []) if v is not None and math.isfinite(v)]
        return values[-1] if values else None

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.2f} %"

    out = {k: ("-" if last(k) is None else f"{last(k):.4f}") for k in ("loss", "val_loss")}
    out["val_accuracy"] = pct(last("val_accuracy"))
    out["test_accuracy"] = pct(getattr(outcome, "test_accuracy", None))
    return out
