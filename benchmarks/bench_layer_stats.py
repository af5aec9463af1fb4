"""Cost of the per-layer statistics (kpgui.core.model.layerstats) to training speed: samples/s inside
fit with and without the layer-stats callback, same spec and data, alternating, in one process.

The spec is the classic network (784-512-512-10 relu, rmsprop, batch 128, no validation split,
2 epochs) on the first N = 20 000 MNIST images (as benchmarks/bench_training.py), trained by
kpgui's Trainer (so the Reporter, Stop, TerminateOnNaN callbacks run on both sides; only the
layer stats differ: without them, the callback factory is replaced by one that does nothing).
Target: at most 3 % slower (issue 21).
On a shared machine pin it to one core and repeat:

    taskset -c 1 python benchmarks/bench_layer_stats.py [--samples N] [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics

import _common as C


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=20000)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    C.setup_env()
    import keras

    import kpgui.core.training.callbacks as cb
    from kpgui.core.data.mnist import load_mnist
    from kpgui.core.model.spec import ModelSpec
    from kpgui.core.training.trainer import Trainer

    real = cb.make_layer_stats
    made_callbacks = []

    def measured(*a, **k):
        made_callbacks.append(real(*a, **k))
        return made_callbacks[-1]

    x, y, xt, yt = load_mnist()
    n = args.samples
    data = (x[:n], y[:n], xt[:0], yt[:0])
    spec = ModelSpec(epochs=args.epochs, validation_split=0.0, seed=1)
    reports = []
    inside: list[float] = []

    from kpgui.core.training.progress import Listener

    class Count(Listener):
        def on_layers(self, stats):
            reports.append(stats.batch)

    def run(with_stats: bool) -> float:
        cb.make_layer_stats = measured if with_stats else (lambda *a, **k: keras.callbacks.Callback())
        try:
            result = Trainer(spec, Count(), data=data, evaluate=False).run()
            if with_stats:  # the share of fit's time spent in reports, measured from inside
                inside.append(made_callbacks[-1].spent / result.wall_time)
            return result.samples_per_second
        finally:
            cb.make_layer_stats = real

    run(True)  # warm-up: first fit traces the graph
    speeds: dict[bool, list[float]] = {True: [], False: []}
    for i in range(args.repeats):
        for with_stats in (True, False) if i % 2 else (False, True):
            reports.clear()
            speeds[with_stats].append(run(with_stats))
            if with_stats:
                made = len(reports)
    on, off = statistics.median(speeds[True]), statistics.median(speeds[False])
    steps = -(-n // spec.batch_size) * spec.epochs
    print(f"{n} images, {steps} batches, {args.repeats} repeats each, alternating")
    print(f"with layer stats:    {on:8.0f} samples/s (median; all: {[round(v) for v in speeds[True]]})")
    print(f"without layer stats: {off:8.0f} samples/s (median; all: {[round(v) for v in speeds[False]]})")
    print(f"reports per run: {made} (every {steps / max(made - 1, 1):.0f} batches on average)")
    best_on, best_off = max(speeds[True]), max(speeds[False])
    print(
        f"cost, medians: {100 * (1 - on / off):.1f} %; best runs: {100 * (1 - best_on / best_off):.1f} %"
        " (target <= 3 %)"
    )
    print(
        f"time inside the reports / fit time: median {100 * statistics.median(inside):.2f} %, "
        f"max {100 * max(inside):.2f} %"
    )


if __name__ == "__main__":
    main()
