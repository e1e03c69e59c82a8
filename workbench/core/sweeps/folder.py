"""The sweep folder: ``<runs root>/<name>/sweep.json`` plus one run folder per trial (``trial-001`` ...).

sweep.json is rewritten atomically after every trial, so a reader (the runs table, the sweep view)
never sees half a file and a crashed sweep still says which trials finished.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from pathlib import Path
from typing import Any

from workbench.core.files import open_regular_file
from workbench.core.training.rundir import write_json_atomic

SWEEP_FILE = "sweep.json"
MAX_SWEEP_JSON_BYTES = 16 * 1024 * 1024  # 1,000 trials of settings and results fit in well under 1 MB
METRIC = "val_top1"  # what trials are ranked and early-stopped by (top-1 on the training images without validation)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class SweepFolderError(ValueError):
    """A sweep folder that cannot be made or read, as one sentence."""


def trial_id(index: int) -> str:
    return f"trial-{index + 1:03d}"


def claim_sweep_folder(root: str | os.PathLike, name: str | None) -> Path:
    """Create ``root/name`` (default: sweep-<time>); refuse a name that exists or is not a plain folder name."""
    name = name or time.strftime("sweep-%Y%m%d-%H%M%S")
    if not _NAME.match(name):
        raise SweepFolderError(f"--name {name!r} must be a plain folder name: letters, digits, '.', '_' or '-'.")
    folder = Path(root) / name
    Path(root).mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir()
    except FileExistsError:
        raise SweepFolderError(f"{folder} exists already; give the sweep another --name.") from None
    return folder


def write_sweep(folder: str | os.PathLike, data: dict[str, Any]) -> None:
    write_json_atomic(Path(folder) / SWEEP_FILE, data)


def read_sweep(folder: str | os.PathLike) -> dict[str, Any]:
    """sweep.json of ``folder``, read with a size cap."""
    path = Path(folder) / SWEEP_FILE
    try:
        with open_regular_file(path, "sweep file") as f:
            raw = f.read(MAX_SWEEP_JSON_BYTES + 1)
    except OSError as exc:
        raise SweepFolderError(f"{path} cannot be read ({exc.strerror or exc}); choose a sweep folder.") from None
    if len(raw) > MAX_SWEEP_JSON_BYTES:
        raise SweepFolderError(f"{path} is larger than {MAX_SWEEP_JSON_BYTES // 2**20} MB; it is not a sweep file.")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise SweepFolderError(f"{path} is not valid JSON; the sweep may have been cut off while writing.") from None
    if not isinstance(data, dict) or not isinstance(data.get("trials"), list):
        raise SweepFolderError(f"{path} has no list of trials; it is not a sweep file.")
    return data


def _score(trial: dict[str, Any]) -> float:
    value = trial.get("best_" + METRIC)
    return value if isinstance(value, (int, float)) and math.isfinite(value) else -math.inf


def ranked(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Trials best first: by best validation top-1, then test top-1; unfinished and failed trials last."""
    def key(t: dict[str, Any]) -> tuple[float, float]:
        test = t.get("test_top1")
        return (-_score(t), -(test if isinstance(test, (int, float)) and math.isfinite(test) else -math.inf))
    return sorted(trials, key=key)
