"""Public inference API (implementation in kpgui.core.inference)."""

from kpgui.core.inference import ModelLoadError, Predictor, read_model_card

__all__ = ["ModelLoadError", "Predictor", "read_model_card"]
