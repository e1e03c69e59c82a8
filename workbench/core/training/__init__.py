"""The training engine: ``train(config, on_event, stop)`` and its immutable events."""

from workbench.core.training.config import TrainConfig
from workbench.core.training.engine import train  # imports TensorFlow only when called
from workbench.core.training.events import (
    BatchProgress,
    EpochEnded,
    TrainingEvent,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
)


__all__ = [
    "train",
    "TrainConfig",
    "TrainingEvent",
    "TrainingStarted",
    "BatchProgress",
    "EpochEnded",
    "TrainingFinished",
    "TrainingStopped",
    "TrainingFailed",
]
