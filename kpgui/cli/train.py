"""`kpgui train`: train a network on MNIST with a live progress bar, then save it with its card."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from kpgui.core.spec import ACTIVATIONS, LR_SCHEDULES, OPTIMIZERS, ModelSpec, parse_hidden


def _hidden(text: str) -> tuple[int, ...]:
    try:
        return parse_hidden(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub) -> None:
    d = ModelSpec()
    p = sub.add_parser("train", help="train a network on MNIST and save it",
                       description="Train a dense network on MNIST, print progress, save the model "
                       "and its model card.")
    p.add_argument("--hidden", type=_hidden, default=d.hidden, metavar="512,512",
                   help="hidden layer sizes (default 512,512)")
    p.add_argument("--activation", choices=ACTIVATIONS, default=d.activation)
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer)
    p.add_argument("--lr", type=float, default=d.learning_rate, help="learning rate")
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=d.lr_schedule)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--dropout", type=float, default=d.dropout)
    p.add_argument("--validation-split", type=float, default=d.validation_split)
    p.add_argument("--patience", type=int, default=d.patience,
                   help="early-stopping patience in epochs (0 = off)")
    p.add_argument("--augment", action="store_true", help="random shifts, rotations, scale, thickness")
    p.add_argument("--label-smoothing", type=float, default=d.label_smoothing)
    p.add_argument("--train-samples", type=int, default=0, help="use only the first N images (0 = all)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--data", metavar="PATH", help="mnist.npz to use (default: $KPGUI_MNIST, Keras cache)")
    p.add_argument("--out", metavar="PATH", default="model.keras", help="where to save (default model.keras)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most 10 times a second."""

    def __init__(self, stream=sys.stderr, quiet: bool = False) -> None:
        self.stream, self.quiet, self.last = stream, quiet, 0.0

    def on_train_begin(self, s) -> None:
        if not self.quiet:
            print(f"Training {s.spec.describe()} on {s.train_samples} images "
                  f"({s.val_samples} for validation)", file=self.stream)

    def on_batch(self, u) -> None:
        now = time.monotonic()
        if self.quiet or (now - self.last < 0.1 and u.step != u.steps):
            return
        self.last = now
        filled = int(30 * u.step / u.steps)
        bar = "#" * filled + "-" * (30 - filled)
        self.stream.write(f"\repoch {u.epoch}/{u.epochs} [{bar}] loss {u.mean_loss:.4f} "
                          f"acc {u.mean_accuracy:.4f}  ETA {u.eta:5.0f} s ")
        self.stream.flush()

    def on_epoch(self, u) -> None:
        if self.quiet:
            return
        val = "" if u.val_loss is None else f" val_loss {u.val_loss:.4f} val_acc {u.val_accuracy:.4f}"
        self.stream.write(f"\repoch {u.epoch}/{u.epochs} loss {u.loss:.4f} acc {u.accuracy:.4f}{val}"
                          f"  ({u.elapsed:.0f} s)" + " " * 20 + "\n")
        self.stream.flush()


def run(args: argparse.Namespace) -> int:
    from kpgui.cli import CliError

    spec = ModelSpec(
        hidden=args.hidden, activation=args.activation, optimizer=args.optimizer,
        learning_rate=args.lr, lr_schedule=args.lr_schedule, batch_size=args.batch_size,
        epochs=args.epochs, dropout=args.dropout, validation_split=args.validation_split,
        patience=args.patience, augment=args.augment, train_samples=args.train_samples,
        seed=args.seed, label_smoothing=args.label_smoothing,
    )
    errors = spec.errors()
    if errors:
        raise CliError("; ".join(errors.values()))
    out = Path(args.out)
    if out.suffix != ".keras":
        raise CliError(f"--out must end in .keras (got {out.name})")
    from kpgui.core.data import load_mnist
    from kpgui.core.saving import save_model
    from kpgui.core.training import Trainer

    data = load_mnist(args.data)  # fails fast, before TensorFlow is imported
    trainer = Trainer(spec, ProgressBar(quiet=args.quiet), data=data)
    try:
        result = trainer.run()
    except KeyboardInterrupt:
        raise
    path = save_model(result.model, out, result)
    acc = "n/a" if result.test_accuracy is None else f"{100 * result.test_accuracy:.2f} %"
    print(f"{result.status}: {result.epochs_run} epoch(s) in {result.wall_time:.1f} s "
          f"({result.samples_per_second:.0f} samples/s); test accuracy {acc}")
    print(f"saved {path} and {path.with_suffix('.json')}")
    return 0
