"""Run folders: their layout, their name, the per-epoch history.csv, and the one capped reader of their files.

Layout: config.json, history.csv, model.h5 (final), best.h5, checkpoint/ (resume), logs/
(TensorBoard), result.json. history.csv's ``epoch`` column is 0-based like the events. Every reader
of a run folder (training's resume, the runs table, the window, the queue) goes through read_json and
read_history here, so a planted 1 GiB file, a FIFO or a non-UTF-8 byte is refused the same way
everywhere. This sits below training so that training and the runs package above it share it.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import platform
import re
import time
from pathlib import Path
from typing import Any

from workbench.core import atomic_write
from workbench.core.files import check_regular_file
from workbench.core.text import sanitize

HISTORY_COLUMNS = (
    "epoch", "loss", "top1", "top5", "val_loss", "val_top1", "val_top5", "lr", "seconds", "images_per_sec",
    "wall_seconds",  # since this session's training started: plots can use wall time as x
)
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.csv"
RESULT_FILE = "result.json"
CHECKPOINT_DIR = "checkpoint"
LOGS_DIR = "logs"
MAX_JSON_BYTES = 1024 * 1024  # config.json/result.json are a few KiB; a bigger one is not a run's own
MAX_HISTORY_BYTES = 1024 * 1024  # ~8,000 epochs of our ~120-byte rows; beyond that it is not a history we wrote
MAX_HISTORY_EPOCHS = 5000  # rows parsed per run (short rows pack more into the byte cap): ~0.2 s at most
MAX_NAME_PART = 40  # characters of a dataset or network name in a run folder's name


def name_part(name: str) -> str:
    """A dataset id or path, or a network name, as one readable part of a folder name.

    The same input always gives the same part: ASCII letters, digits and ``_ . -`` only (no separator,
    no leading dot), at most MAX_NAME_PART characters. A path gives its last name without an archive
    suffix (``folder:/data/pets/`` -> ``pets``, ``/tmp/cats.tar.gz`` -> ``cats``); a part that had to be
    changed or cut ends with 6 hex digits of the whole input, so two long paths stay apart.
    """
    text = str(name)
    text = re.sub(r"^[A-Za-z][\w+.-]*:(?!//)", "", text) if not re.match(r"^[A-Za-z]:[\\/]", text) else text
    last = next((p for p in reversed(re.split(r"[\\/]+", text)) if p not in ("", ".", "..")), "")
    last = re.sub(r"\.(tar\.gz|tar\.bz2|tar\.xz|tgz|tar|zip)$", "", last, flags=re.IGNORECASE)
    part = re.sub(r"[^A-Za-z0-9_.-]+", "_", last).strip("._-")
    if part == str(name) and 0 < len(part) <= MAX_NAME_PART:
        return part  # a plain name such as cifar10 or simple_cnn stays as it is
    digest = hashlib.sha1(str(name).encode("utf-8", "surrogateescape")).hexdigest()[:6]
    return f"{part[:MAX_NAME_PART - 7]}-{digest}" if part else f"data-{digest}"


def new_run_dir(root: str | os.PathLike, dataset: str, arch: str, now: float | None = None) -> Path:
    """Create and return ``<root>/<YYYYmmdd-HHMMSS>-<dataset>-<arch>`` (suffixed if taken); both names go
    through name_part, so a dataset given as a path makes one folder, not a tree."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    base = Path(root) / f"{stamp}-{name_part(dataset)}-{name_part(arch)}"
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


