"""The runs table: one flat row per run folder (every setting and every result), the settings that
differ between runs, and the default columns. Filtering and sorting are in runs.filters, the CSV and
Markdown exports in runs.export.

Reads through runs.folder with bounded sizes (no TensorFlow, no HDF5): a file over its cap or
damaged is skipped and the row says so in ``notes``. 1,000 runs load in well under a second
(benchmarks/bench_runs_table.py).
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from workbench.core.runs.folder import finite_number, read_run_folder
from workbench.core.runs.meta import read_meta
from workbench.core.sweeps.folder import SWEEP_FILE, SweepFolderError, read_sweep
from workbench.core.text import MAX_SHOWN_CHARS, printable, sanitize
from workbench.core.training.checkpoint import checkpoint_path
from workbench.core.training.config import TrainConfig
from workbench.core.training.rundir import read_history
from workbench.core.training.run_time import resumed_from, run_wall_seconds

MAX_RUNS = 20000  # folders read from one root; a larger root is listed up to here with a note

# Config keys that say where a run lives, not how it trained: never settings, never in a diff.
NOT_SETTINGS = frozenset({"runs_root", "run_dir", "resume"})
KNOWN_SETTINGS = frozenset(f.name for f in dataclasses.fields(TrainConfig))  # the workbench's own settings
# Settings a run may add beyond the workbench's own (an unknown key, or a nested dict's keys past this many):
# a config.json with 40,000 keys must not widen every table and export to 40,000 columns.
MAX_OTHER_SETTINGS = 50
MAX_OTHER_COLUMNS = 200  # such settings over the whole table; the rest stay in --json, not in columns

# Result columns in the order the table shows them, with their titles.
RESULT_TITLES: dict[str, str] = {
    "status": "Status",
    "best_top1": "Best val top-1",
    "best_top5": "Best val top-5",
    "final_top1": "Final val top-1",
    "final_top5": "Final val top-5",
    "test_top1": "Test top-1",
    "test_top5": "Test top-5",
    "final_loss": "Final loss",
    "final_val_loss": "Final val loss",
    "test_loss": "Test loss",
    "params": "Parameters",
    "epochs_done": "Epochs",
    "wall_time": "Wall time (s)",
    "images_per_sec": "Images/s",
    "device": "Device",
    "started": "Started",
}
LABEL_TITLES: dict[str, str] = {"name": "Name", "tags": "Tags", "note": "Note", "folder": "Folder",
                                "sweep": "Sweep", "trial": "Trial"}
# Shown before the settings diff when no columns are chosen.
DEFAULT_LEAD = ("name", "dataset", "arch")
# Epochs (done of planned) beside the status: a stopped run reads "stopped, 6 / 15".
DEFAULT_RESULTS = ("status", "epochs_done", "best_top1", "test_top1", "test_top5", "params", "wall_time")
PERCENT_FIELDS = frozenset({"best_top1", "best_top5", "final_top1", "final_top5", "test_top1", "test_top5"})


@dataclass(frozen=True)
class RunRow:
    run_dir: str
    values: dict[str, Any]  # field -> str, float, int, bool or None; settings and results together
    settings: tuple[str, ...]  # which keys of ``values`` are settings
    notes: tuple[str, ...] = ()  # files skipped or fields ignored, one sentence each

    def get(self, key: str) -> Any:
        return self.values.get(key)


@dataclass(frozen=True)
class RunTable:
    rows: list[RunRow]
    notes: tuple[str, ...] = ()
    setting_keys: tuple[str, ...] = field(default=())  # union over rows, in a stable order


def title(key: str) -> str:
    return RESULT_TITLES.get(key) or LABEL_TITLES.get(key) or key


def _settings(config: dict[str, Any], where: Path, notes: list[str]) -> dict[str, Any]:
    """Flat settings: nested dicts (architecture options, a recipe) become ``outer.inner`` keys.

    The workbench's own settings always; at most MAX_OTHER_SETTINGS others, with a note saying how many
    were left out."""
    out: dict[str, Any] = {}
    others = dropped = 0
    for key, value in config.items():
        if not isinstance(key, str) or key in NOT_SETTINGS:
            continue
        known = key in KNOWN_SETTINGS
        if isinstance(value, dict):
            items = ((f"{key}.{_text(inner, 60)}", v) for inner, v in value.items())
        else:
            items = iter(((_text(key, 60), value),))
        for n, (name, v) in enumerate(items):
            if not known or n >= MAX_OTHER_SETTINGS:
                if others >= MAX_OTHER_SETTINGS:
                    dropped += 1
                    continue
                others += 1
            out[name] = _plain(v)
    if dropped:
        notes.append(f"{where} holds {others + dropped} settings the workbench does not know; the first "
                     f"{MAX_OTHER_SETTINGS} are shown and {dropped} were left out.")
    return out


def _text(value: Any, max_chars: int = MAX_SHOWN_CHARS) -> str:
    """sanitize(), skipped for the common short printable ASCII text (1,000 runs x 20 settings add up)."""
    if isinstance(value, str) and len(value) <= max_chars and value.isascii() and value.isprintable():
        return value
    return sanitize(value, max_chars)


def _plain(value: Any) -> Any:
    """A cell value: numbers, booleans and None as they are; anything else as sanitised text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value if not isinstance(value, float) or math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return _text(",".join(str(v) for v in value))
    return _text(value)


