"""Reading a `.keras` file within limits, before anything (NumPy or Keras) builds the model.

A `.keras` file is a zip of config.json (the architecture) and model.weights.h5 (HDF5 weights).
Both can be forged: a config asking for Dense(units=2e6), or an h5 whose 9 kB of gzip claim a
784 x 3,000,000 kernel. Keras would allocate what they ask at build or load time, so we check
first, from metadata only: the zip members' declared sizes, the config's nesting and an estimate
of the parameters it would build, and the shapes the h5 datasets claim. Only then are weights
read, and those must be finite. None of this imports TensorFlow.
"""

from __future__ import annotations

import io
import math
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from kpgui.core.storage.bounded import (
    MAX_ACTIVATIONS,
    MAX_CONFIG_BYTES,
    MAX_PARAMS,
    MAX_WEIGHTS_BYTES,
    BadInput,
    TooBig,
    check_member_size,
    copy_member,
    loads_json,
    millions,
    read_member,
    zip_members,
)

CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
MAX_ABS_WEIGHT = 1e8  # no trained network has weights near this; forged or diverged ones do
MAX_DATASETS = 100_000  # HDF5 datasets (weights, optimizer slots) in one weights file
_SPILL = 64 * 1024 * 1024  # weights files larger than this are unpacked to disk, not memory


class NotKerasZip(BadInput):
    """A zip file, but without config.json / model.weights.h5 inside."""


def read_keras_zip(path: Path) -> tuple[dict, IO[bytes]]:
    """(config, weights) of a `.keras` file: the config parsed, the weights unpacked into a
    temporary file object (memory, or disk when large) that the caller must close.

    Raises zipfile.BadZipFile, OSError, NotKerasZip, or BadInput/TooBig naming the cause.
    """
    with zipfile.ZipFile(path) as archive:
        members = zip_members(archive)
        if CONFIG not in members or WEIGHTS not in members:
            raise NotKerasZip("no config.json / model.weights.h5 inside")
        for info in members.values():
            if info.flag_bits & 0x1:
                raise BadInput(f"{info.filename} inside it is encrypted")
            if info.filename != WEIGHTS:  # config, metadata, assets: Keras may read them all
                check_member_size(info, MAX_CONFIG_BYTES)
        config = loads_json(read_member(archive, members[CONFIG], MAX_CONFIG_BYTES))
        if not isinstance(config, dict):
            raise BadInput("its config.json does not describe a Keras model")
        info = members[WEIGHTS]
        if info.file_size <= _SPILL:  # the usual case: one read, kept in memory
            return config, io.BytesIO(read_member(archive, info, _SPILL))
        weights = tempfile.TemporaryFile()
        try:
            copy_member(archive, info, weights, MAX_WEIGHTS_BYTES)
            weights.seek(0)
        except BaseException:
            weights.close()
            raise
    return config, weights


# -- what the config would build ----------------------------------------------------------------

_SHAPE_KEEPING = {
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Softmax",
    "ThresholdedReLU",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
    "Rescaling",
    "Masking",
    "Permute",
    "Identity",
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
}
_NOT_SIZES = {
    "seed",
    "axis",
    "name",
    "dtype",
    "trainable",
    "registered_name",
    "module",
    "shared_object_id",
    "data_format",
    "padding",
    "dilation_rate",
    "strides",
    "noise_shape",
    "groups",
}


def _num(value: Any) -> float:
    """A size-like config value as a number: 0 when absent or not a number, inf when absurd."""
    if isinstance(value, bool) or value is None:
        return 0.0
    if not isinstance(value, int | float | str):
        return 0.0
    try:
        v = float(value)
    except OverflowError:  # an integer beyond float range
        return math.inf
    except ValueError:
        return 0.0
    if math.isnan(v):
        return 0.0
    return abs(v)


def _dims(value: Any, n: int) -> list[float]:
    """kernel_size=3 in a 2D layer means (3, 3): an int stands for all `n` dimensions."""
    if isinstance(value, list | tuple):
        return [max(1.0, _num(v)) for v in value] or [1.0]
    return [max(1.0, _num(value))] * n


def _rank(kind: str) -> int:
    """1, 2 or 3 for Conv1D, UpSampling2D, Conv3DTranspose ... (2 when the name has none)."""
    found = re.search(r"([123])D", kind)
    return int(found.group(1)) if found else 2


