"""Searches: many settings tried together, hopeless trials stopped early, on one machine or many.

A sweep (kpgui.core.training.sweep) varies one option over a list. A search draws whole settings from
ranges of any training options (learning rate, widths, depth, dropout, batch size, optimizer, …)
with Optuna: TPE by default, a grid for sweep-like lists, random for comparison. After every epoch
a trial reports its validation metric to Optuna and stops when the pruner says it is behind the
others (MedianPruner). The study lives in Optuna's storage: by default a journal file in kpgui's
data folder, or any storage URL (a journal file on a shared disk, a database) that several
processes and machines share — each takes the next trial from the same study.

A trial is an ordinary kpgui run: it goes through kpgui.core.training.jobs.run_job (the same Trainer, logs,
model file and History record), tagged {"study": name, "trial": number}.

Range syntax (one option, on the command line or in the study):
    1e-4..1e-1:log   a number drawn between the bounds (":log": log-uniform); whole numbers for
                     whole-number options (--epochs 2..10, --batch-size 32..256:log)
    adam/sgd         one of the choices separated by "/" (any option)
    32/64/128,128    hidden layers: each "/"-separated choice is a whole layer list, as in a
                     sweep (here: one layer of 32, one of 64, or two of 128)
    0.25             a plain value is fixed: every trial uses it
"""

from __future__ import annotations

import math
import os
import socket
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kpgui.core.model.options import BY_NAME, Option
from kpgui.core.model.spec import ModelSpec
from kpgui.core.training.progress import Listener

SAMPLERS = ("tpe", "random", "grid")
OBJECTIVES: dict[str, Literal["minimize", "maximize"]] = {"val_loss": "minimize", "val_accuracy": "maximize"}
OBJECTIVE_TEXT = {"val_loss": "lowest validation loss", "val_accuracy": "highest validation accuracy"}
CONFIG_ATTR = "kpgui"  # the study's user attribute holding its ranges, objective and budget
MAX_GRID = 1000
# Worker processes a search starts on this machine when not told (`kpgui search --workers`, the
# Search tab's Workers): 2 where there are 2 cores or more. Measured on 2 cores (benchmarks/
# bench_search.py, 16-trial TPE searches, 3 runs, 2026-12-03, the machine shared): 2 workers of
# 1 core each trained 1.48x, 1.53x and 1.70x as many images per second as 1 worker with both
# cores (the rule: 2 when >= 1.2x), at the same or less CPU time per image (2 workers 3,050 /
# 3,960 / 4,050 images per CPU second, 1 worker 3,030 / 3,750 / 3,010): one worker leaves a core
# idle while it builds, validates, tests and saves each trial, and XLA's small matrix products
# do not keep two threads busy. The README's Search section says the same.
DEFAULT_WORKERS = min(2, os.cpu_count() or 1)
# What a diverged trial is worth to Optuna: the worst value of the objective. It ends COMPLETE with
# this value (and the user attribute `diverged`), not FAILED: TPE learns only from complete and
# pruned trials, so a failed diverged trial would leave it sampling the same too-large learning
# rates again. Optuna accepts +inf (only NaN makes a trial fail, optuna/study/_tell.py) and TPE
# just sorts complete trials by value (optuna/samplers/_tpe/sampler.py,
# _split_complete_trials_single_objective), so +inf lands among the "bad" trials; the pruner
# ignores it (it reads intermediate values only).
DIVERGED_VALUE = {"val_loss": math.inf, "val_accuracy": 0.0}
DIVERGED_ATTR = "diverged"
STATE_WORDS = {
    "COMPLETE": "finished",
    "FAIL": "failed",
    "PRUNED": "pruned",
    "RUNNING": "running",
    "WAITING": "waiting",
}


class SearchError(Exception):
    """A problem with the study or its storage, said in one line a person can act on."""


class SearchStopped(Exception):
    """The person asked the search to stop; the running trial ends as failed (Optuna's catch)."""


