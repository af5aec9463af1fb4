"""Public training API (implementation in kpgui.core.training)."""

from kpgui.core.training import (
    EARLY_STOPPED,
    FINISHED,
    STOPPED,
    BatchUpdate,
    EpochUpdate,
    Trainer,
    TrainingResult,
    TrainingStart,
)

__all__ = ["EARLY_STOPPED", "FINISHED", "STOPPED", "BatchUpdate", "EpochUpdate", "Trainer",
           "TrainingResult", "TrainingStart"]
