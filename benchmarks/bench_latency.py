"""1. Draw -> reading latency: strokes -> 28x28 -> calibrated reading, per drawing event.

kpgui's path is the window's: `segment.read_drawing` (the strokes split into digits where people
leave space, each piece made 28x28 by `strokes_to_mnist`, one batched NumPy forward pass of the
pieces and their moved views, the model card's calibration and "not sure"), what `AppState` does
for every drawing. Beside it, on the same inputs in the same process and through the same
splitting and calibration, only the forward pass changes: Keras
compiled by `tf.function` with a fixed input signature (the strongest obvious alternative: the
headline), eager `model(x, training=False)` and `model.predict(x, verbose=0)` (the common approach).
Inputs are synthetic handwriting (see strokes.py): the finished digits, and every partial state a
digit passes through while it is drawn (the window reads at most once per 16 ms frame).

The window rows go through the real app (`kpgui.ui.app.build_app`, shown offscreen): each
finished digit is drawn on `app.panels["drawing"].canvas` with mouse events, then
`app.drawing.render_now()` (strokes -> 28x28 -> reading -> preview, answer and bars updated) is
timed, and a whole frame (that plus the repaint of the dirty widgets); and `render_now()` after
every mouse move while a digit is drawn (the worst case, without the frame coalescing).

    python benchmarks/bench_latency.py [--quick] [--json out.json]
"""

from __future__ import annotations

import os

# What `kpgui` sets for the window's process (kpgui/cli/__init__.py): its NumPy reading uses one
# BLAS thread, so a reading never waits for a second core busy with training.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys
import time
from collections.abc import Callable

import _common as C
import numpy as np
import strokes as S

NAME = "latency"
TARGET_P95_MS = 2.0


def _time_calls(fn: Callable[[object], object], inputs: list, repeats: int) -> list[float]:
    """Milliseconds of fn(x) for every input, `repeats` times over (inputs interleaved)."""
    out = []
    for _ in range(repeats):
        for x in inputs:
            t0 = time.perf_counter()
            fn(x)
            out.append((time.perf_counter() - t0) * 1e3)
    return out


def _make_inputs(n_per_digit: int, seed: int) -> tuple[list, list]:
    """(finished digits, partial states) as (strokes, pen_width) pairs."""
    rng = np.random.default_rng(seed)
    finished, partial = [], []
    for _ in range(n_per_digit):
        for digit in range(10):
            strokes, pen = S.draw_digit(digit, rng)
            finished.append((strokes, pen))
            partial.extend((state, pen) for state in S.partial_states(strokes))
    return finished, partial


