"""Run directories: naming, atomic JSON files and the per-epoch history.csv.

Layout: config.json, history.csv, model.h5 (final), best.h5, checkpoint/ (resume), logs/
(TensorBoard), result.json. history.csv's ``epoch`` column is 0-based like the events.
"""

from __future__ import annotations

from workbench.core import atomic_write

import contextlib
import csv
import io
import json
import math
import os
import platform
import secrets
import time
from pathlib import Path
from typing import Any

HISTORY_COLUMNS = (
    "epoch", "loss", "top1", "top5", "val_loss", "val_top1", "val_top5", "lr", "seconds", "images_per_sec",
    "wall_seconds",  # since this session's training started: plots can use wall time as x
)
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.csv"
RESULT_FILE = "result.json"
CHECKPOINT_DIR = "checkpoint"
LOGS_DIR = "logs"


def new_run_dir(root: str | os.PathLike, dataset: str, arch: str, now: float | None = None) -> Path:
    """Create and return ``<root>/<YYYYmmdd-HHMMSS>-<dataset>-<arch>`` (suffixed if taken)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    base = Path(root) / f"{stamp}-{dataset}-{arch}"
    Path(root).mkdir(parents=True, exist_ok=True)
    for n in range(1000):
        candidate = base if n == 0 else base.with_name(f"{base.name}-{n + 1}")
        try:
            candidate.mkdir()  # atomic claim: two runs started in the same second get different folders
            return candidate
        except FileExistsError:
            continue
    raise OSError(f"Could not create a new run folder under {root}.")


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    """Write JSON beside ``path``, fsync it, then os.replace it over ``path``."""
    atomic_write.write_json_atomic(path, data)


def read_json(path: str | os.PathLike) -> Any | None:
    """The parsed file, or None when it is missing or not valid JSON."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return str(value)


class HistoryWriter:
    """Appends one row per finished epoch to history.csv and forces it to disk."""

    def __init__(self, path: str | os.PathLike, keep_epochs_below: int | None = None) -> None:
        self.path = Path(path)
        if keep_epochs_below is not None:
            self._truncate(keep_epochs_below)
        if not self.path.exists() or self.path.stat().st_size == 0:
            self._write_text(",".join(HISTORY_COLUMNS) + "\n", mode="w")

    def _truncate(self, limit: int) -> None:
        # A resumed run rewrites epochs from its checkpoint on, so rows past it must go.
        rows = [r for r in read_history(self.path.parent) if r["epoch"] < limit]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(HISTORY_COLUMNS)
        for r in rows:
            writer.writerow([_cell(int(r["epoch"]))] + [_cell(r.get(c)) for c in HISTORY_COLUMNS[1:]])
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(buf.getvalue())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            raise

    def _write_text(self, text: str, mode: str = "a") -> None:
        with open(self.path, mode, encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # a crash loses at most the epoch in flight

    def append(self, row: dict[str, Any]) -> None:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([_cell(row.get(c)) for c in HISTORY_COLUMNS])
        self._write_text(buf.getvalue())


def _float(text: str | None) -> float | None:
    if text is None or text.strip() == "":
        return None
    try:
        return float(text)
    except ValueError:
        return None


def read_history(run_dir: str | os.PathLike) -> list[dict[str, float | None]]:
    """One dict per completed epoch (keys from HISTORY_COLUMNS; ``epoch`` is 0-based).

    Values are floats, None for an empty cell; a half-written last line and a missing file
    are skipped quietly.
    """
    path = Path(run_dir) / HISTORY_FILE
    try:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return []
    lines = text.splitlines()
    if text and not text.endswith("\n"):
        lines = lines[:-1]  # the last line was being written when the file was read
    rows: list[dict[str, float | None]] = []
    reader = csv.reader(lines)
    header = next(reader, None)
    if not header or "epoch" not in header:
        return []
    for cells in reader:
        if len(cells) != len(header):
            continue
        row = {key: _float(cell) for key, cell in zip(header, cells)}
        if row.get("epoch") is None:
            continue
        row["epoch"] = int(row["epoch"])
        for key in HISTORY_COLUMNS:
            row.setdefault(key, None)
        rows.append(row)
    return rows


def clean_stray_temp_files(run_dir: str | os.PathLike) -> None:
    """Remove the hidden temp files (``.name.<hex>.tmp…``) a killed run left in its folder."""
    for folder in (Path(run_dir), Path(run_dir) / CHECKPOINT_DIR):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") and ".tmp" in entry.name and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.remove(entry.path)


def environment_versions() -> dict[str, str]:
    """Versions of everything that decides how a run behaves (imports TensorFlow)."""
    import keras
    import numpy
    import tensorflow as tf

    import workbench

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "workbench": workbench.__version__,
        "platform": platform.platform(),
    }
