"""Public model API: ModelSpec, build_model and save_model (implementations in kpgui.core)."""

from kpgui.core.network import build_model
from kpgui.core.saving import make_card, save_model
from kpgui.core.spec import ACTIVATIONS, OPTIMIZERS, ModelSpec, parse_hidden

__all__ = ["ACTIVATIONS", "OPTIMIZERS", "ModelSpec", "build_model", "make_card", "parse_hidden",
           "save_model"]
