"""First-layer weights: each hidden unit's 784 input weights drawn as a 28x28 tile.

Red = the unit is excited by ink there, blue = inhibited; each tile is scaled to its own
largest |weight|. A sample of units (evenly spread) is shown, refreshed on model change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from kpgui.core.state import AppState
from kpgui.ui.charts import pyqtgraph, style_plot

pg = pyqtgraph()

GAP = 2  # pixels between tiles


def choose_units(n_units: int, count: int) -> np.ndarray:
    """`count` unit indices spread evenly over all units (all of them when there are few)."""
    count = max(1, min(count, n_units))
    return np.unique(np.linspace(0, n_units - 1, count).round().astype(int))


def weight_mosaic(kernel: np.ndarray, units: np.ndarray, columns: int | None = None) -> np.ndarray:
    """A (H, W) float image in [-1, 1] of 28x28 tiles (each scaled to its max |w|), NaN gaps."""
    n = len(units)
    cols = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    out = np.full((rows * (28 + GAP) - GAP, cols * (28 + GAP) - GAP), np.nan, np.float32)
    for k, u in enumerate(units):
        tile = kernel[:, u].reshape(28, 28)
        m = float(np.abs(tile).max()) or 1.0
        r, c = divmod(k, cols)
        out[r * (28 + GAP) : r * (28 + GAP) + 28, c * (28 + GAP) : c * (28 + GAP) + 28] = tile / m
    return out


def diverging_lut() -> np.ndarray:
    """Blue - white - red, 256 entries."""
    cmap = pg.ColorMap([0.0, 0.5, 1.0], [(33, 102, 172), (247, 247, 247), (178, 24, 43)])
    return cmap.getLookupTable(0.0, 1.0, 256)


class WeightsPanel(QWidget):
    """The Weights tab: observes the state's model; draws only while the tab is visible."""

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.predictor = None
        self._dirty = True
        self.kernel: np.ndarray | None = None
        self.units = np.zeros(0, int)
        self.count = QSpinBox()
        self.count.setRange(1, 256)
        self.count.setValue(64)
        self.count.setSuffix(" units")
        self.count.valueChanged.connect(lambda _v: self.refresh())
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.plot = pg.PlotWidget()
        style_plot(self.plot)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(diverging_lut())
        self.plot.addItem(self.image)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.count)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.info)
        layout.addWidget(self.plot, 1)
        state.events.model.connect(lambda m: self.set_predictor(None if m is None else m.predictor))
        self.set_predictor(state.predictor)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            style_plot(self.plot)
        super().changeEvent(event)

    def set_predictor(self, predictor: Any) -> None:
        """Show `predictor`'s weights; while the tab is hidden, only remember to (start-up cost)."""
        self.predictor = predictor
        self._dirty = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def refresh(self) -> None:
        self._dirty = False
        try:
            self.kernel = None if self.predictor is None else self.predictor.first_layer_kernel()
        except Exception:  # an odd Keras model: just say there is nothing to show
            self.kernel = None
        if self.kernel is None:
            self.units = np.zeros(0, int)
            self.image.clear()
            self.info.setText(
                "No model loaded."
                if self.predictor is None
                else "This model has no first Dense layer over the 784 pixels to show."
            )
            return
        n = self.kernel.shape[1]
        self.units = choose_units(n, self.count.value())
        mosaic = weight_mosaic(self.kernel, self.units)
        # NaN gaps become white-ish via the LUT's middle; keep them neutral (0).
        self.image.setImage(np.nan_to_num(mosaic, nan=0.0), levels=(-1.0, 1.0))
        self.plot.getPlotItem().autoRange(padding=0.01)
        self.info.setText(
            f"{len(self.units)} of the first layer's {n} units, each as the 28x28 picture of its "
            "input weights: red = ink there excites the unit, blue = inhibits it "
            "(each tile scaled to its own largest weight)."
        )
