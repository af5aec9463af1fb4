"""11. Real writers: pen digits by people the model was never trained on, measured by writer.

The UCI pen digits (7,494 digits by 30 writers; kpgui.core.data.synth.realpen) are put on the 400 px
canvas the way a person writing in the box would, with the canvas's default pen, and read the
way the window reads a drawing: split into digits (kpgui.core.reading.segment.split_strokes, as the
drawing controller does), every digit read in one batch with the model card's calibration. A
digit counts as read right when the window shows exactly one digit and it is the writer's;
"sure and wrong" when every digit shown is sure and the answer is not the writer's digit.

Two parts:
- the shipped model on the writers it was not trained on: all 30 if its card says no real pen
  digits were used, else the held-out writers (28, 29, 30). Alternative: the previous model
  (`--base`) on the same writers.
- `--folds` (run_all --full): the shipped recipe's last step (`kpgui train --continue BASE
  --real-pen N …`, read from the shipped card) trained three times, each time without nine of
  writers 1-27 (and never 28-30), and measured on those nine: 27 strangers in all, every number
  from a model that never saw that writer. Alternative: BASE on the same writers.

    python benchmarks/bench_pendigits.py [--quick] [--model PATH] [--base PATH] [--folds]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import _common as C
import numpy as np

NAME = "pendigits"
BENCH = "11 real writers"
FOLDS = (tuple(range(1, 10)), tuple(range(10, 19)), tuple(range(19, 28)))


def read_like_the_window(digits, predictor) -> dict[str, np.ndarray]:
    """right, sure and the number of digits shown, per digit, read the window's way."""
    from kpgui.core.data.synth.realpen import PEN_WIDTH
    from kpgui.core.reading.confidence import Calibration
    from kpgui.core.reading.segment import read_drawing

    calibration = Calibration.from_card(predictor.card)
    right = np.zeros(len(digits), bool)
    sure = np.zeros(len(digits), bool)
    shown = np.zeros(len(digits), int)
    guess = np.full(len(digits), -1)
    for i, strokes in enumerate(digits.strokes):
        number = read_drawing(strokes, PEN_WIDTH, predictor, calibration)
        shown[i] = len(number.digits)
        sure[i] = number.sure
        guess[i] = number.digits[0] if shown[i] == 1 else -1
        right[i] = shown[i] == 1 and guess[i] == digits.label[i]
    return {
        "right": right,
        "sure": sure,
        "shown": shown,
        "guess": guess,
        "label": digits.label,
        "writer": digits.writer,
    }


def summary(r: dict[str, np.ndarray]) -> dict:
    right, sure, writer = r["right"], r["sure"], r["writer"]
    per_writer = {int(w): float(right[writer == w].mean()) for w in np.unique(writer)}
    worst = min(per_writer, key=per_writer.__getitem__)
    wrong = {}
    for i in np.flatnonzero(~right):
        key = f"{r['label'][i]} read as {r['guess'][i] if r['guess'][i] >= 0 else 'several'}"
        wrong[key] = wrong.get(key, 0) + 1
    return {
        "digits": int(len(right)),
        "accuracy": 100 * float(right.mean()),
        "not_sure": 100 * float((~sure).mean()),
        "sure_and_wrong": 100 * float((sure & ~right).mean()),
        "worst_writer": worst,
        "worst_writer_accuracy": 100 * per_writer[worst],
        "writers_below_97": 100 * float(np.mean([a < 0.97 for a in per_writer.values()])),
        "per_writer": {w: round(100 * a, 2) for w, a in sorted(per_writer.items())},
        "misreads": dict(sorted(wrong.items(), key=lambda kv: -kv[1])[:10]),
    }


def _rows(label: str, new: dict, old: dict, old_name: str) -> list[dict]:
    return [
        C.row(
            BENCH,
            f"{label}: read right",
            new["accuracy"],
            "%",
            alt_name=old_name,
            alt_value=old["accuracy"],
            target="≥ 99 %",
            met=new["accuracy"] >= 99.0,
        ),
        C.row(
            BENCH,
            f"{label}: sure and wrong (share of all digits)",
            new["sure_and_wrong"],
            "%",
            alt_name=old_name,
            alt_value=old["sure_and_wrong"],
            target="≤ 0.3 %",
            met=new["sure_and_wrong"] <= 0.3,
        ),
        C.row(
            BENCH,
            f"{label}: flagged not sure",
            new["not_sure"],
            "%",
            alt_name=old_name,
            alt_value=old["not_sure"],
            target="≤ 5 %",
            met=new["not_sure"] <= 5.0,
        ),
        C.row(
            BENCH,
            f"{label}: worst writer (#{new['worst_writer']})",
            new["worst_writer_accuracy"],
            "%",
            alt_name=f"{old_name} (#{old['worst_writer']})",
            alt_value=old["worst_writer_accuracy"],
            target="≥ 96 %",
            met=new["worst_writer_accuracy"] >= 96.0,
        ),
        C.row(
            BENCH,
            f"{label}: writers below 97 %",
            new["writers_below_97"],
            "%",
            alt_name=old_name,
            alt_value=old["writers_below_97"],
            show_ratio=False,
        ),
    ]


