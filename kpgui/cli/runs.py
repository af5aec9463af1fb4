"""`kpgui runs`: the training history the window and the CLI share, as a table or JSON."""

from __future__ import annotations

import argparse
import sys

from kpgui.core.display.errors import printable
from kpgui.core.display.numbers import MISSING, percent
from kpgui.core.model.run import RunRecord
from kpgui.core.storage.bounded import to_json


def register(sub) -> None:
    p = sub.add_parser(
        "runs",
        help="list past training runs (or delete one)",
        description="List the training runs kept in kpgui's database, newest first.",
    )
    p.add_argument(
        "--delete",
        metavar="ID",
        type=int,
        help="forget run ID (and its model file, if kpgui saved it in its own folder)",
    )
    p.add_argument("--keep-files", action="store_true", help="with --delete: keep the run's model file")
    p.add_argument("--json", action="store_true", help="print the runs as JSON")
    p.add_argument(
        "--logs",
        metavar="ID",
        type=int,
        help="where run ID's logs are (CSV history, TensorBoard events) and how to open them",
    )
    p.add_argument(
        "--code",
        metavar="ID",
        type=int,
        help="print run ID as a plain, runnable Keras script (data, model, compile, "
        "fit); save it with `kpgui runs --code ID > run.py`",
    )
    p.add_argument(
        "--stats",
        metavar="ID",
        type=int,
        help="print run ID's per-layer training numbers: gradient norm, update/weight "
        "ratio and dead ReLU share on a fixed probe batch (with --json: as JSON)",
    )
    p.set_defaults(run=run)


def _open(readonly: bool = False):
    from kpgui.cli import CliError
    from kpgui.core.storage.paths import FolderError
    from kpgui.core.storage.store import Store, StoreError

    try:
        return Store.open_default(readonly=readonly)
    except (StoreError, FolderError) as exc:
        raise CliError(str(exc)) from exc


def _time(v: float | None) -> str:
    if v is None:
        return MISSING
    return f"{v:.1f} s" if v < 120 else f"{v / 60:.1f} min"


def table(records: list[RunRecord]) -> str:
    """The runs as an aligned text table (one line per run), named like the History tab."""
    from kpgui.core.display.runnames import run_labels, settings_text

    labels = run_labels(records) if records else {}
    head = ("id", "date", "run", "status", "epochs", "test acc", "time", "settings")
    rows: list[tuple[str, ...]] = [head]
    for r in records:
        rows.append(
            (
                str(r.id),
                (r.created_at or "").replace("T", " ")[:16],
                labels.get(r.id, r.title) if r.id is not None else r.title,
                r.status or MISSING,
                str(r.epochs_run),
                percent(r.test_accuracy),
                _time(r.wall_time),
                ("fine-tune: " if r.kind == "finetune" else "") + settings_text(r.spec),
            )
        )
    rows = [tuple(printable(c) for c in row) for row in rows]  # a name with "\n" or ESC
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    right = {0, 4, 5, 6}
    return "\n".join(
        "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    )


def _as_dict(r: RunRecord) -> dict:
    return {
        "id": r.id,
        "name": r.name,
        "kind": r.kind,
        "created_at": r.created_at,
        "started_at": r.started_at,
        "spec": r.spec.to_dict(),
        "test_accuracy": r.test_accuracy,
        "test_loss": r.test_loss,
        "wall_time": r.wall_time,
        "epochs_run": r.epochs_run,
        "status": r.status,
        "train_samples": r.train_samples,
        "model_path": r.model_path,
        "history": r.history,
        "notes": r.stored_notes(),
    }


def _logs(store, run_id: int) -> int:
    from kpgui.cli import CliError
    from kpgui.core.storage.paths import runs_dir

    try:
        record = store.get_run(run_id)
    except KeyError:
        raise CliError(f"there is no run with id {run_id} (see `kpgui runs`)") from None
    folder = record.log_dir
    if not folder:
        raise CliError(f"run {run_id} has no logs (it was recorded before kpgui kept them)")
    print(f"run {run_id}: {printable(folder)}")
    print("  history.csv       every epoch's loss and accuracy (Keras CSVLogger)")
    print("  tensorboard/      events for TensorBoard (Keras TensorBoard callback)")
    print(
        "  layer_stats.csv   per-layer gradient norm, update/weight ratio, dead ReLUs "
        "(also tensorboard/layers)"
    )
    print(f"all runs in TensorBoard: tensorboard --logdir {runs_dir()}")
    return 0


def _code(store, run_id: int) -> int:
    from kpgui.cli import CliError
    from kpgui.core.lessons.code import run_script

    try:
        record = store.get_run(run_id)
    except KeyError:
        raise CliError(f"there is no run with id {run_id} (see `kpgui runs`)") from None
    print(run_script(record), end="")
    return 0


def _stats(store, run_id: int, as_json: bool) -> int:
    from kpgui.cli import CliError
    from kpgui.core.model.layerstats import LayerHistory, format_table

    try:
        record = store.get_run(run_id)
    except KeyError:
        raise CliError(f"there is no run with id {run_id} (see `kpgui runs`)") from None
    data = store.layer_stats(run_id)
    history = LayerHistory.from_dict(data)
    if not len(history):
        raise CliError(
            f"run {run_id} has no layer statistics (it was recorded before kpgui "
            "measured them, or its network is not a dense one)"
        )
    if as_json:
        print(to_json(data))
        return 0
    print(f"run {run_id} ({record.title}): each layer on a fixed probe batch of training images")
    print("  gradient norm: size of the loss gradient for the layer's weights and biases")
    print(
        "  update/weight: how far the weights moved per batch, relative to their size (healthy: about 1e-3)"
    )
    print("  dead ReLUs: units that output 0 for every probe image (they no longer learn)")
    print(format_table(history))
    return 0


def run(args: argparse.Namespace) -> int:
    from kpgui.cli import CliError
    from kpgui.core.storage.store import StoreError

    store = _open(readonly=args.delete is None)  # listing works on a full or read-only disk
    try:
        if args.delete is not None:
            from kpgui.core.storage.tidy import tidy_data_folder

            for line in tidy_data_folder(store):
                print(f"kpgui runs: {line}", file=sys.stderr)
            try:
                record = store.get_run(args.delete)
                store.delete_run(args.delete, delete_files=not args.keep_files)
            except KeyError:
                raise CliError(f"there is no run with id {args.delete} (see `kpgui runs`)") from None
            print(f"deleted run {record.id} ({printable(record.title)})")
            return 0
        if args.logs is not None:
            return _logs(store, args.logs)
        if args.code is not None:
            return _code(store, args.code)
        if args.stats is not None:
            return _stats(store, args.stats, args.json)
        records = store.list_runs()
        if args.json:
            print(to_json([_as_dict(r) for r in records]))
        elif not records:
            print("no runs yet: train a model in the window or with `kpgui train`")
        else:
            print(table(records))
        return 0
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()
