"""Runs that were cut short (the window closed mid-run, a crash, a power cut), to offer them for resuming.

A run was cut short when its folder holds a resume checkpoint and epochs left to train (or final files
left to write), its result is not "finished" (nor a divergence, which a resume would only repeat), and no
live process holds its lock. Qt-free: the window asks on a worker thread at start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from workbench.core.runs.epoch_words import budget_minutes, budget_text
from workbench.core.runs.folder import read_run_folder
from workbench.core.runs.meta import read_meta
from workbench.core.text import sanitize
from workbench.core.training.checkpoint import checkpoint_path, read_checkpoint_state
from workbench.core.training.lock import is_locked
from workbench.core.training.run_time import resumed_from, run_wall_seconds

MAX_LOOKED_AT = 50  # newest candidates (by checkpoint time) read in full; older cut-short runs stay in the Runs tab
WHY = {"stopped": "stopped", "failed": "failed", "incomplete": "was cut short"}  # result.json status -> words


@dataclass(frozen=True)
class CutShortRun:
    run_dir: str
    name: str  # the run's display name (meta.json) or its folder name
    status: str  # stopped, failed, or incomplete (no result.json: a crash or a power cut)
    epochs_done: int
    epochs_planned: int  # the config's epochs (under a time budget only a cap)
    minutes: float | None  # the run's time budget
    trained_seconds: float | None  # wall time of all its parts up to its last completed epoch

    @property
    def key(self) -> str:
        """What a dismissal remembers: this run at this epoch (cut short again later, it is offered again)."""
        return f"{self.run_dir}@{self.epochs_done}"

    def describe(self) -> str:
        """"Run X stopped at epoch 6 of 15, 0:40 trained"."""
        of = f"in a {budget_text(self.minutes)}" if self.minutes is not None else f"of {self.epochs_planned}"
        trained = f", {_duration(self.trained_seconds)} trained" if self.trained_seconds is not None else ""
        return f"Run {self.name} {WHY.get(self.status, self.status)} at epoch {self.epochs_done} {of}{trained}"


def _duration(seconds: float) -> str:
    minutes, s = divmod(int(round(seconds)), 60)
    h, m = divmod(minutes, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def cut_short_run(run_dir: str | os.PathLike) -> CutShortRun | None:
    """``run_dir`` as a cut-short run, or None (finished, diverged, nothing to resume, running now, no run)."""
    folder_path = Path(run_dir)
    if not checkpoint_path(folder_path).is_file():
        return None
    folder = read_run_folder(folder_path)
    if folder is None or folder.config is None or folder.status == "finished" or folder.result.get("diverged"):
        return None
    state = read_checkpoint_state(folder_path)
    planned = folder.config.get("epochs")
    if state is None or not isinstance(planned, int) or isinstance(planned, bool):
        return None
    done = int(state["epoch"]) + 1
    if done > planned or is_locked(folder_path):
        return None
    meta, _why = read_meta(folder_path)
    rows = [r for r in folder.history if isinstance(r.get("epoch"), (int, float)) and r["epoch"] < done]
    return CutShortRun(
        run_dir=str(folder_path), name=meta.name or sanitize(folder_path.name, 120),
        status=folder.status, epochs_done=done, epochs_planned=planned, minutes=budget_minutes(folder.config),
        trained_seconds=run_wall_seconds(rows, resumed_from(folder.stored)),
    )


def _by_checkpoint_time(root: Path) -> list[Path]:
    """Run folders under ``root`` with a checkpoint, the most recently checkpointed first."""
    found = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            found.append((checkpoint_path(entry.path).stat().st_mtime, Path(entry.path)))
        except OSError:
            continue
    return [path for _t, path in sorted(found, key=lambda t: t[0], reverse=True)]


def find_cut_short(runs_root: str | os.PathLike, last_started: str | None = None,
                   dismissed: Iterable[str] = ()) -> CutShortRun | None:
    """The run to offer for resuming: ``last_started`` (the window's last run) when it was cut short, else the
    most recently checkpointed cut-short run under ``runs_root``; runs dismissed at their epoch are skipped."""
    dismissed = set(dismissed)
    candidates = [Path(last_started)] if last_started else []
    candidates += _by_checkpoint_time(Path(runs_root))[:MAX_LOOKED_AT]
    for path in candidates:
        try:
            run = cut_short_run(path)
        except Exception:  # one damaged folder must not hide the others
            run = None
        if run is not None and run.key not in dismissed:
            return run
    return None
