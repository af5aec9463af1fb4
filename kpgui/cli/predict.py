"""`kpgui predict IMAGE...`: the digit and how sure the model is, for each picture.

Confidence is calibrated (kpgui.core.reading.confidence); when the model is not sure — the picture may
not be a digit, or an unusual one — the line says "not sure" with the two best guesses. A picture
of several digits prints the whole number ("2026", "?" for a digit it is not sure of) and each
digit's confidence (kpgui.core.reading.segment).
"""

from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="read digits from image files",
        description="Print the digit each picture shows and how sure the model is "
        "(or 'not sure' with its two best guesses).",
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="PNG/JPEG/BMP/GIF/TIFF or .npy files")
    p.add_argument("--model", metavar="PATH", help="a .keras model (default: the shipped one)")
    p.add_argument(
        "--ink",
        choices=("auto", "light", "dark"),
        default="auto",
        help="light digit on dark (like MNIST), dark ink on paper, or auto (default: auto)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kpgui.core.display.errors import one_line, printable
    from kpgui.core.display.numbers import percent
    from kpgui.core.display.words import not_sure
    from kpgui.core.model.inference import Predictor
    from kpgui.core.reading.confidence import Calibration, read_images
    from kpgui.core.reading.imageio import read_image
    from kpgui.core.reading.segment import read_number, split_picture

    predictor = Predictor.load(args.model)
    calibration = Calibration.from_card(predictor.card)
    failed = 0
    for path in args.images:
        name = printable(path)  # a file name with a newline or ESC stays on its line
        try:
            pieces = split_picture(read_image(path), ink=args.ink)
        except Exception as exc:  # noqa: BLE001 - one line per bad file, then the next one
            print(f"{name}: error: {printable(one_line(exc, 'Reading the picture'))}", file=sys.stderr)
            failed += 1
            continue
        if not pieces or not pieces[0].image.any():
            print(f"{name}: no digit found (blank image)")
            continue
        number = read_number(pieces, predictor, calibration)
        if len(number.readings) > 1:
            each = ", ".join(
                f"{r.digit} {percent(r.confidence, 0)}" if r.sure else not_sure(r.digit, r.runner_up)
                for r in number.readings
            )
            print(f"{name}: {number.text} ({each})")
            continue
        r = read_images(predictor, pieces[0].image[None], calibration)[0]
        if r.sure:
            print(f"{name}: {r.digit} ({percent(r.confidence, 1)})")
        else:
            best = f"{r.digit} ({percent(r.confidence, 0)})"
            print(f"{name}: {not_sure(best, f'{r.runner_up} ({percent(r.probabilities[r.runner_up], 0)})')}")
    return 2 if failed else 0
