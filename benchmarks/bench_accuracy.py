"""5. Accuracy and time: the seeds' recipe trained in full now, beside the shipped model's card.

Always: the shipped model's card is read at run time (`kpgui/resources/models/default.json`:
its recipe, test accuracy, epochs, training time) and the shipped model is evaluated on the full
MNIST test set now, to confirm the card. The seeds' recipe (`ModelSpec()`: 784-512-512-10 relu,
rmsprop 1e-3, batch 128, 20 epochs, 10 % validation) is trained here in full with `Trainer` (the
training the window's training process runs): test accuracy, epochs, wall time. `--quick`
shortens it to 1 epoch on 5 000 images and `--epochs N` to N epochs; the table then says
SHORTENED. `--full` also retrains the shipped recipe from its card (long: see its training time).

    python benchmarks/bench_accuracy.py [--quick | --full] [--epochs N] [--json out.json]
"""

from __future__ import annotations

import sys
import time
from typing import Any

import _common as C

NAME = "accuracy"


def evaluate_shipped() -> dict[str, Any]:
    """The shipped model on the full test set, through the app's NumPy predictor."""
    from kpgui.core.model.evaluation import evaluate
    from kpgui.core.model.inference import Predictor

    predictor = Predictor.load()
    _, _, x_test, y_test = C.load_mnist()
    t0 = time.perf_counter()
    ev = evaluate(predictor, x_test, y_test)
    return {
        "accuracy": ev.accuracy,
        "seconds": time.perf_counter() - t0,
        "n": len(y_test),
        "backend": predictor.backend,
    }


def train(spec: Any) -> dict[str, Any]:
    """Train `spec` on MNIST with the app's Trainer; test accuracy, epochs and times."""
    from kpgui.core.training.trainer import Trainer

    t0 = time.perf_counter()
    result = Trainer(spec).run()
    return {
        "spec": spec.describe(),
        "test_accuracy": result.test_accuracy,
        "epochs_run": result.epochs_run,
        "fit_seconds": result.wall_time,
        "total_seconds": time.perf_counter() - t0,
        "status": result.status,
        "train_samples": result.train_samples,
        "samples_per_second": result.samples_per_second,
    }


def _seeds_spec(quick: bool, epochs: int | None) -> tuple[Any, str]:
    from kpgui.core.model.spec import ModelSpec

    spec = ModelSpec()
    if epochs is not None and epochs != spec.epochs:
        return spec.replace(epochs=epochs), f"SHORTENED: {epochs} of {spec.epochs} epochs"
    if quick and epochs is None:
        return spec.replace(epochs=1, train_samples=5000), (
            f"SHORTENED: 1 of {spec.epochs} epochs on 5 000 images (quick)"
        )
    return spec, f"in full, {spec.epochs} epochs"


def run(quick: bool, full: bool, epochs: int | None) -> tuple[list, dict]:
    from kpgui.core.model.spec import ModelSpec

    card = C.default_card()
    shipped_spec = ModelSpec.from_dict(card.get("spec", {}))
    measured = evaluate_shipped()
    seeds_spec, seeds_label = _seeds_spec(quick, epochs)
    seeds = train(seeds_spec)
    shipped_trained = train(shipped_spec) if full else None
    card_acc = card.get("test_accuracy")
    rows = [
        C.row(
            "5 accuracy",
            "shipped model, test accuracy on the card",
            None if card_acc is None else 100 * card_acc,
            "%",
            alt_name="re-measured now",
            alt_value=100 * measured["accuracy"],
        ),
        C.row(
            "5 accuracy",
            f"shipped recipe: test accuracy (card: {card.get('description')})",
            None if card_acc is None else 100 * card_acc,
            "%",
            alt_name=f"seeds' recipe ({seeds_label})",
            alt_value=100 * seeds["test_accuracy"],
        ),
        C.row(
            "5 accuracy",
            "epochs (shipped card)",
            card.get("epochs_run"),
            "",
            alt_name="seeds' recipe, run now",
            alt_value=seeds["epochs_run"],
        ),
        C.row(
            "5 accuracy",
            "training wall time (shipped card)",
            card.get("training_time_s"),
            "s",
            alt_name="seeds' recipe, run now (fit)",
            alt_value=seeds["fit_seconds"],
            note="card time is from the machine that trained it",
        ),
    ]
    if shipped_trained is not None:
        rows.append(
            C.row(
                "5 accuracy",
                "shipped recipe trained now: test accuracy",
                100 * shipped_trained["test_accuracy"],
                "%",
                alt_name="seeds' recipe",
                alt_value=100 * seeds["test_accuracy"],
            )
        )
        rows.append(
            C.row(
                "5 accuracy",
                "shipped recipe trained now: fit wall time",
                shipped_trained["fit_seconds"],
                "s",
                alt_name="seeds' recipe",
                alt_value=seeds["fit_seconds"],
            )
        )
    details = {
        "card": {
            k: card.get(k)
            for k in (
                "description",
                "spec",
                "test_accuracy",
                "epochs_run",
                "training_time_s",
                "train_samples",
                "trained_at",
                "samples_per_second",
                "versions",
            )
        },
        "shipped_measured": measured,
        "seeds": seeds,
        "seeds_label": seeds_label,
        "shipped_trained_now": shipped_trained,
        "notes": [
            f"Seeds' recipe: {seeds['spec']} ({seeds_label}); "
            f"{seeds['epochs_run']} epochs, {seeds['fit_seconds']:.1f} s fit, "
            f"test accuracy {100 * seeds['test_accuracy']:.2f} %.",
            f"Shipped model evaluated on {measured['n']} test images in "
            f"{measured['seconds']:.2f} s ({measured['backend']} backend).",
        ]
        + ([] if full else ["Run with --full to retrain the shipped recipe too."]),
    }
    return rows, details


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="also retrain the shipped recipe (slow)")
    p.add_argument("--epochs", type=int, help="epochs for the seeds' recipe (default: its 20)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    rows, details = run(args.quick, args.full, args.epochs)
    C.finish(NAME, rows, details, args, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
