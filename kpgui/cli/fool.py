"""`kpgui fool PICTURE --target 3`: push a picture of a digit until the model reads another one.

Prints the calibrated reading before and after, how many pixels changed and by how much, and
whether the "not sure" check notices; writes the changed 28x28 image as a PNG (kpgui.core.reading.fool).
No TensorFlow: the push runs in NumPy on the model's Dense weights.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    from kpgui.core.reading.fool import STEPS

    p = sub.add_parser(
        "fool",
        help="change a picture a little until the model reads a chosen digit",
        description="Find a small change to a picture of a digit that makes the model "
        "read the digit you choose; print the reading before and after and write "
        "the changed 28x28 image.",
    )
    p.add_argument("picture", metavar="PICTURE", help="PNG/JPEG/BMP/GIF/TIFF or .npy file of a digit")
    p.add_argument(
        "--target",
        type=int,
        required=True,
        choices=range(10),
        metavar="DIGIT",
        help="the digit the model should read (0-9)",
    )
    p.add_argument(
        "--out", metavar="PATH", help="where to write the changed image (default: PICTURE-fooled-DIGIT.png)"
    )
    p.add_argument("--model", metavar="PATH", help="a .keras model (default: the shipped one)")
    p.add_argument(
        "--steps",
        type=int,
        default=STEPS,
        metavar="N",
        help=f"at most this many gradient steps (default: {STEPS})",
    )
    p.add_argument(
        "--sure",
        action="store_true",
        help="keep going until the model is sure of the target, not only leaning to it",
    )
    p.add_argument(
        "--ink",
        choices=("auto", "light", "dark"),
        default="auto",
        help="light digit on dark (like MNIST), dark ink on paper, or auto (default)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kpgui.cli import CliError
    from kpgui.core.display.words import verdict
    from kpgui.core.model.inference import Predictor
    from kpgui.core.reading.confidence import Calibration
    from kpgui.core.reading.fool import fool
    from kpgui.core.reading.imageio import ImageReadError, read_image
    from kpgui.core.reading.inside import NotDense, dense_layers
    from kpgui.core.reading.segment import split_picture

    if not 1 <= args.steps <= 10_000:
        raise CliError(f"--steps must be 1-10000, got {args.steps}")
    out = (
        Path(args.out)
        if args.out
        else Path(args.picture).with_name(f"{Path(args.picture).stem}-fooled-{args.target}.png")
    )
    if out.suffix.lower() != ".png":
        raise CliError(f"--out must be a .png file, got {out.name}")
    predictor = Predictor.load(args.model)
    try:
        layers = dense_layers(predictor)
    except NotDense as exc:
        raise CliError(str(exc)) from exc
    try:
        pieces = split_picture(read_image(args.picture), ink=args.ink)
    except ImageReadError as exc:
        raise CliError(str(exc)) from exc
    if not pieces or not pieces[0].image.any():
        raise CliError(f"{args.picture}: no digit found (blank image)")
    if len(pieces) > 1:
        print(f"{args.picture}: {len(pieces)} digits found; fooling the first")
    result = fool(
        layers,
        pieces[0].image,
        args.target,
        Calibration.from_card(predictor.card),
        steps=args.steps,
        sure=args.sure,
    )
    write_png(result.image, out)
    print(f"before: {verdict(result.before)}")
    print(f"after:  {verdict(result.after)}" + ("  ('not sure' noticed)" if result.noticed else ""))
    print(
        f"{result.steps} steps; {result.changed_pixels} of 784 pixels changed; "
        f"L2 {result.l2:.3f}, largest change {result.linf:.3f}"
    )
    print(
        f"wrote {out} (the 28x28 image as the model saw it; `kpgui predict` would re-centre "
        "and re-scale it, which undoes much of such a small change)"
    )
    if not result.reached:
        print(f"did not reach {args.target} within {args.steps} steps (try more --steps)")
        return 1
    return 0


def write_png(image, path: Path) -> None:
    """The 28x28 image as an 8-bit grey PNG, white digit on black like MNIST, written
    atomically (kpgui.core.storage.atomic) so a failed write leaves no half file."""
    import numpy as np
    from PIL import Image

    from kpgui.core.storage.atomic import atomic_write

    pixels = np.round(np.clip(np.asarray(image, np.float64), 0, 1) * 255).astype(np.uint8)
    atomic_write(path, lambda tmp: Image.fromarray(pixels).save(tmp, format="PNG"))
