"""Live saliency: which pixels pushed the prediction towards the top class, drawn over the
28x28 preview. Computed in NumPy from the weights on every image change (well under a
millisecond for the default model), so no thread is needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QWidget

METHODS = {"gradient × input": "gradient_x_input", "gradient": "gradient"}


def compute_saliency(predictor: Any, image: np.ndarray, method: str = "gradient_x_input"):
    """(28, 28) heat >= 0, or None when the model has no NumPy weights (Keras-only models)."""
    from kpgui.core.saliency import saliency_for

    return saliency_for(predictor, image, method=method)


class SaliencyController(QObject):
    """Holds the switch and the method; feeds `set_overlay(heat | None)` from images."""

    toggled = Signal(bool)

    def __init__(self, get_predictor: Callable[[], Any],
                 set_overlay: Callable[[np.ndarray | None], None], parent=None) -> None:
        super().__init__(parent)
        self.get_predictor = get_predictor
        self.set_overlay = set_overlay
        self.enabled = False
        self.method = "gradient_x_input"
        self.image: np.ndarray | None = None
        self.last_heat: np.ndarray | None = None
        self.last_ms = 0.0
        self.message = ""

    def set_enabled(self, on: bool) -> None:
        if bool(on) == self.enabled:
            return
        self.enabled = bool(on)
        self.update()
        self.toggled.emit(self.enabled)

    def set_method(self, method: str) -> None:
        self.method = method
        self.update()

    def on_image(self, image: np.ndarray | None) -> None:
        self.image = None if image is None else np.asarray(image, np.float32).reshape(28, 28)
        self.update()

    def on_predictor(self, _predictor: Any = None) -> None:
        self.update()

    def update(self) -> None:
        """Recompute (or remove) the overlay for the current image and model."""
        heat = None
        self.message = ""
        predictor = self.get_predictor()
        if self.enabled and self.image is not None and predictor is not None and (
                self.image.max() > 0):
            t0 = time.perf_counter()
            try:
                heat = compute_saliency(predictor, self.image, self.method)
            except Exception as exc:  # never let an overlay break drawing
                heat = None
                self.message = f"saliency unavailable: {exc}"
            self.last_ms = 1000 * (time.perf_counter() - t0)
            if heat is None and not self.message:
                self.message = "saliency needs a plain Dense model (NumPy weights)"
        self.last_heat = heat
        self.set_overlay(heat)


class SaliencyBar(QWidget):
    """The "Show saliency" checkbox and the method choice, wired to a controller."""

    def __init__(self, controller: SaliencyController, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.checkbox = QCheckBox("Show saliency")
        self.checkbox.setToolTip("Colour the pixels of the 28x28 preview that pushed the "
                                 "prediction towards the top digit")
        self.method = QComboBox()
        self.method.addItems(list(METHODS))
        self.method.setEnabled(False)
        self.checkbox.toggled.connect(controller.set_enabled)
        self.checkbox.toggled.connect(self.method.setEnabled)
        controller.toggled.connect(self._sync)
        self.method.currentTextChanged.connect(lambda t: controller.set_method(METHODS[t]))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.checkbox)
        layout.addWidget(self.method)

    def _sync(self, on: bool) -> None:
        if self.checkbox.isChecked() != on:
            self.checkbox.setChecked(on)