class _KerasForward:
    """A forward pass for `read_drawing` made of a Keras callable (images -> probabilities)."""

    def __init__(self, forward: Callable[[np.ndarray], object]) -> None:
        self._forward = forward

    def predict(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(self._forward(images.reshape(len(images), 784).astype(np.float32)))


def _paths(predictor, model) -> dict[str, Callable]:
    import tensorflow as tf

    from kpgui.core.reading.confidence import Calibration, forget_readings
    from kpgui.core.reading.preprocess import strokes_to_mnist
    from kpgui.core.reading.segment import read_drawing

    cal = Calibration.from_card(predictor.card)
    compiled = tf.function(
        lambda x: model(x, training=False), input_signature=[tf.TensorSpec([None, 784], tf.float32)]
    )
    forwards = {
        "tf.function(model)": _KerasForward(compiled),
        "model.predict": _KerasForward(lambda x: model.predict(x, verbose=0)),
        "model(x, training=False)": _KerasForward(lambda x: model(x, training=False)),
    }

    # Each reading is timed as a first one: a drawing being written is a new picture every time
    # (readings with views are remembered per picture, kpgui.core.reading.confidence).
    def numpy_path(item):
        forget_readings()
        return read_drawing(item[0], item[1], predictor, cal)

    def keras_path(forward):
        def path(item):
            forget_readings()
            return read_drawing(item[0], item[1], forward, cal)

        return path

    def preprocess_only(item):
        return strokes_to_mnist(*item)

    return {
        "kpgui (NumPy)": numpy_path,
        **{label: keras_path(fw) for label, fw in forwards.items()},
        "strokes_to_mnist alone": preprocess_only,
    }


def _window_path(finished: list, repeats: int, n_drawn: int) -> dict[str, dict] | None:
    """The real window: each digit drawn with mouse events, then its reading timed.

    `render_now` is what the drawing controller's 16 ms frame timer runs after mouse moves
    (strokes -> 28x28 -> reading -> preview, answer and bars updated); "frame" adds the repaint
    of the widgets that changed; "per_move" is render_now after every mouse move of `n_drawn`
    digits. None when kpgui.ui cannot be used.
    """
    try:
        import _gui as G

        G.load_gui()
        app = G.open_app()
    except Exception as exc:  # noqa: BLE001 - the core figures stand without the window
        print(f"latency: window path skipped: {exc}", file=sys.stderr)
        return None
    from PySide6.QtWidgets import QApplication

    canvas = G.canvas_of(app)
    render, frame, per_move = [], [], []
    right = 0
    for i, (strokes, pen) in enumerate(finished):
        G.draw_digit(app, strokes, pen, render=False)
        QApplication.processEvents()
        for _ in range(repeats):
            t0 = time.perf_counter()
            app.drawing.render_now()
            t1 = time.perf_counter()
            canvas.update()  # the new point, as a mouse move would have asked
            QApplication.processEvents()
            t2 = time.perf_counter()
            render.append((t1 - t0) * 1e3)
            frame.append((t2 - t0) * 1e3)
        reading = app.state.reading
        right += reading is not None and reading.digit == i % 10

    def timed_render() -> None:
        t0 = time.perf_counter()
        app.drawing.render_now()
        per_move.append((time.perf_counter() - t0) * 1e3)

    for strokes, _pen in finished[:n_drawn]:
        app.drawing.clear()
        G.draw(canvas, strokes, after_move=timed_render)
    size = canvas.canvas_size()
    G.close_app(app)
    return {
        "render_now": _summary(render),
        "frame": _summary(frame),
        "per_move": _summary(per_move),
        "canvas_px": size,
        "window_read_right": right / len(finished),
    }


def _saliency(predictor, finished: list, repeats: int) -> dict[str, float]:
    """Prediction + saliency (Show saliency on) per finished digit, on the shipped model's
    layers: the work the preview adds when the switch is on (formerly a timed unit test)."""
    from kpgui.core.reading.preprocess import strokes_to_mnist
    from kpgui.core.reading.saliency import predict_with_saliency

    images = [strokes_to_mnist(*item) for item in finished]
    _time_calls(lambda x: predict_with_saliency(predictor.layers, x), images[:10], 1)  # warm up
    return _summary(_time_calls(lambda x: predict_with_saliency(predictor.layers, x), images, repeats))


def _summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": C.percentile(ms, 50),
        "p95_ms": C.percentile(ms, 95),
        "p99_ms": C.percentile(ms, 99),
        "max_ms": max(ms),
    }


def _check_same(predictor, model, items: list) -> float:
    """Largest difference between NumPy and Keras probabilities on the given inputs."""
    from kpgui.core.reading.preprocess import strokes_to_mnist

    x = np.stack([strokes_to_mnist(*it).reshape(784) for it in items])
    return float(np.abs(predictor.predict(x) - np.asarray(model(x, training=False))).max())