def _size_values(value: Any, key: str = "") -> Iterator[float]:
    """Every size-like number in an unknown layer's config (seeds, axes, names skipped)."""
    if key in _NOT_SIZES:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _size_values(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _size_values(v, key)
    elif isinstance(value, int | float | str) and not isinstance(value, bool):
        v = _num(value)
        if v > 1 and (not isinstance(value, float) or v == math.floor(v) or v > 1e6):
            yield v


@dataclass
class _Flow:
    """The tensor a layer is given, as (leading elements, last dimension) per picture.

    Each layer's output is kept by name, so a layer is costed on the tensor its config says it
    takes (its inbound nodes; in a Sequential, the layer before it). Where that cannot be known
    (a name not seen, a nested model), the layer is costed against the largest tensor seen so
    far (`big_lead`, `big_last`), so a forged graph cannot hide a big layer behind a small one.
    """

    lead: float = 1.0
    last: float = 784.0
    params: float = 0.0
    biggest: tuple[str, float] = ("", 0.0)
    widest: tuple[str, float] = ("", 0.0)
    big_lead: float = 1.0
    big_last: float = 784.0
    outputs: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)
    _inputs_seen: bool = field(default=False, repr=False)

    def add(self, name: str, params: float, lead: float, last: float) -> None:
        self.params += params
        if params > self.biggest[1]:
            self.biggest = (name, params)
        if lead * last > self.widest[1]:
            self.widest = (name, lead * last)
        self.lead, self.last = lead, last  # the next layer of a Sequential takes this
        self.outputs[name] = (lead, last)
        self.big_lead, self.big_last = max(self.big_lead, lead), max(self.big_last, last)

    def take(self, layer: dict) -> list[tuple[float, float]]:
        """Set (lead, last) to what `layer` is given; the shapes of all its inputs."""
        names = _inbound_names(layer.get("inbound_nodes"))
        if not names:  # a Sequential's layer: the previous output (already in lead, last)
            return [(self.lead, self.last)]
        if not all(n in self.outputs for n in names):  # unknown: assume the worst
            self.lead, self.last = self.big_lead, self.big_last
            return [(self.lead, self.last)] * len(names)
        shapes = [self.outputs[n] for n in names]
        self.lead, self.last = max(shapes, key=lambda s: s[0] * s[1])
        return shapes


def _inbound_names(nodes: Any, depth: int = 0) -> list[str]:
    """The layer names a functional layer's inbound nodes refer to (keras_history[0])."""
    if depth > 20:
        return []
    if isinstance(nodes, dict):
        history = nodes.get("keras_history")
        if isinstance(history, list) and history and isinstance(history[0], str):
            return [history[0]]
        return [n for v in nodes.values() for n in _inbound_names(v, depth + 1)]
    if isinstance(nodes, list):
        return [n for v in nodes for n in _inbound_names(v, depth + 1)]
    return []


Rule = Callable[[dict, _Flow, str], tuple[float, float, float]]  # -> params, lead, last


def _input(cfg: dict, f: _Flow, kind: str) -> tuple[float, float, float]:
    shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
    if not isinstance(shape, list | tuple) or len(shape) < 2:
        shape = [None, 784]
    dims = [max(1.0, _num(d)) for d in shape[1:]]
    if not f._inputs_seen:  # the first input replaces the 784 assumed before it
        f._inputs_seen = True
        f.lead, f.last = 1.0, 1.0
    return 0.0, math.prod(dims[:-1]), dims[-1]


def _dense(cfg: dict, f: _Flow, kind: str) -> tuple[float, float, float]:
    units = _num(cfg.get("units"))
    return f.last * units + units, f.lead, units


def _einsum_dense(cfg: dict, f: _Flow, kind: str) -> tuple[float, float, float]:
    out = math.prod(_dims(cfg.get("output_shape"), 1))
    return f.last * out + out, f.lead, out


def _conv(cfg: dict, f: _Flow, kind: str) -> tuple[float, float, float]:
    n = _rank(kind)
    k = math.prod(_dims(cfg.get("kernel_size"), n))
    filters = _num(cfg.get("filters"))
    mult = max(1.0, _num(cfg.get("depth_multiplier")))
    steps = math.prod(_dims(cfg.get("strides"), n))
    lead = f.lead * steps if "Transpose" in kind else max(1.0, f.lead / steps)
    if kind.startswith("Depthwise"):
        return k * f.last * mult + f.last * mult, lead, f.last * mult
    if kind.startswith("Separable"):
        return k * f.last * mult + f.last * mult * filters + filters, lead, filters
    return k * f.last * filters + filters, lead, filters


