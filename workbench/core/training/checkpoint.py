"""Resume checkpoints: every model weight and optimizer variable at the end of the last epoch.

``checkpoint/last.h5`` is the one record of a run's progress: the arrays by position (the network is
rebuilt from the architecture registry, so positions match), the best epoch's weights, and the
state (epoch, best score) as attributes. One file replaced atomically, so the epoch of the weights,
of the state and of the best weights can never disagree, whenever the process dies.
Arrays are copied on the training thread and written by a background thread, so checkpointing
costs the epoch only the copy (a Keras .keras save took 70-600 ms per epoch on the training thread).
A failed write sets ``CheckpointWriter.failed`` at once, so training stops at the next batch.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.training.rundir import CHECKPOINT_DIR, read_json

DATA_FILE = "last.h5"
LEGACY_STATE_FILE = "state.json"  # format 1 kept the state beside the arrays; read for old runs only
FORMAT = 2


class CheckpointError(Exception):
    """A run cannot be resumed or checkpointed; the message is one readable sentence."""


def checkpoint_path(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / CHECKPOINT_DIR / DATA_FILE


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
                     state: dict[str, Any], best: list[np.ndarray] | None = None) -> None:
    """Atomically write the arrays, the best weights and ``state`` (which must hold ``epoch``) as one file."""
    import h5py

    # The HDF5 file is built in memory and written with plain file I/O: a full disk then raises a clean
    # OSError (ENOSPC) at the write, where HDF5 writing to a full disk itself crashed the process (SIGSEGV
    # in H5Fclose, seen on a full tmpfs).
    image = io.BytesIO()
    with h5py.File(image, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["epoch"] = int(state["epoch"])
        f.attrs["state"] = json.dumps(state)
        groups = [("model", weights), ("optimizer", optimizer)] + ([("best", best)] if best is not None else [])
        for group, arrays in groups:
            g = f.create_group(group)
            for i, array in enumerate(arrays):
                g.create_dataset(f"{i:05d}", data=array)
    data_path = checkpoint_path(run_dir)
    data_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = data_path.with_name(f".{data_path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(image.getbuffer())
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, data_path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


class CheckpointWriter:
    """Copies the arrays on the caller's thread and writes them on one background thread."""

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.run_dir = Path(run_dir)
        self.failed = threading.Event()  # set the moment a write fails; the training loop polls it
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def save(self, arrays: tuple[list[np.ndarray], list[np.ndarray]], state: dict[str, Any],
             best: list[np.ndarray] | None) -> None:
        """Write a ``snapshot()`` with the state and the best weights so far, in the background."""
        self.wait()  # one write at a time, in epoch order
        weights, optimizer = arrays
        self._thread = threading.Thread(
            target=self._write, args=(weights, optimizer, dict(state), best),
            name="workbench-checkpoint", daemon=True,
        )
        self._thread.start()

    def _write(self, weights: list[np.ndarray], optimizer: list[np.ndarray], state: dict[str, Any],
               best: list[np.ndarray] | None) -> None:
        try:
            write_checkpoint(self.run_dir, weights, optimizer, state, best)
        except BaseException as exc:  # raised on the training thread by wait()
            self._error = exc
            self.failed.set()

    def wait(self) -> None:
        """Block until the last write is on disk; raise CheckpointError if it failed."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise CheckpointError(
                f"Could not write the checkpoint in {self.run_dir / CHECKPOINT_DIR}: {error}."
            ) from error


def read_checkpoint_state(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The state of the last completed epoch (``epoch``, ``best_value``, ``best_epoch``), or None without one."""
    import h5py

    data_path = checkpoint_path(run_dir)
    try:
        with h5py.File(data_path, "r") as f:
            epoch = int(f.attrs["epoch"])
            text = f.attrs.get("state")
    except (OSError, KeyError, TypeError, ValueError):
        return None
    if text is None:  # format 1: the state sat in state.json beside the arrays
        state = read_json(data_path.with_name(LEGACY_STATE_FILE))
        state = state if isinstance(state, dict) and state.get("epoch") == epoch else {}
    else:
        try:
            state = json.loads(text)
        except ValueError:
            return None
    if not isinstance(state, dict):
        return None
    return {**state, "epoch": epoch}  # the arrays' own epoch wins


def _read_arrays(data_path: Path, names: tuple[str, ...]) -> dict[str, list[np.ndarray]]:
    import h5py

    try:
        with h5py.File(data_path, "r") as f:
            return {name: [f[name][key][()] for key in sorted(f[name])] for name in names if name in f}
    except (OSError, KeyError, ValueError) as exc:
        raise CheckpointError(f"The checkpoint {data_path} could not be read ({exc}).") from exc


def load_checkpoint(model: Any, run_dir: str | os.PathLike) -> dict[str, Any]:
    """Load weights and optimizer state into a compiled ``model`` of the same architecture.

    Returns the state, with the best epoch's weights under ``best_weights`` (None in older checkpoints).
    """
    state = read_checkpoint_state(run_dir)
    if state is None:
        raise CheckpointError(f"The run in {run_dir} has no checkpoint to resume from (no completed epoch).")
    data_path = checkpoint_path(run_dir)
    variables = {"model": list(model.weights), "optimizer": list(_optimizer(model).variables)}
    arrays = _read_arrays(data_path, ("model", "optimizer", "best"))
    checked = {**variables, "best": variables["model"]} if "best" in arrays else variables
    for name, targets in checked.items():
        saved = arrays.get(name, [])
        if len(saved) != len(targets) or any(tuple(a.shape) != tuple(v.shape) for a, v in zip(saved, targets)):
            raise CheckpointError(f"The checkpoint {data_path} was made by a different network or optimizer.")
    for name, targets in variables.items():
        for variable, array in zip(targets, arrays[name]):
            variable.assign(array)
    return {**state, "best_weights": arrays.get("best")}