def _agreement(predictor, finished: list) -> float:
    """Share of the synthetic digits the shipped model reads as the digit they were drawn as."""
    from kpgui.core.reading.preprocess import strokes_to_mnist

    labels = np.tile(np.arange(10), len(finished) // 10)
    preds = [int(predictor.predict_one(strokes_to_mnist(*it)).argmax()) for it in finished]
    return float(np.mean(np.asarray(preds) == labels))


def run(quick: bool) -> tuple[list, dict]:
    import os

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # the alternative compiles with tf.function
    import keras

    from kpgui.core.model.inference import Predictor

    predictor = Predictor.load()
    model = keras.saving.load_model(C.default_model_path(), compile=False)
    n_per_digit = 2 if quick else 10
    finished, partial = _make_inputs(n_per_digit, seed=1)
    repeats = 3 if quick else 10
    # Keras is 10-100x slower: time it on an evenly spread subset of the partial states.
    keras_step = max(1, len(partial) // (30 if quick else 300))
    paths = _paths(predictor, model)
    for fn in paths.values():  # warm up (Keras builds its predict function on first call)
        _time_calls(fn, finished[:10], 1)
    results: dict[str, dict] = {}
    for label, fn in paths.items():
        keras_like = label.startswith(("model", "tf."))
        fin = _time_calls(fn, finished, 1 if keras_like else repeats)
        sub = partial[::keras_step] if keras_like else partial
        part = _time_calls(fn, sub, 1 if keras_like else max(1, repeats // 3))
        results[label] = {"finished": _summary(fin), "partial": _summary(part)}
    window = _window_path(finished, repeats, 3 if quick else 20)
    rows = _rows(results, window)
    points = [sum(len(s) for s in st) for st, _ in finished]
    recognised = _agreement(predictor, finished)
    details = {
        "results": results,
        "window": window,
        "inputs": {
            "finished_digits": len(finished),
            "partial_states": len(partial),
            "points_per_digit_median": C.median(points),
            "canvas_px": S.CANVAS,
            "keras_partial_states_every": keras_step,
            "repeats_numpy": repeats,
        },
        "prediction_and_saliency_ms": _saliency(predictor, finished, repeats),
        "max_abs_prob_difference_numpy_vs_keras": _check_same(predictor, model, finished),
        "synthetic_digits_recognised": recognised,
        "model_card_description": predictor.card.get("description"),
        "notes": [
            f"{len(finished)} synthetic digits ({C.median(points):.0f} points median, "
            f"{S.CANVAS} px canvas) and their {len(partial)} partial states (one per mouse move); "
            f"Keras timed on every {keras_step}th partial state.",
            f"Shipped model reads {100 * recognised:.0f} % of the synthetic "
            "digits as the intended digit (sanity check of the inputs)"
            + (
                "."
                if window is None
                else f"; drawn in the window with the mouse, {100 * window['window_read_right']:.0f} %."
            ),
        ],
    }
    return rows, details


def _rows(results: dict[str, dict], window: dict[str, dict] | None) -> list[dict]:
    ours = results["kpgui (NumPy)"]
    call, predict = results["tf.function(model)"], results["model.predict"]
    bench = "1 draw->reading"
    rows = []
    for kind, what in (("finished", "finished digit"), ("partial", "while drawing")):
        for q in ("p50_ms", "p95_ms"):
            target = f"p95 <= {TARGET_P95_MS:g} ms" if q == "p95_ms" else ""
            met = ours[kind][q] <= TARGET_P95_MS if q == "p95_ms" else None
            rows.append(
                C.row(
                    bench,
                    f"{q[:3]} {what}: strokes -> split -> calibrated reading",
                    ours[kind][q],
                    "ms",
                    alt_name="tf.function(model)",
                    alt_value=call[kind][q],
                    target=target,
                    met=met,
                )
            )
        rows.append(
            C.row(
                bench,
                f"p95 {what}",
                ours[kind]["p95_ms"],
                "ms",
                alt_name="model.predict",
                alt_value=predict[kind]["p95_ms"],
            )
        )
    if window is not None:
        w, h = window["canvas_px"]
        for key, what, target in (
            ("render_now", "app.drawing.render_now() (strokes -> reading -> panels), finished digit", None),
            ("frame", "window frame: render_now + repaint, finished digit", 16.0),
            ("per_move", "render_now after every mouse move while drawing (no coalescing)", None),
        ):
            v = window[key]
            rows.append(
                C.row(
                    bench,
                    f"p50 / p95 {what}",
                    v["p50_ms"],
                    "ms",
                    alt_name="p95",
                    alt_value=v["p95_ms"],
                    show_ratio=False,
                    target=f"p95 <= {target:g} ms (a frame)" if target else "",
                    met=v["p95_ms"] <= target if target else None,
                    note=f"canvas {w}x{h} px" if key == "render_now" else "",
                )
            )
    pre = results["strokes_to_mnist alone"]["partial"]
    rows.append(
        C.row(
            bench,
            "p50 / p95 strokes_to_mnist alone, while drawing",
            pre["p50_ms"],
            "ms",
            alt_name="its p95",
            alt_value=pre["p95_ms"],
            show_ratio=False,
        )
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    C.setup_env()
    args = C.base_parser(__doc__.splitlines()[0]).parse_args(argv)
    t0 = time.perf_counter()
    rows, details = run(args.quick)
    C.finish(NAME, rows, details, args, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
