"""Naming runs the way people compare them: by what differs ("lr 0.01 · 97.2 %"), for the
History tab, the plot legends and `kpgui runs`."""

from __future__ import annotations

from collections.abc import Sequence

from kpgui.core.display.numbers import MISSING, last_finite, percent
from kpgui.core.display.words import count
from kpgui.core.model.options import OPTIONS
from kpgui.core.model.run import RunRecord
from kpgui.core.model.spec import ModelSpec

_DEFAULT = ModelSpec()

# The one palette of run colours (Okabe-Ito plus a few: distinct for most colour-blind people,
# readable on light and dark): the sweep table, the curves, the legend and History all use it,
# through RunColours, so a run has one colour everywhere.
RUN_COLOURS = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#0072B2",
    "#F0E442",
    "#999999",
    "#8C564B",
    "#17BECF",
)


class RunColours:
    """One colour per run for the session: a run keeps its colour (sweep table, overlay,
    History, legend) unless another run on screen has it already; new runs get one that no
    run on screen uses, preferring colours never handed out."""

    def __init__(self, palette: tuple[str, ...] = RUN_COLOURS) -> None:
        self.palette = palette
        self._by_run: dict[int, str] = {}
        self._handed = 0

    def _fresh(self, in_use: set[str]) -> str:
        free = [c for c in self.palette if c not in in_use]
        if not free:
            return self.palette[self._handed % len(self.palette)]
        used = set(self._by_run.values())
        return next((c for c in free if c not in used), free[self._handed % len(free)])

    def pick(self, run_id: int, in_use: set[str]) -> str:
        """The colour of `run_id`, given the colours other runs on screen use now."""
        colour = self._by_run.get(run_id)
        if colour is None or colour in in_use:
            colour = self._fresh(in_use)
            self._handed += 1
            self._by_run[run_id] = colour
        return colour

    def fresh(self, n: int, in_use: set[str]) -> tuple[str, ...]:
        """`n` colours for runs that have no id yet (a sweep's), distinct from `in_use`."""
        out: list[str] = []
        for _ in range(n):
            colour = self._fresh(in_use | set(out))
            self._handed += 1
            out.append(colour)
        return tuple(out)

    def bind(self, run_id: int, colour: str) -> None:
        """A run that had a colour before it had an id (a sweep's) keeps it."""
        self._by_run[run_id] = colour


def settings_text(spec: ModelSpec, against: ModelSpec = _DEFAULT) -> str:
    """What differs from `against`, in short words: 'sgd, lr 0.5, layers 32'."""
    diff = spec.differences(against)
    parts = [o.tag(diff[o.name][0]) for o in OPTIONS if o.name in diff and o.name != "seed"]
    return ", ".join(parts) or "the classic recipe"


def run_labels(runs: Sequence[RunRecord]) -> dict[int, str]:
    """A name for each run that says how it differs from the others: its own name if the
    person gave one; else the options whose values differ across `runs` (or from the default
    recipe, for one run), and its test accuracy: 'lr 0.01 · 97.2 %'."""
    distinct = {o.name: len({repr(r.spec.value(o.name)) for r in runs}) for o in OPTIONS}
    # The options that tell most runs apart come first, so a cut-off name still differs.
    differing = sorted(
        (o for o in OPTIONS if o.name != "seed" and distinct[o.name] > 1), key=lambda o: -distinct[o.name]
    )
    labels: dict[int, str] = {}
    for r in runs:
        if r.id is None:  # not recorded: no place in a list of runs
            continue
        if r.name and r.name not in ("fine-tune", "continued"):
            base = r.name
        elif differing:
            base = ", ".join(o.tag(r.spec.value(o.name)) for o in differing)
        elif len(runs) == 1:
            base = settings_text(r.spec)
        else:
            base = f"run {r.id}"
        if r.kind == "finetune" and not r.name:
            base = f"fine-tune {r.id}" if not differing else f"fine-tune · {base}"
        acc = "" if r.test_accuracy is None else f" · {percent(r.test_accuracy, 1)}"
        labels[r.id] = base + acc
    return labels


def how_it_ran(run: RunRecord) -> str:
    """'finished after 3 epochs in 41.2 s', 'stopped after 1 epoch and 20/50 batches of
    epoch 2 in 9.0 s' (a run's summary without its accuracy)."""
    part = ""
    if run.partial_epoch:
        p = run.partial_epoch
        part = f" and {p.get('batches')}/{p.get('of')} batches of epoch {p.get('epoch')}"
    time = MISSING if run.wall_time is None else f"{run.wall_time:.1f}"
    return f"{run.status} after {count(run.epochs_run, 'epoch')}{part} in {time} s"


def epochs_text(
    ran: int | None, planned: int | None, stopped_early: bool = False, status: str | None = None
) -> str:
    """How many epochs a run trained, for people: '3 of 3', '2 of 3 (stopped)',
    '1 of 3 (diverged)'. A continued run counts all its epochs (it may have more than this
    part planned): '5'."""
    ran = int(ran or 0)
    if planned is None or ran > planned:
        return f"{ran}"
    why = "diverged" if status == "diverged" else "stopped" if stopped_early or ran < planned else ""
    return f"{ran} of {planned}" + (f" ({why})" if why else "")


def final_numbers(run: RunRecord) -> dict[str, str]:
    """The last epoch's numbers of a run as text (MISSING when there are none)."""
    out = {}
    for key in ("loss", "val_loss"):
        v = last_finite(run.history.get(key))
        out[key] = MISSING if v is None else f"{v:.4f}"
    out["val_accuracy"] = percent(last_finite(run.history.get("val_accuracy")))
    out["test_accuracy"] = percent(run.test_accuracy)
    return out