def _merge(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def fold_models(base_path: Path, shipped_card: dict, digits, quick: bool) -> dict[str, np.ndarray]:
    """Train the shipped recipe's last step once per fold and read that fold's writers."""
    from kpgui.core.data.synth.realpen import HELD_OUT_WRITERS
    from kpgui.core.model.inference import Predictor
    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.training.personal import keras_model_from_predictor
    from kpgui.core.training.trainer import Trainer

    spec = ModelSpec.from_dict(shipped_card["spec"])
    if quick:
        spec = spec.replace(epochs=1, train_samples=6000, styles=0.0, restroke=0.0, real_pen=1)
    base = Predictor.load(base_path)
    parts = []
    for k, writers in enumerate(FOLDS):
        t0 = time.perf_counter()
        trainer = Trainer(
            spec,
            initial_model=keras_model_from_predictor(base, spec),
            held_out_writers=(*writers, *HELD_OUT_WRITERS),
        )
        result = trainer.run()
        card = {"calibration": result.calibration, "spec": spec.to_dict()}
        model = Predictor.from_keras(result.model, card=card, name=f"fold {k + 1}")
        parts.append(read_like_the_window(digits.of_writers(writers), model))
        print(
            f"[{NAME}] fold {k + 1}: writers {writers[0]}-{writers[-1]} "
            f"{100 * parts[-1]['right'].mean():.2f} % right, MNIST test "
            f"{100 * (result.test_accuracy or 0):.2f} % ({time.perf_counter() - t0:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    return _merge(parts)


BASE_COMMIT = "42c4747"  # the shipped model before real pen digits: the recipe's first step


def base_from_git(commit: str = BASE_COMMIT) -> Path | None:
    """The previous shipped model, taken out of the repository's history into a temp file."""
    import subprocess
    import tempfile

    out = Path(tempfile.mkdtemp(prefix="kpgui-base-")) / "previous-default.keras"
    for suffix in (".keras", ".json"):  # the model and its card (its calibration: "not sure")
        try:
            done = subprocess.run(
                ["git", "-C", str(C.ROOT), "show", f"{commit}:kpgui/resources/models/default{suffix}"],
                capture_output=True,
                timeout=60,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        if done.returncode != 0 or not done.stdout:
            return None
        out.with_suffix(suffix).write_bytes(done.stdout)
    return out


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument("--model", help="the model to measure (default: the shipped one)")
    p.add_argument(
        "--base",
        help="the model before real pen digits (the recipe's first step; "
        f"default: the shipped model of commit {BASE_COMMIT}, from git)",
    )
    p.add_argument(
        "--folds",
        action="store_true",
        help="also train the recipe per writer fold (about 10 minutes a fold on 2 cores)",
    )
    args = p.parse_args(argv)
    started = time.perf_counter()

    from kpgui.core.data.synth.realpen import HELD_OUT_WRITERS, find_pendigits, load_pendigits
    from kpgui.core.model.inference import Predictor
    from kpgui.core.storage.resources import default_model_path

    if find_pendigits() is None:
        print(f"[{NAME}] the pen digits file was not found; set KPGUI_PENDIGITS", file=sys.stderr)
        return 2
    digits = load_pendigits()
    model = Predictor.load(args.model or default_model_path())
    trained_on_pen = bool(model.card.get("spec", {}).get("real_pen"))
    base_path = args.base or (base_from_git() if trained_on_pen else None)
    base = Predictor.load(base_path) if base_path and Path(base_path).is_file() else None
    strangers = digits.of_writers(HELD_OUT_WRITERS) if trained_on_pen else digits
    if args.quick and not trained_on_pen:
        strangers = strangers.subset(np.arange(len(strangers)) % 10 == 0)
    who = (
        f"writers {', '.join(map(str, HELD_OUT_WRITERS))} (held out)"
        if trained_on_pen
        else f"all {len(np.unique(strangers.writer))} writers"
    )

    new = summary(read_like_the_window(strangers, model))
    old = summary(read_like_the_window(strangers, base)) if base is not None else new
    old_name = "previous model" if base is not None else "(no base model given)"
    rows = _rows(f"shipped model, {who}", new, old, old_name)
    details: dict = {
        "shipped": new,
        "base_on_same_writers": old,
        "model": str(args.model or default_model_path()),
        "base": str(base_path),
        "notes": [f"shipped model read on {who}: {new['digits']} digits."],
    }
    if args.folds:
        if base is None:
            print(f"[{NAME}] --folds needs --base (the model the recipe continues)", file=sys.stderr)
            return 2
        pooled = digits.of_writers([w for f in FOLDS for w in f])
        folds = summary(fold_models(Path(base_path), model.card, digits, args.quick))
        base_folds = summary(read_like_the_window(pooled, base))
        rows += _rows("the recipe by writer fold, writers 1-27", folds, base_folds, "previous model")
        details["folds"] = folds
        details["base_on_fold_writers"] = base_folds
        details["notes"].append(
            "folds: 3 x 9 writers, each read by a model trained without them "
            "(and without 28-30)" + (" (quick: tiny recipe)" if args.quick else "")
        )
    C.finish(NAME, rows, details, args, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