# -- ranges -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """What a search may choose for one option: `choices`, or a number between `low` and `high`
    (log-uniform when `log`)."""

    option: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()

    @property
    def opt(self) -> Option:
        return BY_NAME[self.option]

    def text(self) -> str:
        """The range as it is written: '0.0001..0.1:log', 'adam/sgd', '32/64,64'."""
        if self.choices:
            return "/".join(self.opt.format(c) for c in self.choices)
        return f"{self.opt.format(self.low)}..{self.opt.format(self.high)}" + (":log" if self.log else "")

    def bounds(self) -> tuple[float, float]:
        """(low, high) of a number range (parse_range sets both whenever there are no choices)."""
        assert self.low is not None and self.high is not None, f"{self.option}: not a number range"
        return self.low, self.high

    def suggest(self, trial: Any) -> Any:
        """Ask an Optuna trial for a value (hidden layer lists travel as their text '512,512')."""
        if self.choices:
            if self.option == "hidden":
                return BY_NAME["hidden"].parse(
                    trial.suggest_categorical("hidden", [self.opt.format(c) for c in self.choices])
                )
            return trial.suggest_categorical(self.option, list(self.choices))
        low, high = self.bounds()
        if self.opt.kind is int:
            return trial.suggest_int(self.option, int(low), int(high), log=self.log)
        return trial.suggest_float(self.option, float(low), float(high), log=self.log)

    def grid_values(self) -> list:
        """Every value, for the grid sampler: choices, or each whole number of an int range."""
        if self.choices:
            return [self.opt.format(c) if self.option == "hidden" else c for c in self.choices]
        low, high = self.bounds()
        if self.opt.kind is int and high - low < 50:
            return list(range(int(low), int(high) + 1))
        raise ValueError(
            f"{self.opt.flag} {self.text()}: a grid needs a list of values "
            "separated by '/', not a range (or use --sampler tpe or random)"
        )

    def to_dict(self) -> dict:
        if self.choices:
            return {
                "option": self.option,
                "choices": [list(c) if isinstance(c, tuple) else c for c in self.choices],
            }
        return {"option": self.option, "low": self.low, "high": self.high, "log": self.log}

    @classmethod
    def from_dict(cls, data: dict) -> Range:
        if "choices" in data:
            choices = tuple(tuple(c) if isinstance(c, list) else c for c in data["choices"])
            return cls(data["option"], choices=choices)
        return cls(data["option"], data["low"], data["high"], bool(data.get("log")))


def _bound(opt: Option, text: str, whole: str) -> Any:
    try:
        value = opt.parse(text)
    except ValueError as exc:
        raise ValueError(f"{opt.flag} {whole}: {exc}") from None
    reason = opt.check(value)
    if reason:
        raise ValueError(f"{opt.flag} {whole}: {reason}")
    return value


def parse_range(option: str, text: str) -> Range | Any:
    """`text` for `option` -> a Range to search, or the one fixed value a plain text names.
    Raises one ValueError that starts with the option's flag and says what is wrong."""
    if option not in BY_NAME:
        raise ValueError(f"unknown option {option!r}")
    opt = BY_NAME[option]
    t = str(text).strip()
    if ".." in t:
        body, _, suffix = t.partition(":")
        if suffix and suffix.strip().lower() != "log":
            raise ValueError(f"{opt.flag} {t}: after ':' only 'log' is understood, e.g. 1e-4..1e-1:log")
        if opt.kind not in (int, float) or opt.optional:
            example = "32/64/128,128" if opt.kind is tuple else "/".join(opt.choices[:2] or ("yes", "no"))
            raise ValueError(
                f"{opt.flag} {t}: {opt.label.lower()} takes choices separated by '/', e.g. {example}"
            )
        lo_text, _, hi_text = body.partition("..")
        if not lo_text.strip() or not hi_text.strip():
            raise ValueError(
                f"{opt.flag} {t}: a range needs both ends, e.g. "
                f"{opt.format(opt.default or 1)}..{opt.format((opt.default or 1) * 2)}"
            )
        low, high = _bound(opt, lo_text, t), _bound(opt, hi_text, t)
        if not low < high:
            raise ValueError(f"{opt.flag} {t}: the range's low end must be below its high end")
        log = bool(suffix)
        if log and low <= 0:
            raise ValueError(f"{opt.flag} {t}: a log range must start above 0")
        return Range(option, low, high, log)
    sep = "/" if "/" in t else ";" if opt.kind is tuple and ";" in t else None
    if sep is None:
        return _bound(opt, t, t)
    values = [_bound(opt, part, t) for part in (p.strip() for p in t.split(sep)) if part]
    if len(values) < 2:
        raise ValueError(f"{opt.flag} {t}: give at least two choices separated by '/'")
    if len(set(map(repr, values))) != len(values):
        raise ValueError(f"{opt.flag} {t}: the choices repeat")
    return Range(option, choices=tuple(values))


