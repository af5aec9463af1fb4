"""Public preprocessing API (implementation in kpgui.core.preprocess)."""

from kpgui.core.preprocess import image_to_mnist, strokes_to_mnist

__all__ = ["image_to_mnist", "strokes_to_mnist"]
