"""Per-layer numbers of a training run: how big each Dense layer's gradient is, how fast its
weights move, and how many of its ReLU units have died. Plain NumPy on the model's weights, so
they are the same whichever Keras backend trains (TensorFlow or JAX), and Qt-free.

Definitions (what the Training tab, the logs and `kpgui runs --stats` show):

* The **probe batch** is a fixed set of PROBE_SIZE training images, chosen once per run with the
  run's seed; every report measures on the same images, so the curves move because the network
  moves, not because the batch changed. Dropout is off for the probe (inference mode).
* **gradient norm** of a layer: the L2 norm of the gradient of the training loss (categorical
  cross-entropy with the run's label smoothing, mean over the probe batch, computed from the
  logits) with respect to all of that layer's parameters (kernel and bias together).
* **update/weight ratio** of a layer: how far its parameters moved per batch, relative to their
  size: ||theta_now - theta_then|| / (k * ||theta_then||), where theta_then are the parameters at
  the previous report, k batches ago. The rule of thumb for a healthy run is about 1e-3; much
  larger and the steps overshoot, much smaller and the layer barely learns.
* **dead share** of a hidden ReLU layer: the fraction of its units whose output is 0 for every
  image of the probe batch. A dead unit passes no gradient back, so it never recovers. It is
  NaN for other activations and for the output layer (no ReLU to die).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kpgui.core.model.inference import ACTIVATION_GRADS, ACTIVATIONS, DenseLayer, keras_dense

REPORT_EVERY = 10  # at most one report per this many batches
PROBE_SIZE = 256  # images in the probe batch
BUDGET = 0.02  # a report may take at most this share of the training time between reports
CSV_NAME = "layer_stats.csv"
QUANTITIES = ("grad_norm", "update_ratio", "dead")
TITLES = {"grad_norm": "gradient norm", "update_ratio": "update / weight", "dead": "dead ReLUs %"}


@dataclass(frozen=True)
class LayerStats:
    """One report: each Dense layer's numbers at one point of the run (picklable: it crosses
    from the training process to the window). Tuples hold one value per layer, in order."""

    epoch: int  # 1-based
    epochs: int
    step: int  # batches done in this epoch (0 = before the epoch's first batch)
    steps: int
    batch: int  # batches done in this run
    layers: tuple[str, ...]
    grad_norm: tuple[float, ...]
    update_ratio: tuple[float, ...]  # NaN at the first report
    dead: tuple[float, ...]  # share 0..1; NaN where there is no ReLU
    loss: float  # the probe batch's loss

    @property
    def position(self) -> float:
        """Fractional epoch, like BatchUpdate.epoch_position (0 = before training)."""
        return self.epoch - 1 + self.step / max(self.steps, 1)

    def quantity(self, name: str) -> tuple[float, ...]:
        """The per-layer values of one of QUANTITIES."""
        values = {"grad_norm": self.grad_norm, "update_ratio": self.update_ratio, "dead": self.dead}
        return values[name]


def layer_names(layers: list[DenseLayer]) -> tuple[str, ...]:
    """'dense 1 (512 relu)', ..., 'output (10)': what a legend shows for each layer."""
    names = [f"dense {i + 1} ({d.kernel.shape[1]} {d.activation})" for i, d in enumerate(layers[:-1])]
    return (*names, f"output ({layers[-1].kernel.shape[1]})")


def dense_layers(model: Any) -> list[DenseLayer]:
    """The Dense layers of a Keras model as NumPy arrays (any backend: get_weights copies)."""
    return [d for d in map(keras_dense, model.layers) if d is not None]


def probe_gradients(
    layers: list[DenseLayer], x: np.ndarray, targets: np.ndarray, label_smoothing: float = 0.0
) -> tuple[list[float], list[float], float]:
    """(gradient norm per layer, dead share per layer, loss) of the mean categorical
    cross-entropy over the batch `x` (N, 784) float32 with `targets` (N, 10) (one-hot or soft).
    The last layer must be softmax; the loss is computed from its logits (as Keras does)."""
    if layers[-1].activation != "softmax":
        raise ValueError("the last layer must be softmax")
    with np.errstate(all="ignore"):  # a diverging run's weights are inf/NaN: so are its numbers
        return _probe(layers, x, targets, label_smoothing)


def _probe(
    layers: list[DenseLayer], x: np.ndarray, targets: np.ndarray, label_smoothing: float
) -> tuple[list[float], list[float], float]:
    n = len(x)
    acts, pres = [np.asarray(x, np.float32)], []
    for d in layers[:-1]:
        z = acts[-1] @ d.kernel + d.bias
        pres.append(z)
        acts.append(ACTIVATIONS[d.activation](z).astype(np.float32, copy=False))
    logits = acts[-1] @ layers[-1].kernel + layers[-1].bias
    t = np.asarray(targets, np.float32)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / t.shape[1]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-(t * log_p).sum(axis=1).mean())
    dz = (np.exp(log_p) * t.sum(axis=1, keepdims=True) - t) / n  # d loss / d logits
    norms = [0.0] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        d = layers[i]
        dw = acts[i].T @ dz
        db = dz.sum(axis=0)
        norms[i] = float(math.sqrt(float(np.sum(dw * dw)) + float(np.sum(db * db))))
        if i:
            dz = (dz @ d.kernel.T) * ACTIVATION_GRADS[layers[i - 1].activation](pres[i - 1])
    dead = [
        float(np.mean(np.all(z <= 0, axis=0))) if d.activation == "relu" else math.nan
        for d, z in zip(layers[:-1], pres, strict=True)
    ]
    return norms, [*dead, math.nan], loss


def update_ratios(now: list[DenseLayer], then: list[DenseLayer] | None, batches: int) -> list[float]:
    """||theta_now - theta_then|| / (batches * ||theta_then||) per layer (NaN without `then`)."""
    if then is None or batches <= 0 or len(then) != len(now):
        return [math.nan] * len(now)
    out = []
    for a, b in zip(now, then, strict=True):
        moved = float(np.sum((a.kernel - b.kernel) ** 2) + np.sum((a.bias - b.bias) ** 2))
        size = float(np.sum(b.kernel**2) + np.sum(b.bias**2))
        out.append(math.sqrt(moved) / (batches * math.sqrt(size)) if size > 0 else math.nan)
    return out


def probe_batch(
    images: np.ndarray, targets: np.ndarray, seed: int | None, size: int = PROBE_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """The run's fixed probe: `size` of its training images (uint8 or float) and their targets,
    chosen with the seed (seed None: 0, so a run's probe is always the same)."""
    rng = np.random.default_rng(0 if seed is None else int(seed))
    pick = np.sort(rng.choice(len(images), min(size, len(images)), replace=False))
    x = np.asarray(images[pick], np.float32).reshape(len(pick), -1)
    if x.size and x.max() > 1.0:
        x = x / 255.0
    return x, np.asarray(targets[pick], np.float32)


@dataclass
class LayerHistory:
    """All reports of a run, one list per quantity and layer: what History stores, plots overlay
    and `kpgui runs --stats` prints. `to_dict`/`from_dict` give its JSON form."""

    layers: tuple[str, ...] = ()
    position: list[float] = field(default_factory=list)
    batch: list[int] = field(default_factory=list)
    values: dict[str, list[list[float]]] = field(default_factory=dict)  # quantity -> per layer

    def add(self, s: LayerStats) -> None:
        if not self.layers:
            self.layers = s.layers
            self.values = {q: [[] for _ in s.layers] for q in QUANTITIES}
        self.position.append(s.position)
        self.batch.append(s.batch)
        for q in QUANTITIES:
            for lst, v in zip(self.values[q], s.quantity(q), strict=True):
                lst.append(float(v))

    def __len__(self) -> int:
        return len(self.position)

    def to_dict(self) -> dict:
        return {
            "layers": list(self.layers),
            "position": list(self.position),
            "batch": list(self.batch),
            **{q: self.values.get(q, []) for q in QUANTITIES},
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> LayerHistory:
        """Back from JSON (None stands for NaN there); an empty history for None or junk."""
        h = cls()
        if not isinstance(data, dict) or not data.get("layers"):
            return h
        try:
            h.layers = tuple(str(n) for n in data["layers"])
            h.position = [float(v) for v in data["position"]]
            h.batch = [int(v) for v in data["batch"]]
            h.values = {
                q: [[math.nan if v is None else float(v) for v in per] for per in data[q]] for q in QUANTITIES
            }
        except (KeyError, TypeError, ValueError):
            return cls()
        return h

    def rows(self) -> list[tuple]:
        """(position, batch, layer, grad_norm, update_ratio, dead) per report and layer."""
        return [
            (p, b, name, *(self.values[q][j][i] for q in QUANTITIES))
            for i, (p, b) in enumerate(zip(self.position, self.batch, strict=True))
            for j, name in enumerate(self.layers)
        ]


CSV_HEADER = ("epoch", "batch", "layer", "grad_norm", "update_ratio", "dead_share")


def csv_rows(s: LayerStats) -> list[list]:
    """The CSV rows of one report (one per layer), as in layer_stats.csv."""
    return [
        [f"{s.position:.4f}", s.batch, name, f"{g:.6g}", f"{u:.6g}", f"{d:.6g}"]
        for name, g, u, d in zip(s.layers, s.grad_norm, s.update_ratio, s.dead, strict=True)
    ]


def format_table(history: LayerHistory) -> str:
    """The history as an aligned text table, one line per report and layer (kpgui runs --stats)."""

    def num(v: float, pct: bool = False) -> str:
        if not math.isfinite(v):
            return "-"
        return f"{100 * v:.1f} %" if pct else f"{v:.3g}"

    head = ("epoch", "batch", "layer", "gradient norm", "update/weight", "dead ReLUs")
    rows = [head] + [
        (f"{p:.2f}", str(b), name, num(g), num(u), num(d, True)) for p, b, name, g, u, d in history.rows()
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    )
