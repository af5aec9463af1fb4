"""11. What each training ingredient is worth: the same network trained with and without each one.

Every variant is trained by kpgui's own command (`kpgui train ... --no-history`, in its own
process, the way the shipped model is made), then read the app's way on the benchmark's own test
sets (benchmarks/handwriting.py: people's styles, MNIST re-drawn as pen strokes, non-digits —
code and seeds independent of the training generators in kpgui.core.data.synth) and on the MNIST
test set. The base recipe is the shipped model's network and optimizer, shortened (`--epochs`,
default 15) so that six variants fit in an hour on 2 cores; differences of a few tenths of a
point on MNIST are within run-to-run noise at this length.

    python benchmarks/bench_ablation.py [--epochs N] [--quick] [--only NAME ...] [--json out.json]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as C

NAME = "ablation"
BENCH = "11 ablation"
BASE = [
    "--hidden",
    "512,512",
    "--dropout",
    "0.2",
    "--optimizer",
    "adam",
    "--lr",
    "0.001",
    "--lr-schedule",
    "cosine",
    "--batch-size",
    "128",
    "--validation-split",
    "0.05",
    "--seed",
    "7",
]
VARIANTS: dict[str, list[str]] = {
    "affine augmentation only (the previous recipe)": ["--augment"],
    "+ elastic distortion": ["--augment", "--elastic", "0.6"],
    "+ drawn styles": ["--augment", "--styles", "0.3"],
    "+ re-stroked MNIST": ["--augment", "--restroke", "0.3"],
    "+ non-digits": ["--augment", "--non-digits", "0.1"],
    "all of them": [
        "--augment",
        "--elastic",
        "0.6",
        "--styles",
        "0.3",
        "--restroke",
        "0.3",
        "--non-digits",
        "0.1",
    ],
}


def train(variant: list[str], epochs: int, out: Path, env: dict) -> float:
    cmd = [
        sys.executable,
        "-m",
        "kpgui",
        "train",
        *BASE,
        *variant,
        "--epochs",
        str(epochs),
        "--out",
        str(out),
        "--no-history",
        "--quiet",
    ]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()[-500:]}")
    return time.perf_counter() - t0


def evaluate(model: Path, per_style: int, n_strokes: int, n_non: int) -> dict:
    import bench_reading as R

    from kpgui.core.model.inference import Predictor
    from kpgui.core.reading.confidence import Calibration

    predictor = Predictor.load(model)
    cal = Calibration.from_card(predictor.card)
    _, _, x_test, y_test = C.load_mnist()
    _rows, styles = R.style_results(predictor, cal, per_style)
    _rows, mnist = R.mnist_results(predictor, cal, x_test, y_test, n_strokes)
    _rows, non = R.non_digit_results(predictor, cal, n_non, mnist["plain_threshold"])
    worst = min(styles["per_style"].items(), key=lambda kv: kv[1]["accuracy"])
    return {
        "mnist_test": mnist["test_accuracy"],
        "mnist_flagged": mnist["flagged"],
        "mnist_strokes": mnist["strokes_accuracy"],
        "styles": styles["accuracy"],
        "worst_style": worst[0],
        "worst_style_accuracy": worst[1]["accuracy"],
        "non_digits_flagged": non["flagged"],
        "ece_test_raw": mnist["ece_raw"],
        "ece_test_card": mnist["ece_card"],
        "temperature": cal.temperature,
        "threshold": cal.threshold,
        "per_style": {k: v["accuracy"] for k, v in styles["per_style"].items()},
    }


def run(args) -> tuple[list[dict], dict]:
    epochs = args.epochs or (1 if args.quick else 15)
    per_style, n_strokes, n_non = (10, 100, 100) if args.quick else (100, 1000, 1000)
    names = [n for n in VARIANTS if not args.only or any(o in n for o in args.only)]
    env = C.child_env()
    rows, details = [], {"epochs": epochs, "base": " ".join(BASE), "variants": {}}
    with tempfile.TemporaryDirectory(prefix="kpgui-ablation-") as tmp:
        for i, name in enumerate(names):
            out = Path(tmp) / f"variant{i}.keras"
            print(f"[ablation] {name}: training {epochs} epochs…", file=sys.stderr, flush=True)
            seconds = train(VARIANTS[name], epochs, out, env)
            r = evaluate(out, per_style, n_strokes, n_non)
            r["train_seconds"] = seconds
            r["flags"] = " ".join(VARIANTS[name])
            details["variants"][name] = r
            rows.append(
                C.row(
                    BENCH,
                    f"{name}: MNIST test / styles / MNIST as strokes / non-digits flagged",
                    100 * r["mnist_test"],
                    "%",
                    alt_name="styles (worst style)",
                    alt_value=100 * r["styles"],
                    show_ratio=False,
                    note=(
                        f"worst '{r['worst_style']}' {100 * r['worst_style_accuracy']:.1f} %; "
                        f"strokes {100 * r['mnist_strokes']:.2f} %; non-digits flagged "
                        f"{100 * r['non_digits_flagged']:.1f} %; MNIST flagged "
                        f"{100 * r['mnist_flagged']:.2f} %; {seconds / 60:.1f} min"
                    ),
                )
            )
    return rows, details


def table(details: dict) -> str:
    """The ablation as a Markdown table for benchmarks/README.md."""
    head = (
        "| recipe (base + …) | MNIST test | style set | worst style | MNIST as strokes | "
        "non-digits flagged | MNIST flagged | train time |\n|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for name, r in details["variants"].items():
        lines.append(
            f"| {name} | {100 * r['mnist_test']:.2f} % | {100 * r['styles']:.2f} % | "
            f"{r['worst_style']} {100 * r['worst_style_accuracy']:.1f} % | "
            f"{100 * r['mnist_strokes']:.2f} % | {100 * r['non_digits_flagged']:.1f} % | "
            f"{100 * r['mnist_flagged']:.2f} % | {r['train_seconds'] / 60:.1f} min |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    started = time.perf_counter()
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=0, help="epochs per variant (default 15)")
    p.add_argument("--only", nargs="+", metavar="WORD", help="variants whose name has WORD")
    args = p.parse_args(argv)
    try:
        rows, details = run(args)
    except RuntimeError as exc:
        return C.fail(str(exc), args, NAME)
    print(table(details))
    C.finish(NAME, rows, details, args, started)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
