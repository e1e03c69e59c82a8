"""A real tiny training run whose confidence is off in a known direction, for the calibration tests."""

from __future__ import annotations

from pathlib import Path


def train_underconfident_run(run: Path) -> Path:
    """simple_cnn on the built-in shapes (192 training images, 48 validation) with heavy label smoothing:
    accurate but under-confident, so a temperature below 1 lowers its calibration error."""
    from workbench.core.training import train
    from workbench.core.training.config import TrainConfig

    event = train(TrainConfig(dataset="builtin", arch="simple_cnn", epochs=3, batch_size=64, limit=192,
                              test_limit=64, seed=3, label_smoothing=0.3, run_dir=str(run)))
    assert type(event).__name__ == "TrainingFinished", event
    return run
