"""Resume checkpoints: every model weight and optimizer variable at the end of the last epoch.

``checkpoint/last.h5`` holds the arrays by position (the network is rebuilt from the
architecture registry, so positions match) with the epoch as an attribute; ``checkpoint/state.json``
repeats the epoch and the best score so far. Arrays are copied on the training thread and
written by a background thread, atomically, so checkpointing costs the epoch only the copy
(a Keras .keras save took 70-600 ms per epoch on the training thread).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.training.rundir import CHECKPOINT_DIR, read_json, write_json_atomic

DATA_FILE = "last.h5"
STATE_FILE = "state.json"
FORMAT = 1


class CheckpointError(Exception):
    """A run cannot be resumed or checkpointed; the message is one readable sentence."""


def checkpoint_paths(run_dir: str | os.PathLike) -> tuple[Path, Path]:
    folder = Path(run_dir) / CHECKPOINT_DIR
    return folder / DATA_FILE, folder / STATE_FILE


def _optimizer(model: Any) -> Any:
    optimizer = model.optimizer
    if not optimizer.built:
        # The optimizer's slots must exist before saved values can go into them.
        optimizer.build(model.trainable_variables)
    return optimizer


def snapshot(model: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Host copies of the model's weights and the optimizer's variables, in a stable order."""
    # np.array copies, so the next epoch's in-place updates cannot reach a write in progress.
    return ([np.array(v.numpy()) for v in model.weights], [np.array(v.numpy()) for v in _optimizer(model).variables])


def write_checkpoint(run_dir: str | os.PathLike, weights: list[np.ndarray], optimizer: list[np.ndarray],
                     state: dict[str, Any]) -> None:
    """Atomically write the arrays, then state.json (``state`` must hold ``epoch``)."""
    import h5py

    data_path, state_path = checkpoint_paths(run_dir)
    data_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = data_path.with_name(f".{data_path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["epoch"] = int(state["epoch"])
            for group, arrays in (("model", weights), ("optimizer", optimizer)):
                g = f.create_group(group)
                for i, array in enumerate(arrays):
                    g.create_dataset(f"{i:05d}", data=array)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, data_path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    write_json_atomic(state_path, state)


def save_checkpoint(model: Any, run_dir: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write a checkpoint now, on this thread."""
    write_checkpoint(run_dir, *snapshot(model), state)


class CheckpointWriter:
    """Copies the arrays on the caller's thread and writes them on one background thread."""

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.run_dir = Path(run_dir)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def save(self, model: Any, state: dict[str, Any]) -> None:
        self.wait()  # one write at a time, in epoch order
        weights, optimizer = snapshot(model)
        self._thread = threading.Thread(
            target=self._write, args=(weights, optimizer, dict(state)), name="workbench-checkpoint", daemon=True
        )
        self._thread.start()

    def _write(self, weights: list[np.ndarray], optimizer: list[np.ndarray], state: dict[str, Any]) -> None:
        try:
            write_checkpoint(self.run_dir, weights, optimizer, state)
        except BaseException as exc:  # reported on the training thread by wait()
            self._error = exc

    def wait(self) -> None:
        """Block until the last write is on disk; raise CheckpointError if it failed."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise CheckpointError(f"Could not write the checkpoint in {self.run_dir / CHECKPOINT_DIR}: {error}.")


def read_checkpoint_state(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The state of the last completed epoch, or None when the run has no usable checkpoint."""
    data_path, state_path = checkpoint_paths(run_dir)
    state = read_json(state_path)
    if not isinstance(state, dict) or not isinstance(state.get("epoch"), int) or not data_path.exists():
        return None
    return state


def load_checkpoint(model: Any, run_dir: str | os.PathLike) -> dict[str, Any]:
    """Load weights and optimizer state into a compiled ``model`` of the same architecture."""
    import h5py

    state = read_checkpoint_state(run_dir)
    if state is None:
        raise CheckpointError(f"The run in {run_dir} has no checkpoint to resume from (no completed epoch).")
    data_path, _ = checkpoint_paths(run_dir)
    variables = {"model": list(model.weights), "optimizer": list(_optimizer(model).variables)}
    try:
        with h5py.File(data_path, "r") as f:
            state = {**state, "epoch": int(f.attrs["epoch"])}  # the arrays' own epoch wins
            arrays = {name: [f[name][key][()] for key in sorted(f[name])] for name in variables}
    except (OSError, KeyError, ValueError) as exc:
        raise CheckpointError(f"The checkpoint {data_path} could not be read ({exc}).") from exc
    for name, targets in variables.items():
        saved = arrays[name]
        if len(saved) != len(targets) or any(tuple(a.shape) != tuple(v.shape) for a, v in zip(saved, targets)):
            raise CheckpointError(f"The checkpoint {data_path} was made by a different network or optimizer.")
    for name, targets in variables.items():
        for variable, array in zip(targets, arrays[name]):
            variable.assign(array)
    return state