# -- the space ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchSpace:
    """The base settings and the ranges a search draws from."""

    base: ModelSpec
    ranges: tuple[Range, ...]

    @classmethod
    def parse(cls, texts: dict[str, str], base: ModelSpec | None = None) -> SearchSpace:
        """{'learning_rate': '1e-4..1e-1:log', 'epochs': '2', ...} -> a space; ValueError naming
        the option for a bad range, and when nothing is searched or there is no validation."""
        fixed: dict[str, Any] = {}
        ranges: list[Range] = []
        for name, text in texts.items():
            parsed = parse_range(name, text)
            (ranges.append(parsed) if isinstance(parsed, Range) else fixed.__setitem__(name, parsed))
        if not ranges:
            raise ValueError(
                "give at least one range to search, e.g. --lr 1e-4..1e-1:log or --optimizer adam/sgd"
            )
        spec = (base or ModelSpec()).replace(**fixed)
        errors = spec.errors()
        if errors:
            raise ValueError("; ".join(errors.values()))
        space = cls(spec, tuple(ranges))
        space.check()
        return space

    def check(self) -> None:
        if self.base.validation_split <= 0 and not any(r.option == "validation_split" for r in self.ranges):
            raise ValueError("a search compares validation metrics: --validation-split must be above 0")

    def spec(self, values: dict[str, Any]) -> ModelSpec:
        return self.base.replace(**values)

    def suggest(self, trial: Any) -> ModelSpec:
        """The settings of one trial, drawn by Optuna."""
        return self.spec({r.option: r.suggest(trial) for r in self.ranges})

    def grid(self) -> dict[str, list]:
        grid = {r.option: r.grid_values() for r in self.ranges}
        if math.prod(len(v) for v in grid.values()) > MAX_GRID:
            raise ValueError(f"the grid has more than {MAX_GRID} points; use fewer choices or --sampler tpe")
        return grid

    def size(self) -> int | None:
        """How many points a grid has (None: not a grid)."""
        try:
            return math.prod(len(v) for v in self.grid().values())
        except ValueError:
            return None

    def describe(self) -> str:
        return " · ".join(f"{r.opt.flag} {r.text()}" for r in self.ranges)

    def to_dict(self) -> dict:
        return {"base": self.base.to_dict(), "ranges": [r.to_dict() for r in self.ranges]}

    @classmethod
    def from_dict(cls, data: dict) -> SearchSpace:
        return cls(ModelSpec.from_dict(data["base"]), tuple(Range.from_dict(r) for r in data["ranges"]))


def params_text(params: dict[str, Any]) -> str:
    """A trial's values as people read them: 'lr 0.0031 · layers 256 · adam'."""
    out = []
    for name, value in params.items():
        opt = BY_NAME.get(name)
        if opt is None:
            out.append(f"{name} {value}")
        elif opt.kind is float and isinstance(value, float):
            out.append(f"{opt.label.lower() if opt.short is None else opt.short} {value:.3g}".strip())
        else:
            out.append(opt.tag(opt.parse(value) if name == "hidden" else value))
    return " · ".join(out)


# -- storage, sampler, study --------------------------------------------------------------------


def default_storage() -> str:
    """The journal file in kpgui's data folder that holds local studies."""
    from kpgui.core.storage.paths import data_dir

    return str(data_dir() / "studies.journal")


