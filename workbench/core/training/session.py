"""One run's working state and its folder: creating or reopening it, and config.json."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.training.checkpoint import CheckpointWriter, read_checkpoint_state
from workbench.core.training.config import TrainConfig
from workbench.core.training.rundir import CONFIG_FILE, environment_versions, new_run_dir, read_json, write_json_atomic

# Settings a resumed run must share with its checkpoint: they shape the weights, the optimizer
# slots or the train/validation split.
RESUME_FIXED = ("dataset", "arch", "arch_options", "optimizer", "lr_schedule", "val_split", "seed", "limit")


class TrainingError(Exception):
    """A run cannot start or go on; the message is one readable sentence."""


@dataclass
class RunSession:
    config: TrainConfig
    run_dir: Path | None = None
    model: Any = None
    class_names: tuple[str, ...] = ()
    initial_epoch: int = 0
    device: str = ""
    state: Any = None  # callbacks.state.RunState once training has started
    early_stopper: Any = None
    splits: Any = None
    extra: dict[str, Any] = field(default_factory=dict)  # the checkpoint state being resumed
    restore_policy: Any = None  # Keras dtype policy to put back when the run ends
    checkpoints: CheckpointWriter | None = None
    probes: Any = None  # probes.ProbeSet: test images followed epoch by epoch
    best_weights: list[Any] | None = None  # host copy of the best epoch's weights, written as best.h5 at the end

    def model_path(self, stem: str) -> Path:
        return self.run_dir / f"{stem}.{self.config.model_format}"


def prepare_run_dir(run: RunSession) -> None:
    """Create a new run folder, or check that ``config.run_dir`` can be resumed and from which epoch."""
    from workbench.paths import default_runs_root

    config = run.config
    if config.resume:
        if not config.run_dir or not Path(config.run_dir).is_dir():
            raise TrainingError(f"There is no run folder {config.run_dir!r} to resume.")
        run.run_dir = Path(config.run_dir)
        stored = (read_json(run.run_dir / CONFIG_FILE) or {}).get("config") or {}
        for key in RESUME_FIXED:
            if key in stored and stored[key] != getattr(config, key):
                raise TrainingError(
                    f"This run was trained with {key}={stored[key]!r}; resume it with the same setting "
                    f"(got {getattr(config, key)!r})."
                )
        state = read_checkpoint_state(run.run_dir)
        if state is None:
            raise TrainingError(f"The run in {run.run_dir} has no completed epoch to resume from.")
        run.initial_epoch = int(state["epoch"]) + 1
        run.extra = state
        if run.initial_epoch >= config.epochs:
            raise TrainingError(
                f"This run already completed {run.initial_epoch} of {config.epochs} epochs; "
                "raise the number of epochs to continue it."
            )
        return
    if config.run_dir:
        run.run_dir = Path(config.run_dir)
        if (run.run_dir / CONFIG_FILE).exists():
            raise TrainingError(f"The folder {run.run_dir} already holds a run; choose a new folder or resume it.")
        run.run_dir.mkdir(parents=True, exist_ok=True)
    else:
        root = config.runs_root or default_runs_root()
        run.run_dir = new_run_dir(root, config.dataset, config.arch)


def write_config(run: RunSession, setup: Any, splits: Any, params: int) -> None:
    """config.json: the TrainConfig plus versions, device and data sizes; a resume keeps ``started``."""
    path = run.run_dir / CONFIG_FILE
    previous = read_json(path) or {}
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    data = {
        "format": 1,
        "config": run.config.to_dict(),
        "versions": environment_versions(),
        "device": setup.description,
        "replicas": setup.replicas,
        "mixed_precision": setup.mixed_precision,
        "class_names": list(run.class_names),
        "num_classes": len(run.class_names),
        "params": params,
        "train_images": splits.train_images,
        "val_images": splits.val_images,
        "test_images": splits.test_images,
        "steps_per_epoch": splits.steps_per_epoch,
        "started": previous.get("started", now),
        "resumed": previous.get("resumed", []) + ([{"at": now, "from_epoch": run.initial_epoch}]
                                                   if run.config.resume else []),
    }
    write_json_atomic(path, data)

