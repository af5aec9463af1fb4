"""`kpgui predict IMAGE...`: the digit and confidence for each picture."""

from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser("predict", help="read digits from image files",
                       description="Print the predicted digit and its confidence for each image.")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="PNG/JPEG/BMP/TIFF or .npy files")
    p.add_argument("--model", metavar="PATH", help="a .keras model (default: the shipped one)")
    p.add_argument("--ink", choices=("auto", "light", "dark"), default="auto",
                   help="light digit on dark (like MNIST), dark ink on paper, or auto")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kpgui.core.imageio import ImageReadError, read_image
    from kpgui.core.inference import Predictor
    from kpgui.core.preprocess import image_to_mnist

    predictor = Predictor.load(args.model)
    failed = 0
    for name in args.images:
        try:
            image = image_to_mnist(read_image(name), ink=args.ink)
        except (ImageReadError, ValueError) as exc:
            print(f"{name}: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        if not image.any():
            print(f"{name}: no digit found (blank image)")
            continue
        probs = predictor.predict_one(image)
        digit = int(probs.argmax())
        print(f"{name}: {digit} ({100 * probs[digit]:.1f} %)")
    return 2 if failed else 0