def read_row(run_dir: str | os.PathLike, sweep: str | None = None, trial: str | None = None) -> RunRow | None:
    """One run folder as a row, or None when it has no config.json (not a run). A config.json that
    cannot be read gives a row without settings whose notes say why.

    A sweep's trial carries the sweep's name and its trial id; its folder reads ``SWEEP/trial-001``."""
    run = read_run_folder(run_dir)
    if run is None:
        return None
    run_dir, data, result, history = run.path, run.stored, run.result, run.history
    notes = list(run.notes)
    settings = _settings(run.config or {}, run_dir / "config.json", notes)
    meta, why = read_meta(run_dir)
    if why:
        notes.append(why)
    best = max((r for r in history if r.get("val_top1") is not None), key=lambda r: r["val_top1"], default={})
    last = history[-1] if history else {}
    status = run.status
    speeds = [r["images_per_sec"] for r in history if r.get("images_per_sec") is not None]
    folder = _text(run_dir.name) if sweep is None else f"{sweep}/{_text(run_dir.name)}"
    values: dict[str, Any] = {
        "name": meta.name or folder,
        "folder": folder,
        "tags": " ".join(meta.tags),
        "note": meta.note,
        **settings,
        "status": status,
        "best_top1": best.get("val_top1"),
        "best_top5": best.get("val_top5"),
        "final_top1": last.get("val_top1"),
        "final_top5": last.get("val_top5"),
        "test_top1": finite_number(result.get("test_top1")),
        "test_top5": finite_number(result.get("test_top5")),
        "final_loss": last.get("loss"),
        "final_val_loss": last.get("val_loss"),
        "test_loss": finite_number(result.get("test_loss")),
        "params": int(data["params"]) if finite_number(data.get("params")) is not None else None,
        "epochs_done": len(history),  # shown with the plan or the budget (runs.export.cell_text)
        "wall_time": finite_number(result.get("wall_seconds")) or run_wall_seconds(history, resumed_from(data)),
        "images_per_sec": sum(speeds) / len(speeds) if speeds else None,
        "device": _text(result.get("device") or data.get("device") or ""),
        "started": _text(data.get("started", "")),
        "resumable": status != "finished" and checkpoint_path(run_dir).exists(),
        "message": _text(result.get("message", "")),
    }
    if sweep is not None:
        values["sweep"], values["trial"] = sweep, trial
    return RunRow(str(run_dir), values, tuple(settings), tuple(notes))


def _plain_name(value: Any) -> bool:
    """A trial's run_dir from sweep.json must name a folder inside the sweep, nothing above or beside it."""
    return (isinstance(value, str) and 0 < len(value) <= 100 and not value.startswith(".")
            and "/" not in value and "\\" not in value and "\0" not in value)


def read_sweep_rows(folder: str | os.PathLike, notes: list[str], limit: int = MAX_RUNS) -> list[RunRow] | None:
    """The trial rows of a sweep folder (one holding sweep.json), or None when ``folder`` is no sweep.

    A damaged or oversized sweep.json, or a trial entry naming a folder outside the sweep, is skipped
    with a note; trials never started (no config.json yet) have no row."""
    folder = Path(folder)
    if not os.path.lexists(folder / SWEEP_FILE):
        return None
    try:
        data = read_sweep(folder)  # capped at MAX_SWEEP_JSON_BYTES, no FIFOs
    except SweepFolderError as exc:
        notes.append(f"{sanitize(exc, 400)} Its trials were skipped.")
        return []
    name = _text(folder.name, 100)
    rows: list[RunRow] = []
    for trial in data["trials"][:limit]:
        run_dir = trial.get("run_dir") if isinstance(trial, dict) else None
        if not _plain_name(run_dir):
            notes.append(f"{folder / SWEEP_FILE} lists a trial without a plain folder name; it was skipped.")
            continue
        row = read_row(folder / run_dir, sweep=name, trial=_text(trial.get("id") or run_dir, 60))
        if row is not None:
            rows.append(row)
    if len(data["trials"]) > limit:
        notes.append(f"{folder / SWEEP_FILE} lists {len(data['trials'])} trials; only the first {limit} were read.")
    return rows


