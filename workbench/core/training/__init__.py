"""The training engine: ``train(config, on_event, stop)`` and its immutable events."""

from workbench.core.training.config import TrainConfig
from workbench.core.training.events import (
    BatchProgress,
    BatchSizeReduced,
    EpochEnded,
    FinishingProgress,
    TrainingEvent,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
)
# The engine's train, retried with half the batch after an out-of-memory error (imports TensorFlow only when called).
from workbench.core.training.oom import train_recovering as train


__all__ = [
    "train",
    "TrainConfig",
    "TrainingEvent",
    "TrainingStarted",
    "BatchProgress",
    "BatchSizeReduced",
    "EpochEnded",
    "FinishingProgress",
    "TrainingFinished",
    "TrainingStopped",
    "TrainingFailed",
]
