"""Live saliency: which pixels pushed the reading towards its digit, drawn over the preview.

The reading controller computes it (kpgui.ui.controllers.reading, in NumPy from the model's
weights: well under a millisecond for the default network) whenever the image on show or the
model changes, only while the switch is on, and publishes `state.saliency`; this bar is the
switch, the method and a colour scale that says what the colours mean.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kpgui.core.state import AppState, Saliency
from kpgui.ui.images import heat_legend

METHODS = {"gradient × input": "gradient_x_input", "gradient": "gradient"}


class SaliencyBar(QWidget):
    """The "Show saliency" switch, the method and the legend; shows `state.saliency` through
    `set_overlay(heat | None)`. Intent: `wanted(on, method)`."""

    wanted = Signal(bool, str)

    def __init__(
        self, state: AppState, set_overlay: Callable[[np.ndarray | None], None], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.set_overlay = set_overlay
        self.method = "gradient_x_input"
        self.message = ""
        self.checkbox = QCheckBox("Show saliency")
        self.checkbox.setToolTip(
            "Colour the pixels of the 28x28 preview that pushed the network towards the digit it reads"
        )
        self.method_combo = QComboBox()
        self.method_combo.addItems(list(METHODS))
        self.method_combo.setToolTip(
            "gradient × input: the ink that pushed towards the digit; "
            "gradient: where a change would matter most"
        )
        self.legend = QLabel()
        self.legend.setPixmap(QPixmap.fromImage(heat_legend(90, 8)))
        self.legend_text = QLabel("none → most")
        self.legend_row = QWidget()
        lrow = QHBoxLayout(self.legend_row)
        lrow.setContentsMargins(0, 0, 0, 0)
        lrow.addWidget(self.legend)
        lrow.addWidget(self.legend_text)
        self.legend_row.setToolTip("How much each pixel pushed the network towards its answer")
        self.checkbox.toggled.connect(self.set_enabled)
        self.method_combo.currentTextChanged.connect(self._method_chosen)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.checkbox)
        top.addWidget(self.method_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.legend_row, 0, Qt.AlignmentFlag.AlignHCenter)
        state.events.saliency.connect(self.show_saliency)
        self.set_enabled(False)

    @property
    def enabled(self) -> bool:
        return self.checkbox.isChecked()

    def set_enabled(self, on: bool) -> None:
        if self.checkbox.isChecked() != bool(on):
            self.checkbox.setChecked(bool(on))  # comes back here through `toggled`
            return
        self.method_combo.setVisible(bool(on))
        self.legend_row.setVisible(bool(on))
        self.update_overlay()

    def _method_chosen(self, text: str) -> None:
        self.method = METHODS[text]
        self.update_overlay()

    def update_overlay(self) -> None:
        """Ask for the overlay of the current drawing and model (or none, when off)."""
        self.wanted.emit(self.enabled, self.method)

    def show_saliency(self, saliency: Saliency) -> None:
        self.message = saliency.message
        self.set_overlay(saliency.heat)
        self.setToolTip(saliency.message)
