"""`kpgui samples`: the person's own drawn digits: counts, export to and import from `.npz`."""

from __future__ import annotations

import argparse

from kpgui.core.display.words import count


def register(sub) -> None:
    p = sub.add_parser(
        "samples",
        help="your own drawn digits: counts, export, import",
        description="Show how many of your own digits kpgui keeps, or move them between "
        "computers as one .npz file. Without an action: the counts per digit.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    e = actions.add_parser(
        "export",
        help="write all samples to FILE.npz",
        description="Write every sample (pictures, labels, strokes) to FILE.",
    )
    e.add_argument("file", metavar="FILE.npz")
    i = actions.add_parser(
        "import",
        help="add the samples of FILE.npz",
        description="Add the samples of a file made by `kpgui samples export`. "
        "Samples already present are skipped; a bad file adds nothing.",
    )
    i.add_argument("file", metavar="FILE.npz")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kpgui.cli import CliError
    from kpgui.core.storage.samplefiles import SampleFileError
    from kpgui.core.storage.store import Store, StoreError

    try:
        # Counting and exporting only read: they work on a full or read-only data disk.
        with Store.open_default(readonly=args.action != "import") as store:
            if args.action == "export":
                n = store.export_samples(args.file)
                print(f"exported {count(n, 'sample')} to {args.file}")
            elif args.action == "import":
                added = store.import_samples(args.file)
                extra = f" ({store.last_import})" if str(store.last_import) else ""
                print(f"imported {count(added, 'sample')} from {args.file}{extra}")
            else:
                counts = store.sample_counts()
                print("digit  " + " ".join(f"{d:>5}" for d in range(10)) + "  total")
                print(
                    "count  "
                    + " ".join(f"{counts[d]:>5}" for d in range(10))
                    + f"  {sum(counts.values()):>5}"
                )
    except (StoreError, SampleFileError) as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"{getattr(args, 'file', '')}: {exc.strerror or exc}") from exc
    return 0
