"""Deleting a run moves it to a trash folder under the runs root, so it can be restored (Undo).

A run folder being written by a run (its lock is held) is refused. Name clashes on the way in
or out get a numeric suffix; nothing is ever overwritten.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from workbench.core.runs.folder import link_refusal
from workbench.core.training.errors import TrainingError
from workbench.core.training.lock import RunLock
from workbench.core.atomic_write import write_json_atomic
from workbench.core.training.rundir import CONFIG_FILE

TRASH_DIR = ".trash"  # hidden, so run listings skip it
TRASH_NOTE = ".workbench-trash.json"  # inside a trashed run: where it came from
MAX_SUFFIX = 1000  # clash suffixes tried before giving up


class TrashError(ValueError):
    """A run that cannot be deleted or restored; the message is one sentence."""


def _free_name(folder: Path, name: str) -> Path:
    for n in range(MAX_SUFFIX):
        candidate = folder / (name if n == 0 else f"{name}-{n + 1}")
        if not os.path.lexists(candidate):
            return candidate
    raise TrashError(f"{folder} already holds {MAX_SUFFIX} folders named like {name}; empty it first.")


def delete_run(run_dir: str | os.PathLike) -> Path:
    """Move ``run_dir`` into ``<its root>/.trash/`` and return where it went."""
    run_dir = Path(run_dir)
    refusal = link_refusal(run_dir)
    if refusal:
        raise TrashError(refusal)
    if not (run_dir / CONFIG_FILE).is_file():
        raise TrashError(f"{run_dir} is not a run folder (it has no config.json); choose a run from `runs`.")
    try:
        lock = RunLock.acquire(run_dir)  # held while moving: no run can start writing here meanwhile
    except TrainingError as exc:
        raise TrashError(f"{exc} It was not deleted.") from None
    try:
        trash = run_dir.parent / TRASH_DIR
        trash.mkdir(exist_ok=True)
        target = _free_name(trash, run_dir.name)
        write_json_atomic(run_dir / TRASH_NOTE, {"original": run_dir.name, "deleted_at": time.time()})
        os.rename(run_dir, target)
    finally:
        lock.release()
    return target


def find_trashed(root: str | os.PathLike, name: str) -> Path:
    """The newest run deleted from folder ``name``, else the trashed folder called ``name``."""
    trash = Path(root) / TRASH_DIR
    entries = list_trash(root)  # newest first
    for entry in entries:
        if entry["original"] == name:
            return Path(entry["path"])
    for entry in entries:
        if Path(entry["path"]).name == name:
            return Path(entry["path"])
    raise TrashError(f"There is no deleted run called {name!r} in {trash}; see `runs trash` for the list.")


def list_trash(root: str | os.PathLike) -> list[dict]:
    """Every deleted run: ``path``, ``original`` folder name and ``deleted_at`` (seconds), newest first."""
    trash = Path(root) / TRASH_DIR
    try:
        entries = [e for e in os.scandir(trash) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []
    out = []
    for entry in entries:
        original, deleted_at = entry.name, 0.0
        try:
            with open(Path(entry.path) / TRASH_NOTE, encoding="utf-8") as f:
                note = json.loads(f.read(4096))
            if isinstance(note.get("original"), str) and "/" not in note["original"]:
                original = note["original"]
            if isinstance(note.get("deleted_at"), (int, float)):
                deleted_at = float(note["deleted_at"])
        except (OSError, ValueError, AttributeError):
            pass
        out.append({"path": entry.path, "original": original, "deleted_at": deleted_at})
    out.sort(key=lambda e: e["deleted_at"], reverse=True)
    return out


def restore_run(trashed: str | os.PathLike) -> Path:
    """Move a trashed run back beside the trash folder under its old name (suffixed if taken)."""
    trashed = Path(trashed)
    if trashed.parent.name != TRASH_DIR or not trashed.is_dir():
        raise TrashError(f"{trashed} is not a deleted run in a {TRASH_DIR} folder.")
    original = next((e["original"] for e in list_trash(trashed.parent.parent) if Path(e["path"]) == trashed),
                    trashed.name)
    target = _free_name(trashed.parent.parent, original)
    os.rename(trashed, target)
    try:
        os.remove(target / TRASH_NOTE)
    except OSError:
        pass
    return target