def load_table(root: str | os.PathLike) -> RunTable:
    """Every run folder directly under ``root``, and every trial of each sweep folder there (hidden
    folders such as the trash skipped), newest first."""
    try:
        entries = sorted((e for e in os.scandir(root) if not e.name.startswith(".") and e.is_dir()),
                         key=lambda e: e.name)
    except OSError:
        return RunTable([], (f"The runs folder {root} could not be read.",) if os.path.exists(root) else ())
    notes: list[str] = []
    if len(entries) > MAX_RUNS:
        notes.append(f"{root} holds {len(entries)} folders; only the first {MAX_RUNS} were read.")
        entries = entries[:MAX_RUNS]
    rows = []
    for entry in entries:
        if len(rows) >= MAX_RUNS:  # sweeps' trials count too
            notes.append(f"{root} holds more than {MAX_RUNS} runs; only the first {MAX_RUNS} were read.")
            break
        try:
            row = read_row(entry.path)
            # Only a folder that is no run is looked at as a sweep: plain runs cost no extra file check.
            trials = read_sweep_rows(entry.path, notes, MAX_RUNS - len(rows)) if row is None else None
        except Exception as exc:  # one damaged folder must not hide the others
            notes.append(f"{entry.path} could not be read ({type(exc).__name__}); skipped.")
            continue
        if row is not None:
            rows.append(row)
        elif trials:
            rows.extend(trials)
    rows.sort(key=lambda r: (str(r.get("started")), r.get("folder")), reverse=True)
    keys = _setting_keys(rows, notes)
    return RunTable(rows, tuple(printable(n) for n in notes), keys)


def _setting_keys(rows: list[RunRow], notes: list[str]) -> tuple[str, ...]:
    """The union of the rows' settings, the workbench's own first seen, others capped at MAX_OTHER_COLUMNS."""
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row.settings))
    others = [k for k in keys if k.split(".", 1)[0] not in KNOWN_SETTINGS]
    if len(others) <= MAX_OTHER_COLUMNS:
        return tuple(keys)
    notes.append(f"The runs hold {len(others)} settings the workbench does not know; the first "
                 f"{MAX_OTHER_COLUMNS} are columns, the rest are only in --json.")
    left_out = set(others[MAX_OTHER_COLUMNS:])
    return tuple(k for k in keys if k not in left_out)


_MISSING = object()


def settings_diff(rows: Iterable[RunRow]) -> list[str]:
    """The settings whose values are not the same in every one of ``rows`` (missing counts as a value)."""
    rows = list(rows)
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row.settings))
    if len(rows) < 2:
        return []
    # Cells are plain hashable values; the type keeps 1, 1.0 and True apart.
    return [k for k in keys if len({(type(v), v) for v in (r.values.get(k, _MISSING) for r in rows)}) > 1]


def default_columns(table: RunTable) -> list[str]:
    """Name, dataset, architecture, the settings that differ, then the main results."""
    columns = set(table.setting_keys)
    diff = [k for k in settings_diff(table.rows) if k not in DEFAULT_LEAD and k in columns]
    # Tags only once someone tagged; the sweep and trial only when the table holds a sweep's trials.
    labels = [k for k in ("sweep", "trial", "tags") if any(r.values.get(k) for r in table.rows)]
    return list(DEFAULT_LEAD) + labels + diff + list(DEFAULT_RESULTS)


def all_columns(table: RunTable) -> list[str]:
    return (list(LABEL_TITLES) + [k for k in table.setting_keys if k not in LABEL_TITLES]
            + list(RESULT_TITLES))


def history_for_curves(run_dir: str | os.PathLike) -> list[dict[str, float | None]]:
    """Per-epoch rows for plotting, read with the same caps as the table."""
    return read_history(run_dir)
