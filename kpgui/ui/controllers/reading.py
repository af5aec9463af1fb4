"""What else is read from the image on show, once per change, for the views that show it: the
waiting candidate's reading (the candidate bar) and the saliency (the preview's overlay, only
while "Show saliency" is on). The state's own reading is made once per drawing change (the
drawing controller coalesces strokes per frame); the views never run a model themselves."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject

from kpgui.core.state import AppState, CurrentModel, Saliency

NEEDS_DENSE = "saliency needs a plain Dense model (NumPy weights)"


class ReadingController(QObject):
    """Publishes `state.candidate_reading` and `state.saliency`; `want_saliency(on, method)` is
    the saliency switch's intent. Built before the views so the state holds the new values
    when they are told the drawing, model or candidate changed."""

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.saliency_on = False
        self.method = "gradient_x_input"
        self._read: tuple[Any, Any] = (None, None)  # (candidate predictor, image) last read
        self._salient: tuple[Any, Any, str] | None = None  # (predictor, image, method) on show
        state.events.reading.connect(lambda _reading: self.update())
        state.events.candidate.connect(lambda _candidate: self._read_candidate())

    def update(self) -> None:
        """The image on show or the model changed: read it with the candidate, redo saliency."""
        self._read_candidate()
        self._update_saliency()

    def want_saliency(self, on: bool, method: str) -> None:
        self.saliency_on, self.method = bool(on), method
        self._update_saliency()

    def _read_candidate(self) -> None:
        candidate, image = self.state.candidate, self.state.view_image
        predictor = None if candidate is None else candidate.predictor
        if self._read[0] is predictor and self._read[1] is image:
            return  # the comparison arrived, or nothing changed: the reading stands
        self._read = (predictor, image)
        if predictor is None and self.state.candidate_reading is None:
            return  # no candidate, nothing to say (most frames)
        reading = None
        if predictor is not None and image is not None and np.any(image):
            reading = self.state.read_with(CurrentModel(predictor, "candidate"), image)
        self.state.set_candidate_reading(reading)

    def _update_saliency(self) -> None:
        image, predictor = self.state.view_image, self.state.predictor
        if not self.saliency_on or image is None or predictor is None or not np.any(image):
            self._salient = None
            shown = self.state.saliency
            if shown.heat is not None or shown.message:
                self.state.set_saliency(Saliency())
            return
        key = (predictor, image, self.method)
        old = self._salient
        if old is not None and old[0] is predictor and old[1] is image and old[2] == self.method:
            return  # asked again for what is on show (the switch and its menu entry both say "on")
        self._salient = key
        from kpgui.core.reading.saliency import saliency_for

        try:
            heat = saliency_for(predictor, image, method=self.method)
        except Exception as exc:  # noqa: BLE001 - an overlay must never break drawing
            self.state.set_saliency(Saliency(None, f"saliency unavailable: {exc}"))
            return
        self.state.set_saliency(Saliency(heat, "" if heat is not None else NEEDS_DENSE))
