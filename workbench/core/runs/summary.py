"""One run's summary (status, epochs, best and test accuracy, resumable) and the config it started with.

Reads through runs.folder (no TensorFlow; h5py for the checkpoint's epoch). Broken or half-written
folders are skipped or read as far as they go; nothing here raises for a damaged run.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from workbench.core.runs.folder import RunFolder, finite_number, read_run_folder
from workbench.core.training.checkpoint import read_checkpoint_state
from workbench.core.training.config import TrainConfig


@dataclass(frozen=True)
class RunSummary:
    run_dir: str
    name: str  # the folder name
    dataset: str
    arch: str
    status: str  # finished, stopped, failed, or incomplete (running now, or crashed)
    epochs_done: int
    epochs_planned: int
    best_val_top1: float | None
    best_val_top5: float | None  # val top-5 of the epoch with the best val top-1
    test_top1: float | None
    test_top5: float | None
    started: str  # ISO time from config.json ("" when unknown)
    model_path: str | None
    resumable: bool  # has a checkpoint and epochs left to run, or final files left to write (a crashed save)
    message: str = ""


def load_run_config(run_dir: str | os.PathLike) -> TrainConfig | None:
    """The TrainConfig a run was started with (to repeat or resume it), or None if unreadable."""
    folder = read_run_folder(run_dir, history=False)
    if folder is None or folder.config is None:
        return None
    try:
        return TrainConfig.from_dict(folder.config)
    except (TypeError, ValueError):
        return None


def _best(history: list[dict[str, float | None]]) -> tuple[float | None, float | None]:
    best: tuple[float | None, float | None] = (None, None)
    for row in history:
        value = row.get("val_top1")
        if value is None or not math.isfinite(value):
            continue
        if best[0] is None or value > best[0]:
            best = (value, row.get("val_top5"))
    return best


def summarize_run(run_dir: str | os.PathLike, folder: RunFolder | None = None) -> RunSummary | None:
    """A summary of one run folder (``folder``: the same folder read already), or None when it is not a
    readable run."""
    folder = folder or read_run_folder(run_dir)
    if folder is None or folder.config is None:
        return None
    run_dir, config, result, history = folder.path, folder.config, folder.result, folder.history
    best_top1, best_top5 = _best(history)
    epochs_planned = config.get("epochs") if isinstance(config.get("epochs"), int) else 0
    checkpoint = read_checkpoint_state(run_dir)
    epochs_done = max(len(history), checkpoint["epoch"] + 1 if checkpoint else 0)
    status = folder.status
    return RunSummary(
        run_dir=str(run_dir),
        name=run_dir.name,
        dataset=str(config.get("dataset", "")),
        arch=str(config.get("arch", "")),
        status=status,
        epochs_done=epochs_done,
        epochs_planned=epochs_planned,
        best_val_top1=best_top1,
        best_val_top5=best_top5,
        test_top1=finite_number(result.get("test_top1")),
        test_top5=finite_number(result.get("test_top5")),
        started=str(folder.stored.get("started", "")),
        model_path=result.get("model_path") if isinstance(result.get("model_path"), str) else None,
        resumable=checkpoint is not None and status != "finished",
        message=str(result.get("message", "")),
    )


def list_runs(root: str | os.PathLike | None = None) -> list[RunSummary]:
    """Every readable run folder under ``root`` (default: the workbench runs folder), newest first."""
    if root is None:
        from workbench.paths import default_runs_root

        root = default_runs_root()
    try:
        entries = [e for e in os.scandir(root) if e.is_dir() and not e.name.startswith(".")]
    except OSError:
        return []
    runs = []
    for entry in entries:
        try:
            summary = summarize_run(entry.path)
        except Exception:  # one damaged folder must not hide the others
            summary = None
        if summary is not None:
            runs.append(summary)
    runs.sort(key=lambda r: (r.started, r.name), reverse=True)
    return runs