def _embedding(cfg: dict, f: _Flow, kind: str) -> tuple[float, float, float]:
    dim = _num(cfg.get("output_dim"))
    return _num(cfg.get("input_dim")) * dim, f.lead * f.last, dim


def _norm(cfg: dict, f: _Flow, kind: str) -> tuple[float, float, float]:
    return 4.0 * f.last, f.lead, f.last


def _flatten(cfg: dict, f: _Flow, kind: str) -> tuple[float, float, float]:
    return 0.0, 1.0, f.lead * f.last


def _reshape(cfg: dict, f: _Flow, kind: str) -> tuple[float, float, float]:
    dims = cfg.get("target_shape")
    width = f.lead * f.last
    if isinstance(dims, list | tuple) and dims and all(_num(d) >= 1 for d in dims):
        sizes = [_num(d) for d in dims]
        if math.prod(sizes) <= width:
            return 0.0, math.prod(sizes[:-1]), sizes[-1]
    return 0.0, 1.0, width


def _grow(cfg: dict, f: _Flow, kind: str) -> tuple[float, float, float]:
    """UpSampling, RepeatVector, ZeroPadding: the same channels over a larger area."""
    n = _rank(kind)
    if kind == "RepeatVector":
        return 0.0, f.lead * max(1.0, _num(cfg.get("n"))), f.last
    if kind.startswith("UpSampling"):
        return 0.0, f.lead * math.prod(_dims(cfg.get("size"), n)), f.last
    pads = [v for v in _size_values(cfg.get("padding"))] or [1.0]
    side = f.lead ** (1.0 / n) + 2.0 * max(pads)
    return 0.0, side**n, f.last


def _concatenate(layer: dict, f: _Flow) -> float:
    """How many tensors a merge layer joins (from its inbound nodes; 2 when unknown)."""
    return float(max(2, str(layer.get("inbound_nodes", "")).count("__keras_tensor__")))


def _unknown(cfg: dict, f: _Flow, kind: str) -> tuple[float, float, float]:
    """A layer we cannot cost exactly: assume every size-like number multiplies the weights."""
    sizes = list(_size_values(cfg))
    if not sizes:
        return 0.0, f.lead, f.last
    product = math.prod(min(s, 1e30) for s in sizes)
    return 4.0 * (f.last + max(sizes) + 1.0) * product, f.lead, max(f.last, max(sizes))


def _pool(cfg: dict, f: _Flow, kind: str) -> tuple[float, float, float]:
    """Pooling shrinks the area by its strides (default: its pool size); global pooling to 1."""
    if kind.startswith("Global"):
        return 0.0, 1.0, f.last
    n = _rank(kind)
    steps = cfg.get("strides") if cfg.get("strides") is not None else cfg.get("pool_size", 2)
    return 0.0, max(1.0, f.lead / math.prod(_dims(steps, n))), f.last


def _resize(cfg: dict, f: _Flow, kind: str) -> tuple[float, float, float]:
    """Resizing and CenterCrop make a height x width picture, whatever they are given."""
    return 0.0, max(1.0, _num(cfg.get("height"))) * max(1.0, _num(cfg.get("width"))), f.last


_RULES: dict[str, Rule] = {
    "Resizing": _resize,
    "CenterCrop": _resize,
    "InputLayer": _input,
    "Dense": _dense,
    "EinsumDense": _einsum_dense,
    "Embedding": _embedding,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "RepeatVector": _grow,
    "BatchNormalization": _norm,
    "LayerNormalization": _norm,
    "GroupNormalization": _norm,
    "UnitNormalization": _norm,
    "Normalization": _norm,
    "PReLU": _norm,
}
for _n in "123":
    for _base in ("Conv", "SeparableConv", "DepthwiseConv"):
        _RULES[f"{_base}{_n}D"] = _conv
    _RULES[f"Conv{_n}DTranspose"] = _conv
    _RULES[f"UpSampling{_n}D"] = _grow
    _RULES[f"ZeroPadding{_n}D"] = _grow
    for _base in ("MaxPooling", "AveragePooling", "GlobalMaxPooling", "GlobalAveragePooling"):
        _RULES[f"{_base}{_n}D"] = _pool