def _journal(path: str) -> Any:
    import optuna

    p = Path(path).expanduser()
    if p.is_dir():
        raise SearchError(f"cannot use the study storage {p}: that is a folder; give a file name")
    if not p.parent.is_dir():
        raise SearchError(f"cannot use the study storage {p}: the folder {p.parent} does not exist")
    try:
        with open(p, "ab"):
            pass
    except OSError as exc:
        raise SearchError(
            f"cannot write the study storage {p} ({exc.strerror or exc}); check the "
            "permissions or give another --storage"
        ) from None
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(str(p)))


def open_storage(url: str | None = None) -> Any:
    """An Optuna storage: a journal file (a path, or journal:///path) or a database URL
    (sqlite:///x.db, postgresql://…, mysql://…). SearchError when it cannot be reached."""
    import optuna

    url = url or default_storage()
    if "://" not in url:
        return _journal(url)
    scheme, _, rest = url.partition("://")
    if scheme in ("journal", "file"):
        return _journal(rest)
    try:
        with warnings.catch_warnings():  # the heartbeat is "experimental" since Optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            # a worker that dies is noticed by the others (its trial is marked failed)
            return optuna.storages.RDBStorage(url, heartbeat_interval=60, grace_period=180)
    except ImportError as exc:
        raise SearchError(f"cannot reach the study storage {url}: a driver is missing ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy's many errors: one line for people
        from sqlalchemy.exc import StatementError

        # SQLAlchemy's errors carry the database's own in .orig; other storages' errors do not
        original = exc.orig if isinstance(exc, StatementError) else None
        reason = str(original or exc).splitlines()[0]
        raise SearchError(f"cannot reach the study storage {url}: {reason}") from None


def make_sampler(name: str, space: SearchSpace) -> Any:
    import optuna

    if name == "grid":
        return optuna.samplers.GridSampler(space.grid())
    if name == "random":
        return optuna.samplers.RandomSampler()
    if name == "tpe":
        # constant_liar: trials running in other workers count as tried, so they spread out
        return optuna.samplers.TPESampler(constant_liar=True)
    raise ValueError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")


PRUNERS = ("median", "none")


def make_pruner(name: str = "median") -> Any:
    """ "median": stop a trial whose validation metric after an epoch is worse than the median of
    the earlier trials at that epoch (Optuna's MedianPruner, its defaults: the first 5 trials run
    in full); "none": every trial runs all its epochs."""
    import optuna

    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "median":
        return optuna.pruners.MedianPruner()
    raise ValueError(f"unknown pruner {name!r}; choose one of {', '.join(PRUNERS)}")


@dataclass(frozen=True)
class StudyConfig:
    """What every worker of a study must agree on; stored in the study itself so a machine that
    joins needs only the storage and the study name."""

    space: SearchSpace
    objective: str = "val_loss"
    sampler: str = "tpe"
    trials: int = 20
    pruner: str = "median"

    def to_dict(self) -> dict:
        return {
            "space": self.space.to_dict(),
            "objective": self.objective,
            "sampler": self.sampler,
            "trials": self.trials,
            "pruner": self.pruner,
        }

    @classmethod
    def from_dict(cls, data: dict) -> StudyConfig:
        return cls(
            SearchSpace.from_dict(data["space"]),
            data["objective"],
            data["sampler"],
            int(data["trials"]),
            data.get("pruner", "median"),
        )


def create_study(storage: str | None, name: str, config: StudyConfig) -> Any:
    """Create the study (or reopen the same one: a search can be resumed). SearchError when a
    study of that name already searches something else."""
    import optuna

    if config.objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {config.objective!r}; choose val_loss or val_accuracy")
    sampler = make_sampler(config.sampler, config.space)
    study = optuna.create_study(
        storage=open_storage(storage),
        study_name=name,
        sampler=sampler,
        pruner=make_pruner(config.pruner),
        direction=OBJECTIVES[config.objective],
        load_if_exists=True,
    )
    stored = study.user_attrs.get(CONFIG_ATTR)
    if stored is None:
        study.set_user_attr(CONFIG_ATTR, config.to_dict())
    elif stored != config.to_dict():
        raise SearchError(
            f"a study named {name!r} already searches other ranges; add --join to help "
            "it, or choose another --study name"
        )
    return study


def load_study(storage: str | None, name: str) -> tuple[Any, StudyConfig]:
    """The study (with the sampler and pruner it was made with) and its config."""
    import optuna

    store = open_storage(storage)
    try:
        raw = optuna.load_study(study_name=name, storage=store)
    except KeyError:
        raise SearchError(f"there is no study named {name!r} in {storage or default_storage()}") from None
    data = raw.user_attrs.get(CONFIG_ATTR)
    if not isinstance(data, dict):
        raise SearchError(f"the study {name!r} was not made by kpgui search (it has no ranges)")
    config = StudyConfig.from_dict(data)
    study = optuna.load_study(
        study_name=name,
        storage=store,
        sampler=make_sampler(config.sampler, config.space),
        pruner=make_pruner(config.pruner),
    )
    return study, config


# -- one trial ----------------------------------------------------------------------------------


def pruning_callback(trial: Any, metric: str, notes: dict) -> Any:
    """A Keras callback: after each epoch report `metric` to the trial (step = epoch, from 1) and
    end training when Optuna's pruner says the trial is behind; `notes['pruned_at_epoch']` says
    when (the run's History tags carry it)."""
    import keras

    class ReportToOptuna(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get(metric)
            if value is None or not math.isfinite(float(value)):
                return
            trial.report(float(value), epoch + 1)
            if trial.should_prune():
                notes["pruned_at_epoch"] = epoch + 1
                self.model.stop_training = True

    return ReportToOptuna()


def run_trial(
    trial: Any,
    config: StudyConfig,
    study_name: str,
    data_path: str | None = None,
    stop_event: Any = None,
    listener: Listener | None = None,
) -> float:
    """Optuna's objective: train one run with the trial's settings through run_job, recorded once
    in History with the study's tags; the last epoch's validation metric is the trial's value."""
    import optuna

    from kpgui.core.model.run import DIVERGED
    from kpgui.core.training.jobs import TrainJob, run_job

    trial.set_user_attr("host", socket.gethostname())  # first: a worker that dies is found by these
    trial.set_user_attr("pid", os.getpid())
    spec = config.space.suggest(trial)
    tags: dict[str, Any] = {"study": study_name, "trial": trial.number}
    job = TrainJob(spec, data_path=data_path, name=f"{study_name} #{trial.number}", tags=tags)
    try:
        run = run_job(
            job, listener, stop_event, extra_callbacks=[pruning_callback(trial, config.objective, tags)]
        )
    except Exception as exc:
        from kpgui.core.display.errors import one_line

        trial.set_user_attr("error", one_line(exc, "Training"))  # the table says why it failed
        raise
    for key, value in (
        ("run_id", run.id),
        ("model_path", run.model_path),
        ("status", run.status),
        ("epochs_run", run.epochs_run),
        ("test_accuracy", run.test_accuracy),
    ):
        trial.set_user_attr(key, value)
    if run.status == DIVERGED:  # before Stop and pruning: a diverged run says the most
        trial.set_user_attr(DIVERGED_ATTR, True)
        return DIVERGED_VALUE[config.objective]  # complete, and the worst: see DIVERGED_VALUE
    if stop_event is not None and stop_event.is_set():
        raise SearchStopped("stopped by the person")
    if "pruned_at_epoch" in tags:
        raise optuna.TrialPruned(f"behind the median after epoch {tags['pruned_at_epoch']}")
    values = [v for v in run.history.get(config.objective, []) if v is not None]
    value = float(values[-1]) if values else math.nan
    return value  # NaN (no validation) -> Optuna marks the trial failed


def set_threads(threads: int, cores: Iterable[int] | None = None) -> None:
    """Threads for this process's TensorFlow/BLAS, before Keras is imported: N workers on C
    cores get C // N each so they do not fight over the cores. JAX (the default backend) has no
    thread setting: XLA sizes its pool from the cores the process may run on, so a worker given
    `cores` is limited to them (its own slice of the machine, see worker_cores)."""
    n = str(max(1, int(threads)))
    for var in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = n
    os.environ["TF_NUM_INTEROP_THREADS"] = "1" if n == "1" else "2"
    if cores and sys.platform == "linux":  # os.sched_setaffinity is Linux's
        try:
            os.sched_setaffinity(0, set(cores))
        except OSError:  # a core went away or is not ours: run unpinned, slower but right
            pass


def worker_cores(workers: int, threads: int) -> list[list[int] | None]:
    """Each worker's own cores when the workers' threads fit on this machine's cores
    (2 workers x 1 thread on 2 cores: [[0], [1]]); None (not pinned) when they do not fit or
    one worker has them all."""
    try:
        mine = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return [None] * workers
    if workers * threads > len(mine) or threads >= len(mine):
        return [None] * workers
    return [mine[i * threads : (i + 1) * threads] for i in range(workers)]


def claim_cores(choices: Iterable[list[int]], lock_dir: Path) -> tuple[list[int] | None, list[Any]]:
    """The first of `choices` (core lists, the worker's own slice first) that no other kpgui search
    worker on this machine holds, and the locks that hold it for this process's life; (None, [])
    when every choice is taken: the worker then runs unpinned.

    Why: two separate `kpgui search` commands each planned worker 0 on core 0 and worker 1 on
    core 1, so their workers shared cores while pinned and could not move. Of the ways to know
    which cores are free-er (asking other processes' affinity, counting the study's running trials,
    which says nothing about other studies), a lock file per core is the simplest robust one: an
    flock belongs to the open file, so the kernel releases it when its worker ends, however it ends
    (killed, crashed), and two workers cannot take the same core. The second command's workers find
    the cores held and are left to the system's scheduler, which spreads them."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): no affinity either (set_threads)
        return None, []
    for cores in choices:
        held: list[Any] = []
        for core in cores:
            try:
                lock = open(lock_dir / f"search-core-{core}.lock", "a")  # noqa: SIM115 - held for life
            except OSError:
                break
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # another worker has it
                lock.close()
                break
            held.append(lock)
        else:
            return list(cores), held
        for lock in held:
            lock.close()
    return None, []


def counted(trials: Iterable[Any]) -> int:
    """Trials that use up the budget: all but the failed ones (a failed trial is tried again)."""
    import optuna

    return sum(1 for t in trials if t.state != optuna.trial.TrialState.FAIL)


def worker_main(
    storage: str | None,
    study_name: str,
    data_path: str | None,
    stop_event: Any,
    threads: int,
    quiet: bool = True,
    cores: list[list[int]] | None = None,
) -> None:
    """One worker process: take trials from the study until its budget is used up or Stop.
    Ctrl-C is the parent's to handle: it sets `stop_event`, the running trial stops after its
    current batch, is recorded (status "stopped") and ends failed in the study. `cores`: the core
    lists it may pin itself to, its own first (the first one free, see claim_cores)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from kpgui.core.storage.paths import data_dir

    mine, _locks = claim_cores(cores or [], data_dir())  # _locks: held until this process ends
    set_threads(threads, mine)
    import optuna

    if quiet:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    from kpgui.core.storage.paths import log_path
    from kpgui.core.training.worker import stderr_to

    with stderr_to(log_path("search-worker.log")):  # TensorFlow's chatter, Optuna's warnings
        study, config = load_study(storage, study_name)
        while not stop_event.is_set():
            trials = study.get_trials(deepcopy=False)
            done = counted(trials)
            # A failed trial (crashed, its worker killed) is tried again, so that 1 worker or
            # several train the same budget; a study whose trials keep failing ends after as many
            # failures as its budget. A diverged trial is complete (DIVERGED_VALUE): it counts.
            if done >= config.trials or len(trials) - done >= config.trials:
                break
            if config.sampler == "grid" and study.sampler.is_exhausted(study):
                break
            study.optimize(
                lambda t: run_trial(t, config, study_name, data_path, stop_event),
                n_trials=1,
                catch=(SearchStopped,),
            )
    # Every trial is stored (the journal file and the database write each change at once) and
    # every run recorded: end now. Letting Python tear down TensorFlow/JAX/XLA (garbage-collecting
    # their graphs, atexit handlers) took 3-13 s after the last trial, which the command waited for.
    import logging

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def fail_orphans(study: Any, pids: Iterable[int], host: str | None = None) -> list[int]:
    """Mark FAIL the running trials of worker processes `pids` on `host` that died (killed, out of
    memory): the study stays consistent and their budget goes to the other workers."""
    import optuna

    host = host or socket.gethostname()
    pids, failed = set(pids), []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if t.user_attrs.get("pid") in pids and t.user_attrs.get("host") == host:
            study._storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL)
            failed.append(t.number)
    return failed


@dataclass
class SearchRun:
    """A search in progress from the machine that started (or joined) it: its worker processes."""

    storage: str | None
    study_name: str
    workers: int
    data_path: str | None = None
    threads: int | None = None
    processes: list = field(default_factory=list)
    orphans: list[int] = field(default_factory=list)

    def start(self) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.stop_event = ctx.Event()
        threads = self.threads or max(1, (os.cpu_count() or 1) // max(1, self.workers))
        slices = worker_cores(self.workers, threads)
        for i, own in enumerate(slices):
            # its own slice first, then the others (one may be free when another command has its own)
            cores = None if own is None else [c for c in slices[i:] + slices[:i] if c is not None]
            p = ctx.Process(
                target=worker_main,
                daemon=False,
                args=(self.storage, self.study_name, self.data_path, self.stop_event, threads, True, cores),
            )
            p.start()
            self.processes.append(p)

    def alive(self) -> bool:
        return any(p.is_alive() for p in self.processes)

    def reap(self, study: Any) -> None:
        """Fail the trials of workers that died without finishing them."""
        dead = [p.pid for p in self.processes if not p.is_alive() and p.exitcode not in (0, None)]
        if dead:
            self.orphans += fail_orphans(study, dead)

    def stop(self) -> None:
        """Ask the workers to stop after their current batch (their trials end as failed)."""
        self.stop_event.set()

    def kill(self) -> None:
        for p in self.processes:
            if p.is_alive():
                p.terminate()

    def wait(self, study: Any, poll: Callable[[], None] | None = None, interval: float = 1.0) -> None:
        """Until every worker has ended, calling `poll` every `interval` seconds."""
        from multiprocessing.connection import wait

        while self.alive():
            if poll:
                poll()
            self.reap(study)
            # wakes as soon as a worker ends (time.sleep made the command wait out the interval);
            # join it, or is_alive() may say "alive" for a moment more and this loop would spin
            ended = wait([p.sentinel for p in self.processes if p.is_alive()], timeout=interval)
            for p in self.processes:
                if p.sentinel in ended:
                    p.join()
        for p in self.processes:
            p.join()
        self.reap(study)


def is_diverged(t: Any) -> bool:
    """A trial whose run diverged (complete in the study with the worst value, DIVERGED_VALUE)."""
    return bool(t.user_attrs.get(DIVERGED_ATTR))


def best_trial(study: Any) -> Any | None:
    """The best finished trial that did not diverge, or None (a diverged trial has no model)."""
    import optuna

    done = [
        t
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if not is_diverged(t) and t.value is not None and math.isfinite(t.value)
    ]
    if not done:
        return None
    pick = max if study.direction == optuna.study.StudyDirection.MAXIMIZE else min
    return pick(done, key=lambda t: t.value)


def trial_row(t: Any) -> dict:
    """One trial as plain data (the CLI's --json and table, the window)."""
    steps = t.intermediate_values
    last = max(steps) if steps else None
    diverged = is_diverged(t)
    return {
        "trial": t.number,
        "state": "diverged" if diverged else STATE_WORDS.get(t.state.name, t.state.name.lower()),
        "params": dict(t.params),
        # a diverged trial's value is the study's stand-in (inf or 0), not a measurement: none
        "value": None if diverged else t.value,
        "diverged": diverged,
        "epoch": last,
        "metric": steps[last] if last is not None else None,
        "run_id": t.user_attrs.get("run_id"),
        "model_path": t.user_attrs.get("model_path"),
        "host": t.user_attrs.get("host"),
        "test_accuracy": t.user_attrs.get("test_accuracy"),
        "duration_s": (
            round((t.datetime_complete - t.datetime_start).total_seconds(), 1)
            if t.datetime_complete and t.datetime_start
            else None
        ),
    }
