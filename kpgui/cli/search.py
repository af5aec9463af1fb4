"""`kpgui search`: find good settings by trying many (Optuna), on this machine or several."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from typing import Any

from kpgui.core.display.numbers import MISSING, percent
from kpgui.core.model.options import OPTIONS
from kpgui.core.training.search import DEFAULT_WORKERS

RANGE_HELP = (
    "Any training option takes a range: --lr 1e-4..1e-1:log (log-uniform), --epochs 2..10 "
    "(whole numbers), --dropout 0..0.5, --optimizer adam/sgd or --batch-size 32/64/128 "
    "(choices separated by '/'), --hidden 128/256/512,512 (each choice a whole layer "
    "list: one layer of 128, one of 256, or two of 512). A plain value is used by every "
    "trial."
)


def register(sub) -> None:
    p = sub.add_parser(
        "search",
        help="search many settings at once for the best network (Optuna)",
        description="Try many settings of the network and its training together and keep the best "
        "(Optuna: TPE by default; trials behind the median after an epoch are stopped early). "
        "Each trial is an ordinary run in kpgui's history, tagged with the study. "
        + RANGE_HELP
        + " Several processes (--workers) and machines (--join with the same --storage and --study) "
        "can share one study.",
    )
    for opt in OPTIONS:
        p.add_argument(
            opt.flag,
            dest=opt.name,
            metavar="RANGE",
            default=None,
            help=f"{opt.help} (default: {opt.format(opt.default)})",
        )
    p.add_argument("--trials", type=int, default=20, help="how many trials the study runs (default: 20)")
    p.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help="training processes on this machine taking trials from the study, each with the cores "
        f"divided by the workers (default: {DEFAULT_WORKERS}, measured: see the README's Search)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads per worker (default: the cores divided by the workers)",
    )
    p.add_argument(
        "--storage",
        metavar="URL",
        default=None,
        help="where the study lives: a journal file path (on a shared disk for several "
        "machines) or a database URL such as postgresql://user:pw@host/db (default: a "
        "journal file in kpgui's data folder)",
    )
    p.add_argument(
        "--study",
        metavar="NAME",
        default=None,
        help="the study's name (default: search-<date>-<time>); the same name resumes it",
    )
    p.add_argument(
        "--join",
        action="store_true",
        help="help a running study as more workers: give only --storage and --study "
        "(the ranges come from the study)",
    )
    p.add_argument(
        "--sampler",
        choices=("tpe", "random", "grid"),
        default="tpe",
        help="how trials are chosen: tpe (learns from earlier trials), random, or grid "
        "(every combination of '/' choices, like a sweep) (default: tpe)",
    )
    p.add_argument(
        "--objective",
        choices=("val_loss", "val_accuracy"),
        default="val_loss",
        help="what 'best' means: the lowest validation loss or the highest validation "
        "accuracy after the last epoch (default: val_loss)",
    )
    p.add_argument(
        "--pruner",
        choices=("median", "none"),
        default="median",
        help="median: stop a trial whose validation metric after an epoch is worse than "
        "the median of earlier trials at that epoch (after 5 trials); none: run every trial "
        "in full (default: median)",
    )
    p.add_argument(
        "--out",
        metavar="PATH",
        default=None,
        help="save the best trial's model (and its card) here (default: only report it)",
    )
    p.add_argument(
        "--data", metavar="PATH", default=None, help="MNIST .npz (default: $KPGUI_MNIST or the Keras cache)"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON (no live table)")
    p.set_defaults(run=run)


def _study_setup(args: argparse.Namespace) -> tuple[Any, Any, str]:
    from kpgui.cli import CliError
    from kpgui.core.training import search

    given = {o.name: getattr(args, o.name) for o in OPTIONS if getattr(args, o.name) is not None}
    try:
        if args.join:
            if not args.study:
                raise CliError("--join needs the study's --study NAME (and its --storage URL)")
            if given:
                raise CliError("--join takes the ranges from the study; give only --storage and --study")
            study, config = search.load_study(args.storage, args.study)
            return study, config, args.study
        if args.trials < 1:
            raise CliError("--trials must be at least 1")
        space = search.SearchSpace.parse(given)
        config = search.StudyConfig(space, args.objective, args.sampler, args.trials, args.pruner)
        name = args.study or "search-" + _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        return search.create_study(args.storage, name, config), config, name
    except (ValueError, search.SearchError) as exc:
        raise CliError(str(exc)) from None


def _table(rows: list[dict], config: Any, name: str, best: dict | None) -> Any:
    from rich.table import Table

    from kpgui.core.training.search import OBJECTIVE_TEXT, params_text

    caption = f"best: trial {best['trial']} ({config.objective} {best['value']:.4f})" if best else ""
    table = Table(title=f"study {name} · objective: {OBJECTIVE_TEXT[config.objective]}", caption=caption)
    for col in ("trial", "state", "epoch", config.objective, "values"):
        table.add_column(col, justify="right" if col != "values" else "left")
    for r in rows:
        # a diverged trial's last reported epoch is not its result: no number
        metric = None if r.get("diverged") else r["value"] if r["value"] is not None else r["metric"]
        state = r["state"] + (" *" if best and r["trial"] == best["trial"] else "")
        table.add_row(
            str(r["trial"]),
            state,
            "" if r["epoch"] is None else str(r["epoch"]),
            "" if metric is None else f"{metric:.4f}",
            params_text(r["params"]),
        )
    return table


def _line(r: dict, objective: str) -> str:
    from kpgui.core.training.search import params_text

    value = "" if r["value"] is None else f" {objective} {r['value']:.4f}"
    epoch = "" if r["epoch"] is None else f" after epoch {r['epoch']}"
    return f"trial {r['trial']} {r['state']}{epoch}{value}: {params_text(r['params'])}"


def run(args: argparse.Namespace) -> int:
    from kpgui.cli import CliError
    from kpgui.core.training import search

    if args.workers < 1:
        raise CliError("--workers must be at least 1")
    if args.out is not None:
        if not args.out.endswith(".keras"):
            raise CliError(f"--out must end in .keras (got {args.out})")
        from kpgui.core.storage.saving import check_writable

        try:
            check_writable(args.out)
        except OSError as exc:
            raise CliError(str(exc)) from None
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study, config, name = _study_setup(args)
    from kpgui.core.data.mnist import load_mnist

    load_mnist(args.data)  # a missing MNIST fails now, not in every worker
    where = args.storage or search.default_storage()
    say = sys.stderr if args.json else sys.stdout
    print(
        f"study {name} in {where}: {config.space.describe()}; {config.trials} trials, "
        f"{args.workers} worker(s). Other machines join with: kpgui search --join --storage "
        f"{where} --study {name}",
        file=say,
        flush=True,
    )
    workers = search.SearchRun(args.storage, name, args.workers, args.data, args.threads)
    live = None
    if not args.json and sys.stdout.isatty():
        from rich.live import Live

        live = Live(refresh_per_second=2, transient=False)
        live.start()
    shown: set[int] = set()

    def poll() -> None:
        rows = [search.trial_row(t) for t in study.get_trials(deepcopy=False)]
        best = search.best_trial(study)
        if live is not None:
            live.update(_table(rows, config, name, search.trial_row(best) if best else None))
        elif not args.json:
            for r in rows:
                if r["state"] not in ("running", "waiting") and r["trial"] not in shown:
                    shown.add(r["trial"])
                    print(_line(r, config.objective), flush=True)

    interrupted = False
    workers.start()
    try:
        try:
            workers.wait(study, poll)
        except KeyboardInterrupt:
            interrupted = True
            print(
                "stopping: running trials end after their current batch (Ctrl-C again kills them)",
                file=sys.stderr,
                flush=True,
            )
            workers.stop()
            try:
                workers.wait(study, poll)
            except KeyboardInterrupt:
                workers.kill()
                workers.wait(study)
        poll()
    finally:
        if live is not None:
            live.stop()
    return _finish(args, study, config, name, workers, interrupted)


def _finish(args, study, config, name: str, workers, interrupted: bool) -> int:
    import os

    from kpgui.core.training import search

    rows = [search.trial_row(t) for t in study.get_trials(deepcopy=False)]
    best_t = search.best_trial(study)
    best = search.trial_row(best_t) if best_t else None
    saved, problem = None, None
    if best is not None and args.out:
        path = best.get("model_path")
        if path and os.path.isfile(path):
            from kpgui.core.storage.saving import copy_model

            saved = str(
                copy_model(
                    path,
                    args.out,
                    search={
                        "study": name,
                        "trial": best["trial"],
                        "objective": config.objective,
                        "value": best["value"],
                        "params": best["params"],
                    },
                )
            )
        else:
            problem = (
                f"the best trial's model is not on this machine (trained on "
                f"{best.get('host')}: {path}); copy it from there"
            )
    if args.json:
        print(
            json.dumps(
                {
                    "study": name,
                    "storage": args.storage or search.default_storage(),
                    "objective": config.objective,
                    "sampler": config.sampler,
                    "interrupted": interrupted,
                    "trials": rows,
                    "best": best,
                    "out": saved,
                    "failed_workers_trials": workers.orphans,
                },
                default=str,
            )
        )
    else:
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["state"]] = counts.get(r["state"], 0) + 1
        print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no trials")
        if best is not None:
            value = best["value"]
            acc = best.get("test_accuracy")
            acc_text = "" if percent(acc) == MISSING else f", test accuracy {percent(acc)}"
            print(
                f"best: trial {best['trial']}, {config.objective} {value:.4f}{acc_text}: "
                f"{search.params_text(best['params'])} (run {best.get('run_id')} in kpgui runs)"
            )
            print(f"saved {saved} and its card" if saved else f"model: {best.get('model_path')}")
    crashed = [p.exitcode for p in workers.processes if p.exitcode not in (0, None)]
    if crashed and not interrupted:
        from kpgui.core.storage.paths import log_path

        problem = problem or (
            f"{len(crashed)} worker(s) ended with an error (exit code "
            f"{crashed[0]}); their messages are in {log_path('search-worker.log')}"
        )
    if problem:
        print(f"kpgui search: {problem}", file=sys.stderr)
    if interrupted:
        return 130
    return 0 if best is not None else 1
