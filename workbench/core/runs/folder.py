"""The one reader of a run folder: config.json, result.json and history.csv, read once with size caps.

Every reader of runs (the table, a run's summary, the report table, the window's run details) starts
here. A damaged, oversized, non-UTF-8 or planted file never raises: it is left out and ``notes`` says
which file and why, in one sentence each.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.text import printable, sanitize
from workbench.core.training.rundir import CONFIG_FILE, RESULT_FILE, read_history, read_json

FINAL_STATUSES = ("finished", "stopped", "failed")


@dataclass(frozen=True)
class RunFolder:
    path: Path
    stored: dict[str, Any]  # config.json as a whole: config, started, params, device ({} when unreadable)
    result: dict[str, Any]  # result.json ({} while running, or when unreadable)
    history: list[dict[str, float | None]] = field(default_factory=list)  # one row per completed epoch
    notes: tuple[str, ...] = ()  # files skipped, one sentence each

    @property
    def config(self) -> dict[str, Any] | None:
        """The settings the run started with, or None when config.json could not be read."""
        config = self.stored.get("config")
        return config if isinstance(config, dict) else None

    @property
    def status(self) -> str:
        """finished, stopped or failed from result.json; otherwise incomplete (running now, or crashed)."""
        status = self.result.get("status")
        return status if status in FINAL_STATUSES else "incomplete"


def finite_number(value: Any) -> float | None:
    """A finite float read from a run's file, or None (a damaged file may hold anything there)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def link_refusal(run_dir: str | os.PathLike) -> str:
    """Why a run folder that is a symbolic link may not be labelled or deleted ("" when it is a real folder).

    A link in the runs folder can point anywhere: writing meta.json or moving the folder through it would
    change files outside the runs folder, so labels and deletion refuse it with this one sentence."""
    path = Path(run_dir)
    if not path.is_symlink():
        return ""
    try:
        target = os.readlink(path)
    except OSError:
        target = "somewhere else"
    return (f"{path} is a symbolic link (to {sanitize(target, 200)}), not a run folder of its own; runs are "
            "labelled and deleted only where they really are, so give the folder it points to.")


def is_run_folder(path: str | os.PathLike) -> bool:
    """True when ``path`` holds a config.json entry (readable or not): a run, perhaps a damaged one."""
    return os.path.lexists(Path(path) / CONFIG_FILE)


def read_run_folder(run_dir: str | os.PathLike, history: bool = True) -> RunFolder | None:
    """The run in ``run_dir``, or None when it has no config.json at all (not a run).

    A config.json that cannot be read still gives a RunFolder (with ``config`` None and a note), so a
    run with one bad byte is shown with the reason instead of vanishing."""
    run_dir = Path(run_dir)
    if not is_run_folder(run_dir):
        return None
    notes: list[str] = []
    stored = read_json(run_dir / CONFIG_FILE, notes)
    if stored is not None and not (isinstance(stored, dict) and isinstance(stored.get("config"), dict)):
        notes.append(f"{run_dir / CONFIG_FILE} holds no settings object, so the run's settings are unknown.")
    stored = stored if isinstance(stored, dict) else {}
    result = read_json(run_dir / RESULT_FILE, notes)
    rows = read_history(run_dir, notes) if history else []
    shown = tuple(printable(n) for n in notes)  # a path with a non-UTF-8 byte is still printable
    return RunFolder(run_dir, stored, result if isinstance(result, dict) else {}, rows, shown)
