"""One run's working state and its folder: checking, claiming (locked) or reopening it, and config.json.

A run folder is checked before anything is written (a refused run writes nothing anywhere), then
claimed under an OS lock (one writer per folder), then checked again under the lock.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.training.checkpoint import CheckpointWriter, read_checkpoint_state
from workbench.core.training.config import TrainConfig
from workbench.core.training.errors import TrainingError
from workbench.core.training.inputs import augmentation_text
from workbench.core.training.lock import LOCK_FILE, RunLock
from workbench.core.training.rundir import (
    CONFIG_FILE,
    RESULT_FILE,
    clean_stray_temp_files,
    environment_versions,
    new_run_dir,
    read_json,
    write_json_atomic,
)

__all__ = ["RunSession", "TrainingError", "RESUME_FIXED", "check_run_folder", "claim_run_dir", "discard_empty_run",
           "stored_run_config", "write_config"]

# Settings a resumed run must share with its checkpoint: they shape the weights, the optimizer
# slots, the train/validation split or the names of the files it leaves.
RESUME_FIXED = ("dataset", "arch", "arch_options", "optimizer", "lr_schedule", "val_split", "seed", "limit",
                "model_format", "ema")  # ema: the weight average lives in the optimizer's checkpointed variables


@dataclass
class RunSession:
    config: TrainConfig
    run_dir: Path | None = None  # set once this run owns (has locked) its folder
    model: Any = None
    class_names: tuple[str, ...] = ()
    dataset_info: Any = None  # the loaded dataset's DatasetInfo
    image_shape: tuple[int, ...] = ()  # height, width, channels the network is built for
    initial_epoch: int = 0
    device: str = ""
    state: Any = None  # callbacks.state.RunState once training has started
    early_stopper: Any = None
    time_budget: Any = None  # the TimeBudget callback of a run with --minutes
    splits: Any = None
    extra: dict[str, Any] = field(default_factory=dict)  # the checkpoint state being resumed
    restore_policy: Any = None  # Keras dtype policy to put back when the run ends
    checkpoints: CheckpointWriter | None = None
    probes: Any = None  # probes.ProbeSet: test images followed epoch by epoch
    best_weights: list[Any] | None = None  # host copy of the best epoch's weights (also in every checkpoint)
    lock: RunLock | None = None
    created: Path | None = None  # the folder this run created (removed again if the run leaves nothing)

    def model_path(self, stem: str) -> Path:
        return self.run_dir / f"{stem}.{self.config.model_format}"

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def _is_finished(folder: Path, config: TrainConfig) -> bool:
    """The run ended normally and its final model is on disk (so there is nothing left to finish)."""
    result = read_json(folder / RESULT_FILE)
    status = result.get("status") if isinstance(result, dict) else None
    return status == "finished" and (folder / f"model.{config.model_format}").is_file()


def check_run_folder(config: TrainConfig) -> int:
    """Refuse (TrainingError) a folder this run may not use, writing nothing; return the first epoch to train.

    A resume whose epochs are all done but whose final files are missing (a crash during the final save)
    returns ``config.epochs``: the run then only finishes its files.
    """
    if config.resume:
        return _check_resume(config)
    if config.run_dir:
        folder = Path(config.run_dir)
        if folder.exists() and not folder.is_dir():
            raise TrainingError(f"{folder} is a file, not a folder; choose a folder for the run.")
        if (folder / CONFIG_FILE).exists():
            raise TrainingError(f"The folder {folder} already holds a run; choose a new folder or resume it.")
        if folder.is_dir() and any(name != LOCK_FILE for name in os.listdir(folder)):
            raise TrainingError(
                f"The folder {folder} is not empty and holds no workbench run; "
                "choose a new or empty folder so that none of its files are overwritten."
            )
    return 0


def _stored_settings(run_dir: str | os.PathLike | None) -> dict[str, Any]:
    if not run_dir:
        raise TrainingError("Resuming needs the folder of an earlier run; none was given.")
    folder = Path(run_dir)
    if not folder.is_dir():
        raise TrainingError(f"There is no run folder {folder} to resume; give the folder of an earlier run.")
    stored = read_json(folder / CONFIG_FILE)
    if not isinstance(stored, dict) or not isinstance(stored.get("config"), dict):
        raise TrainingError(
            f"The folder {folder} holds no readable config.json, so it is not a run that can be resumed."
        )
    return stored["config"]


def stored_run_config(run_dir: str | os.PathLike | None) -> TrainConfig:
    """The settings an earlier run was started with, to resume it (TrainingError when there is no such run)."""
    settings = _stored_settings(run_dir)
    try:
        return TrainConfig.from_dict(settings)
    except (TypeError, ValueError) as exc:
        raise TrainingError(f"The config.json in {run_dir} holds settings that are not valid ({exc}).") from None


def _check_resume(config: TrainConfig) -> int:
    folder = Path(config.run_dir or "")
    stored = _stored_settings(config.run_dir)
    for key in RESUME_FIXED:
        value = stored.get(key)
        if key in stored and value != getattr(config, key):
            raise TrainingError(
                f"This run was trained with {key}={value!r}; resume it with the same setting "
                f"(got {getattr(config, key)!r})."
            )
    state = read_checkpoint_state(folder)
    if state is None:
        raise TrainingError(f"The run in {folder} has no completed epoch to resume from.")
    done = int(state["epoch"]) + 1
    if done > config.epochs or (done == config.epochs and _is_finished(folder, config)):
        raise TrainingError(
            f"This run already completed {done} of {config.epochs} epochs; "
            "raise the number of epochs to continue it."
        )
    return done


def claim_run_dir(run: RunSession) -> None:
    """Create or reopen the run folder, lock it and check it again under the lock; then it is this run's."""
    from workbench.paths import default_runs_root

    config = run.config
    check_run_folder(config)  # nothing is written for a folder we may not use
    if config.resume or config.run_dir:
        folder = Path(config.run_dir)
        if not folder.exists():
            folder.mkdir(parents=True)
            created = folder
        else:
            created = None
    else:
        folder = created = new_run_dir(config.runs_root or default_runs_root(), config.dataset, config.arch)
    try:
        run.lock = RunLock.acquire(folder)
        run.initial_epoch = check_run_folder(config)  # another run may have written it meanwhile
    except BaseException:
        run.release()
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise
    run.run_dir, run.created = folder, created
    if config.resume:
        clean_stray_temp_files(folder)  # what a killed run was writing
        run.extra = read_checkpoint_state(folder) or {}


def discard_empty_run(run: RunSession) -> bool:
    """Remove what a new run wrote when it ends without one completed epoch (nothing worth keeping)."""
    if run.config.resume or run.run_dir is None:
        return False
    if run.state is not None and (run.state.epochs_completed > 0 or run.state.stop_requested):
        return False
    folder = run.run_dir
    if run.created is not None:
        shutil.rmtree(folder, ignore_errors=True)
    else:  # the user's own empty folder: empty it again, keep the folder
        for entry in list(os.scandir(folder)):
            with contextlib.suppress(OSError):
                shutil.rmtree(entry.path) if entry.is_dir(follow_symlinks=False) else os.remove(entry.path)
    return True


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
        "precision": setup.precision,
        "class_names": list(run.class_names),
        "num_classes": len(run.class_names),
        "image_shape": list(run.image_shape),
        "augmentation": augmentation_text(run.dataset_info, run.config),
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

