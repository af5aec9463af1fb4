"""`kpgui train`: train a network on MNIST with a progress bar, save it with its card, and
record the run in the history the window shows.

Every option comes from the one declaration in kpgui.core.model.options (its flag, type, limits,
help and default, shown by --help). The run goes through the same job as the window's
(kpgui.core.training.jobs.run_job), so it lands in History with its model and logs.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from kpgui.core.display.numbers import MISSING, percent
from kpgui.core.display.words import count
from kpgui.core.model.options import OPTIONS, Option
from kpgui.core.model.spec import ModelSpec
from kpgui.core.training.progress import Listener


class Values(tuple):
    """Several values given to one option: a sweep."""


def _argument_type(opt: Option):
    def parse(text: str) -> Any:
        from kpgui.core.training.sweep import is_list, parse_values

        try:
            if is_list(opt.name, text):
                return Values(parse_values(opt.name, text))
            value = opt.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        reason = opt.check(value)
        if reason:
            raise argparse.ArgumentTypeError(reason)
        return value

    parse.__name__ = opt.name  # argparse names the option in its error message
    return parse


def register(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a network on MNIST and save it",
        description="Train a dense network on MNIST, print progress, save the model and its "
        "model card, and record the run in kpgui's history (the window's History tab). Give one "
        "option several values to run a sweep: --lr 0.5,0.05,0.005 (hidden layers: "
        "--hidden 32/64/128,128); each value is its own run, a table compares them, and the "
        "best (lowest validation loss) is saved to --out.",
    )
    for opt in OPTIONS:
        if opt.kind is bool:
            p.add_argument(
                opt.flag,
                dest=opt.name,
                action=argparse.BooleanOptionalAction,
                default=opt.default,
                help=opt.help_text(),
            )
        else:
            p.add_argument(
                opt.flag,
                dest=opt.name,
                type=_argument_type(opt),
                default=opt.default,
                metavar="NAME"
                if opt.kind is str
                else "N"
                if opt.kind is int
                else "X"
                if opt.kind is float
                else "512,512",
                help=opt.help_text(),
            )
    from kpgui.core.training.backends import AUTO, CHOICES, HELP

    p.add_argument(
        "--backend", choices=CHOICES, default=AUTO, type=str.lower, help=f"{HELP} (default: {AUTO})"
    )
    p.add_argument(
        "--data",
        metavar="PATH",
        default=None,
        help="mnist.npz to use (default: $KPGUI_MNIST, then the Keras cache, then a download)",
    )
    p.add_argument(
        "--out",
        metavar="PATH",
        default="model.keras",
        help="where to save the model; its card goes beside it as .json (default: model.keras)",
    )
    p.add_argument(
        "--continue",
        dest="continue_from",
        metavar="MODEL",
        default=None,
        help="go on training this .keras model (the window's Model → Continue "
        "training); its hidden layers must match --hidden (default: a new network)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="let --out replace a .json beside it that is not a model card "
        "(default: refuse, naming the file)",
    )
    p.add_argument(
        "--name", default=None, help="a name for the run in the history (default: named by its settings)"
    )
    p.add_argument(
        "--no-history", action="store_true", help="do not record the run in the history (default: recorded)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar (default: shown)")
    p.set_defaults(run=run)


class Progress(Listener):
    """A rich progress bar on the terminal's stderr (the training's own chatter goes to a log),
    plus one line per finished epoch that stays."""

    def __init__(self, stream, quiet: bool = False) -> None:
        from rich.console import Console

        self.quiet = quiet
        self.console = Console(file=stream, highlight=False, soft_wrap=True)
        self.bar: Any = None
        self.task: Any = None

    def on_status(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text, style="dim")

    def on_notice(self, text: str) -> None:
        """Something the person must see even with --quiet (the database is busy...)."""
        self.console.print(text)

    def on_train_begin(self, s) -> None:
        if self.quiet:
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        on = f" on {s.device}" if s.device else ""
        self.console.print(
            f"Training {s.spec.describe()} on {s.train_samples:,} images "
            f"({s.val_samples:,} for validation){on}"
        )
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[metrics]}"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self.task = self.bar.add_task("epoch 1", total=s.epochs * s.steps_per_epoch, metrics="")
        self.bar.start()

    def on_batch(self, u) -> None:
        if self.bar is not None:
            self.bar.update(
                self.task,
                completed=(u.epoch - 1) * u.steps + u.step,
                description=f"epoch {u.epoch}/{u.epochs}",
                metrics=f"loss {u.mean_loss:.4f} acc {u.mean_accuracy:.4f}",
            )

    def on_epoch(self, u) -> None:
        if self.quiet:
            return
        val = "" if u.val_loss is None else f" val_loss {u.val_loss:.4f} val_acc {u.val_accuracy:.4f}"
        self.console.print(
            f"epoch {u.epoch}/{u.epochs} loss {u.loss:.4f} acc {u.accuracy:.4f}{val} ({u.elapsed:.0f} s)"
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _train_one(job, args) -> Any:
    from kpgui.core.storage.paths import log_path
    from kpgui.core.training.jobs import run_job
    from kpgui.core.training.worker import stderr_to

    # TensorFlow writes its chatter (oneDNN, cuInit) straight to file descriptor 2 at import and
    # at its first operation: all of it goes to a log; our progress goes to the real terminal.
    with stderr_to(log_path("tensorflow-cli.log")) as terminal:
        progress = Progress(terminal, args.quiet)
        try:
            return run_job(job, progress)
        finally:
            progress.close()


def _sweep_table(sweep, outcomes, best) -> str:
    from kpgui.core.display.runnames import final_numbers

    head = ("run", "status", "loss", "val_loss", "val_acc", "test_acc", "time")
    rows = [head]
    for i, (value, o) in enumerate(zip(sweep.values, outcomes, strict=True)):
        n = final_numbers(o)
        rows.append(
            (
                sweep.label(value) + (" *" if i == best else ""),
                o.status,
                n["loss"],
                n["val_loss"],
                n["val_accuracy"],
                n["test_accuracy"],
                MISSING if o.wall_time is None else f"{o.wall_time:.0f} s",
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    )


def run_sweep(args, spec_values: dict, option: str, values: tuple) -> int:
    """One run per value, a table, the best saved to --out."""
    from kpgui.core.storage.saving import copy_model
    from kpgui.core.training.jobs import TrainJob
    from kpgui.core.training.sweep import Sweep, best_index

    base = ModelSpec.from_dict({**spec_values, option: values[0]}, strict=True)
    sweep = Sweep(option, values, base)
    specs = sweep.specs()
    outcomes = []
    for i, (value, spec) in enumerate(zip(values, specs, strict=True)):
        print(f"[{i + 1}/{len(values)}] {sweep.label(value)}", file=sys.stderr, flush=True)
        job = TrainJob(
            spec,
            data_path=args.data,
            name=args.name or sweep.label(value),
            record=not args.no_history,
            tags={"sweep": sweep.describe(), "sweep_index": i},
            backend=args.backend,
        )
        outcomes.append(_train_one(job, args))
    best = best_index(outcomes)
    print(_sweep_table(sweep, outcomes, best))
    if best is None:
        print("kpgui train: no run of the sweep finished usefully; no model was saved", file=sys.stderr)
        return 1
    path = copy_model(outcomes[best].model_path, args.out, force=args.force)
    print(f"best: {sweep.label(values[best])} (lowest validation loss); saved {path}")
    return 0


def _continued_model(path: str, spec: ModelSpec) -> str:
    """The model to continue, checked now (readable, dense, the spec's layers), not after
    loading TensorFlow."""
    from kpgui.cli import CliError
    from kpgui.core.model.inference import ModelLoadError, Predictor

    try:
        start = Predictor.load(path)
    except (ModelLoadError, OSError) as exc:
        raise CliError(f"--continue: {exc}") from exc
    if start.layers is None:
        raise CliError(
            f"--continue: {Path(path).name} is not a plain dense network; kpgui "
            "continues only the dense networks it trains"
        )
    layers = tuple(layer.kernel.shape[1] for layer in start.layers[:-1])
    if layers != tuple(spec.hidden):
        raise CliError(
            f"--continue: {Path(path).name} has hidden layers "
            f"{','.join(map(str, layers))}; give --hidden {','.join(map(str, layers))}"
        )
    return str(path)


def run(args: argparse.Namespace) -> int:
    from kpgui.cli import CliError
    from kpgui.core.training.jobs import CONTINUE, TrainJob

    values = {o.name: getattr(args, o.name) for o in OPTIONS}
    swept = [name for name, v in values.items() if isinstance(v, Values)]
    if len(swept) > 1:
        raise CliError(f"sweep one option at a time (several values given to {', '.join(swept)})")
    if not args.out.endswith(".keras"):
        raise CliError(f"--out must end in .keras (got {args.out})")
    first = {**values, **{name: values[name][0] for name in swept}}
    spec = ModelSpec.from_dict(first, strict=True)
    errors = spec.errors()
    if errors:
        raise CliError("; ".join(errors.values()))
    job = TrainJob(
        spec,
        data_path=args.data,
        out=args.out,
        name=args.name,
        record=not args.no_history,
        force=args.force,
        backend=args.backend,
    )
    if args.continue_from:
        if swept:
            raise CliError("--continue trains one model further; it cannot be swept")
        job = replace(job, kind=CONTINUE, start_model=_continued_model(args.continue_from, spec))
    _tidy(args.out)
    try:
        job.check()  # an unwritable --out (or a foreign .json there) fails now, not after training
    except (OSError, ValueError) as exc:
        text = exc.strerror if isinstance(exc, OSError) and exc.errno and exc.strerror else str(exc)
        raise CliError(text + ("; or add --force to replace it" if "model card" in text else "")) from exc
    from kpgui.core.data.mnist import load_mnist

    load_mnist(args.data)  # a missing or bad MNIST fails now, before TensorFlow is imported
    if swept:
        return run_sweep(args, values, swept[0], values[swept[0]])
    outcome = _train_one(job, args)
    if outcome.status == "diverged":
        print(f"kpgui train: the run {outcome.summary}; no model was saved", file=sys.stderr)
        return 1
    if not outcome.usable:
        print("kpgui train: stopped before any training; no model was saved", file=sys.stderr)
        return 1
    on = f" on {outcome.device}" if outcome.device else ""
    print(
        f"{outcome.status}: {count(outcome.epochs_run, 'epoch')} in {outcome.wall_time or 0:.1f} s "
        f"({outcome.samples_per_second:.0f} samples/s{on}); test accuracy {percent(outcome.test_accuracy)}"
    )
    cal = outcome.calibration or {}
    if cal:
        from kpgui.core.reading.confidence import Calibration

        rule = Calibration.from_card({"calibration": cal}).rule()
        print(f"confidence calibrated: temperature {cal.get('temperature')}, {rule}")
    if outcome.out_path:
        print(f"saved {outcome.out_path} and its card {outcome.out_path[: -len('.keras')] + '.json'}")
    if outcome.id is not None:
        print(f"recorded as run {outcome.id} (kpgui runs; the window's History tab)")
    elif outcome.record_error:
        print(f"kpgui train: {outcome.record_error}", file=sys.stderr)
    if outcome.out_error:
        print(
            f"kpgui train: --out {args.out} was not written: {outcome.out_error} The model is "
            f"kept at {outcome.model_path}"
            + (f" (run {outcome.id} in the history)." if outcome.id is not None else "."),
            file=sys.stderr,
        )
        return 1
    return 0


def _tidy(out: str) -> None:
    """Clean what interrupted runs left (temporary files beside --out, unrecorded models in the
    models folder), with a line for each kind."""
    from kpgui.core.storage.store import Store, StoreError
    from kpgui.core.storage.tidy import tidy_data_folder, tidy_out_folder

    lines = tidy_out_folder(out)
    try:
        with Store.open_default() as store:
            lines += tidy_data_folder(store)
    except (StoreError, OSError):
        pass
    for line in lines:
        print(f"kpgui train: {line}", file=sys.stderr)