def _walk(layer: Any, f: _Flow, depth: int = 0) -> None:
    if not isinstance(layer, dict) or depth > 50:
        return
    kind = str(layer.get("class_name", ""))
    cfg = layer.get("config")
    cfg = cfg if isinstance(cfg, dict) else {}
    inner = cfg.get("layers")
    name = str(layer.get("name") or cfg.get("name") or kind or "?")
    if isinstance(inner, list):  # Sequential, Functional, a model used as a layer
        if depth:  # a nested model: its layers' names are its own; its input is the worst
            f.lead, f.last = f.big_lead, f.big_last
        for sub in inner:
            _walk(sub, f, depth + 1)
        f.outputs[name] = (f.big_lead, f.big_last) if depth else (f.lead, f.last)
        return
    shapes = f.take(layer)
    if kind == "Concatenate":
        known = len(shapes) > 1 and "keras_history" in str(layer.get("inbound_nodes"))
        last = sum(s[1] for s in shapes) if known else f.last * _concatenate(layer, f)
        f.add(name, 0.0, f.lead, last)
    elif kind in _SHAPE_KEEPING:
        f.add(name, 0.0, f.lead, f.last)
    else:
        f.add(name, *_RULES.get(kind, _unknown)(cfg, f, kind))


def check_config_size(config: dict) -> float:
    """Estimate the parameters and widest layer the config would build; TooBig when over the
    limits. Conservative: layers it cannot cost exactly count as large. Returns the estimate."""
    flow = _Flow()
    _walk(config, flow)
    if flow.params > MAX_PARAMS:
        name, alone = flow.biggest
        raise TooBig(
            f"its config asks for about {millions(flow.params)} weights (layer {name!r} "
            f"alone about {millions(alone)}); at most {millions(MAX_PARAMS)} are allowed"
        )
    name, width = flow.widest
    if width > MAX_ACTIVATIONS:
        raise TooBig(
            f"its layer {name!r} would produce about {millions(width)} numbers per "
            f"picture; at most {millions(MAX_ACTIVATIONS)} are allowed"
        )
    return flow.params


# -- what the weights file claims and holds ---------------------------------------------------------


def weight_datasets(h5: Any) -> list[tuple[str, Any]]:
    """(name, dataset) for every HDF5 dataset in the file (metadata only, nothing read)."""
    import h5py

    found: list[tuple[str, Any]] = []

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset):
            found.append((name, obj))
            if len(found) > MAX_DATASETS:
                raise TooBig(f"its weights file holds more than {MAX_DATASETS:,} arrays")

    h5.visititems(visit)
    return found


def _is_model_weight(name: str) -> bool:
    return not name.startswith("optimizer/")


def check_weight_shapes(datasets: list[tuple[str, Any]]) -> int:
    """Count the numbers the h5 datasets claim, from metadata only (nothing is read or
    decompressed); TooBig over the limits, BadInput for data kept outside the file.
    Returns the model's parameter count (optimizer state excluded)."""
    model = total = 0
    for name, ds in datasets:
        if ds.external or ds.is_virtual:
            raise BadInput(f"its weight {name!r} points at data outside the file")
        n = math.prod(ds.shape) if ds.shape is not None else 0
        total += n
        if _is_model_weight(name):
            model += n
            if model > MAX_PARAMS:
                raise TooBig(
                    f"its weights file claims {millions(n)} numbers for {name!r} alone, "
                    f"more than the {millions(MAX_PARAMS)} weights allowed in a model"
                )
    if total > 4 * MAX_PARAMS:  # optimizer slots: Adam keeps two per weight
        raise TooBig(
            f"its weights file claims {millions(total)} numbers in all; at most "
            f"{millions(4 * MAX_PARAMS)} are allowed"
        )
    return model


def _pieces(ds: Any, size: int = 4_000_000) -> Iterator[np.ndarray]:
    """A dataset's values a few million at a time (so a float64 kernel is not copied whole)."""
    if not ds.shape:
        yield np.asarray(ds[()])
        return
    row = math.prod(ds.shape[1:])
    step = max(1, size // max(1, row))
    for start in range(0, ds.shape[0], step):
        yield np.asarray(ds[start : start + step])


@dataclass
class WeightProblem:
    """Why the weights cannot be used: 'nonfinite' or 'absurd', and where."""

    kind: str
    where: str
    peak: float = 0.0


def find_weight_problem(datasets: list[tuple[str, Any]]) -> WeightProblem | None:
    """The first model weight that is NaN/inf or absurdly large, or None when all are sound.

    Call check_weight_shapes first: this reads the data.
    """
    for name, ds in datasets:
        if not _is_model_weight(name) or ds.dtype.kind != "f":
            continue
        for piece in _pieces(ds):
            if not np.isfinite(piece).all():
                return WeightProblem("nonfinite", name)
            peak = float(np.abs(piece).max(initial=0.0))
            if peak > MAX_ABS_WEIGHT:
                return WeightProblem("absurd", name, peak)
    return None
