"""`kpgui evaluate`: test accuracy and confusion matrix of a model on the MNIST test set."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="test accuracy and confusion matrix on MNIST",
        description="Evaluate a model on the 10 000 MNIST test images.",
    )
    p.add_argument("--model", metavar="PATH", help="a .keras model (default: the shipped one)")
    p.add_argument("--data", metavar="PATH", help="mnist.npz to use (default: $KPGUI_MNIST, Keras cache)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kpgui.core.data.mnist import load_mnist
    from kpgui.core.display.numbers import percent
    from kpgui.core.model.evaluation import evaluate
    from kpgui.core.model.inference import Predictor

    predictor = Predictor.load(args.model)
    _, _, x_test, y_test = load_mnist(args.data)
    ev = evaluate(predictor, x_test, y_test)
    print(f"model: {predictor.path}  ({predictor.backend} forward pass)")
    print(
        f"test accuracy: {percent(ev.accuracy)} on {len(y_test)} images "
        f"({int(ev.confusion.trace())} right, {len(y_test) - int(ev.confusion.trace())} wrong), "
        "read as the window reads a drawing"
    )
    if ev.network_accuracy is not None:
        print(f"the network alone on each picture: {percent(ev.network_accuracy)}")
    print(ev.format_confusion())
    return 0
