"""Public data API (implementation in kpgui.core.data)."""

from kpgui.core.data import DatasetError, find_mnist, keras_cache_path, load_mnist, to_model_input

__all__ = ["DatasetError", "find_mnist", "keras_cache_path", "load_mnist", "to_model_input"]