def _read_text(path: Path, cap: int, what: str, notes: list[str] | None) -> str | None:
    """The file's text, or None: missing quietly; too big, not a regular file or not UTF-8 with a note."""
    try:
        st = check_regular_file(path, what)
        if st.st_size > cap:
            raise ValueError(f"{path} is larger than {cap // 1024} KiB")
        with open(path, "rb") as f:
            data = f.read(cap + 1)
        if len(data) > cap:
            raise ValueError(f"{path} is larger than {cap // 1024} KiB")
        return data.decode("utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        why = f"{path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
    except (OSError, ValueError) as exc:
        why = sanitize(getattr(exc, "strerror", None) or exc, 400)
    if notes is not None:
        notes.append(f"{why}, so it was skipped.")
    return None


def read_json(path: str | os.PathLike, notes: list[str] | None = None) -> Any | None:
    """The parsed file, or None when it is missing, larger than MAX_JSON_BYTES, not a regular file, not
    UTF-8 or not JSON; each reason but a missing file adds one sentence to ``notes``."""
    path = Path(path)
    text = _read_text(path, MAX_JSON_BYTES, path.name, notes)
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        if notes is not None:
            notes.append(f"{path} is not valid JSON (half-written or damaged), so it was skipped.")
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
        # A resumed run rewrites epochs from its checkpoint on, so rows past it go; the rest are kept whole
        # (no size cap here: this is the run's own file, and a cap would empty it).
        try:
            with open(self.path, encoding="utf-8", errors="replace", newline="") as f:
                lines = f.read().splitlines(keepends=True)
        except FileNotFoundError:
            return
        header = lines[0].rstrip("\r\n").split(",") if lines else []
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(HISTORY_COLUMNS)
        for cells in csv.reader(line for line in lines[1:] if line.endswith("\n")):
            row = dict(zip(header, cells))
            epoch = row.get("epoch", "")
            if len(cells) == len(header) and epoch.isdigit() and int(epoch) < limit:
                writer.writerow([row.get(c, "") for c in HISTORY_COLUMNS])
        atomic_write.write_text_atomic(self.path, buf.getvalue(), fsync=True)

    def _write_text(self, text: str, mode: str = "a") -> None:
        with open(self.path, mode, encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # a crash loses at most the epoch in flight

    def append(self, row: dict[str, Any]) -> None:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([_cell(row.get(c)) for c in HISTORY_COLUMNS])
        self._write_text(buf.getvalue())


def read_history(run_dir: str | os.PathLike, notes: list[str] | None = None) -> list[dict[str, float | None]]:
    """One dict per completed epoch (keys from HISTORY_COLUMNS; ``epoch`` is a 0-based int).

    Values are finite floats, None for an empty or unreadable cell. A half-written last line and a
    missing file are skipped quietly; a file over MAX_HISTORY_BYTES or MAX_HISTORY_EPOCHS, or not
    UTF-8, reads as no epochs with one sentence in ``notes``.
    """
    path = Path(run_dir) / HISTORY_FILE
    text = _read_text(path, MAX_HISTORY_BYTES, "history file", notes)
    if not text:
        return []
    lines = text.splitlines()
    if not text.endswith("\n"):
        lines = lines[:-1]  # the last line was being written when the file was read
    if len(lines) > MAX_HISTORY_EPOCHS + 1:
        if notes is not None:
            notes.append(f"{path} has more than {MAX_HISTORY_EPOCHS} epochs, so its curves were skipped.")
        return []
    # Our history holds only numbers, so a plain split is exact; quoted cells (someone else's CSV) use csv.
    reader = csv.reader(lines) if '"' in text else (line.split(",") for line in lines)
    header = next(reader, None)
    if not header or "epoch" not in header:
        return []
    wanted = [(i, key) for i, key in enumerate(header) if key in HISTORY_COLUMNS]
    rows: list[dict[str, float | None]] = []
    for cells in reader:
        if len(cells) != len(header):
            continue
        row: dict[str, float | None] = dict.fromkeys(HISTORY_COLUMNS)
        for i, key in wanted:
            try:
                value = float(cells[i])
            except ValueError:
                continue
            row[key] = value if math.isfinite(value) else None
        if row["epoch"] is None:
            continue
        row["epoch"] = int(row["epoch"])
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
