"""The runs table: one flat row per run folder (every setting and every result), the settings that
differ between runs, sort, filter and export.

Reads only JSON and CSV with bounded sizes (no TensorFlow, no HDF5): a file over its cap or
damaged is skipped and the row says so in ``notes``. 1,000 runs load in well under a second
(benchmarks/bench_runs_table.py).
"""

from __future__ import annotations

import csv
import io
import json
import math
import operator
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from workbench.core.files import check_regular_file
from workbench.core.run_meta import read_meta
from workbench.core.sweeps.folder import SWEEP_FILE, SweepFolderError, read_sweep
from workbench.core.text import MAX_SHOWN_CHARS, sanitize
from workbench.core.training.checkpoint import checkpoint_path
from workbench.core.training.rundir import CONFIG_FILE, HISTORY_FILE, RESULT_FILE

MAX_JSON_BYTES = 1024 * 1024  # config.json/result.json are a few KiB; a bigger one is not a run's own
MAX_HISTORY_BYTES = 1024 * 1024  # ~8,000 epochs of our ~120-byte rows; beyond that it is not a history we wrote
MAX_HISTORY_EPOCHS = 5000  # rows parsed per run (short rows pack more into the byte cap): ~0.2 s at most
# history.csv columns the table and the curves use (the rest are never shown here).
HISTORY_KEYS = frozenset({"epoch", "loss", "val_loss", "val_top1", "val_top5", "seconds", "images_per_sec"})
MAX_RUNS = 20000  # folders read from one root; a larger root is listed up to here with a note

# Config keys that say where a run lives, not how it trained: never settings, never in a diff.
NOT_SETTINGS = frozenset({"runs_root", "run_dir", "resume"})

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
DEFAULT_RESULTS = ("status", "best_top1", "test_top1", "test_top5", "params", "epochs_done", "wall_time")
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


def _read_json_capped(path: Path, notes: list[str]) -> Any:
    try:
        st = check_regular_file(path, path.name)
    except FileNotFoundError:
        return None
    except OSError as exc:
        notes.append(f"{sanitize(exc.strerror or exc)}; skipped.")
        return None
    if st.st_size > MAX_JSON_BYTES:
        notes.append(f"{path} is larger than {MAX_JSON_BYTES // 1024} KiB, so it was skipped.")
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.loads(f.read(MAX_JSON_BYTES + 1))
    except (OSError, ValueError):
        notes.append(f"{path} is not valid JSON (half-written or damaged), so it was skipped.")
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _read_history_capped(run_dir: Path, notes: list[str]) -> list[dict[str, float]]:
    path = run_dir / HISTORY_FILE
    try:
        st = check_regular_file(path, "history file")
    except FileNotFoundError:
        return []
    except OSError as exc:
        notes.append(f"{sanitize(exc.strerror or exc)}; skipped.")
        return []
    if st.st_size > MAX_HISTORY_BYTES:
        notes.append(f"{path} is larger than {MAX_HISTORY_BYTES // 1024} KiB, so its curves were skipped.")
        return []
    try:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read(MAX_HISTORY_BYTES + 1)
    except (OSError, UnicodeDecodeError):
        notes.append(f"{path} is not readable text, so its curves were skipped.")
        return []
    lines = text.splitlines()
    if text and not text.endswith("\n"):
        lines = lines[:-1]  # a line being written
    if len(lines) > MAX_HISTORY_EPOCHS + 1:
        notes.append(f"{path} has more than {MAX_HISTORY_EPOCHS} epochs, so its curves were skipped.")
        return []
    # Our history holds only numbers, so a plain split is exact; quoted cells (someone else's CSV) use csv.
    reader = csv.reader(lines) if '"' in text else (line.split(",") for line in lines)
    header = next(reader, None)
    if not header or "epoch" not in header:
        return []
    wanted = [(i, key) for i, key in enumerate(header) if key in HISTORY_KEYS]
    rows = []
    for cells in reader:
        if len(cells) != len(header):
            continue
        row = {}
        for i, key in wanted:
            try:
                value = float(cells[i])
            except ValueError:
                continue
            if math.isfinite(value):
                row[key] = value
        if "epoch" in row:
            rows.append(row)
    return rows


def _settings(config: dict[str, Any]) -> dict[str, Any]:
    """Flat settings: nested dicts (architecture options, a recipe) become ``outer.inner`` keys."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if not isinstance(key, str) or key in NOT_SETTINGS:
            continue
        if isinstance(value, dict):
            for inner, v in value.items():
                out[f"{key}.{_text(inner, 60)}"] = _plain(v)
        else:
            out[_text(key, 60)] = _plain(value)
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
    """One run folder as a row, or None when it has no readable config.json (not a run).

    A sweep's trial carries the sweep's name and its trial id; its folder reads ``SWEEP/trial-001``."""
    run_dir = Path(run_dir)
    notes: list[str] = []
    data = _read_json_capped(run_dir / CONFIG_FILE, notes)
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        return None
    settings = _settings(data["config"])
    result = _read_json_capped(run_dir / RESULT_FILE, notes)
    result = result if isinstance(result, dict) else {}
    history = _read_history_capped(run_dir, notes)
    meta, why = read_meta(run_dir)
    if why:
        notes.append(why)
    best = max((r for r in history if "val_top1" in r), key=lambda r: r["val_top1"], default={})
    last = history[-1] if history else {}
    status = result.get("status") if result.get("status") in ("finished", "stopped", "failed") else "incomplete"
    speeds = [r["images_per_sec"] for r in history if "images_per_sec" in r]
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
        "test_top1": _number(result.get("test_top1")),
        "test_top5": _number(result.get("test_top5")),
        "final_loss": last.get("loss"),
        "final_val_loss": last.get("val_loss"),
        "test_loss": _number(result.get("test_loss")),
        "params": int(data["params"]) if _number(data.get("params")) is not None else None,
        "epochs_done": len(history),
        "wall_time": sum(r.get("seconds", 0.0) for r in history) if history else None,
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
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row.settings))
    return RunTable(rows, tuple(notes), tuple(keys))


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
    diff = [k for k in settings_diff(table.rows) if k not in DEFAULT_LEAD]
    # Tags only once someone tagged; the sweep and trial only when the table holds a sweep's trials.
    labels = [k for k in ("sweep", "trial", "tags") if any(r.values.get(k) for r in table.rows)]
    return list(DEFAULT_LEAD) + labels + diff + list(DEFAULT_RESULTS)


def all_columns(table: RunTable) -> list[str]:
    return (list(LABEL_TITLES) + [k for k in table.setting_keys if k not in LABEL_TITLES]
            + list(RESULT_TITLES))


def _sort_key(value: Any) -> tuple:
    # Numbers before text, so a column with some blanks still sorts by value; None handled by the caller.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, str(value).lower())


def sort_rows(rows: list[RunRow], key: str, descending: bool = False) -> list[RunRow]:
    """Rows ordered by ``key``; blanks always last."""
    present = [r for r in rows if r.values.get(key) not in (None, "")]
    blank = [r for r in rows if r.values.get(key) in (None, "")]
    return sorted(present, key=lambda r: _sort_key(r.values[key]), reverse=descending) + blank


class FilterError(ValueError):
    """A filter expression that cannot be understood; the message is one sentence."""


_FILTER = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(>=|<=|!=|=|>|<|~)\s*(.*?)\s*$")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
}
TEXT_FIELDS = ("name", "folder", "tags", "note", "sweep", "dataset", "arch", "status")  # searched by plain text


def parse_filter(expr: str, known: Iterable[str] | None = None) -> Callable[[RunRow], bool]:
    """``status=finished``, ``arch!=resnet20``, ``test_top1>0.7``, ``note~baseline`` or plain text
    (found in the name, folder, tags, note, dataset, architecture or status, ignoring case)."""
    m = _FILTER.match(expr)
    if m is None:
        needle = expr.strip().lower()
        return lambda r: any(needle in str(r.values.get(k) or "").lower() for k in TEXT_FIELDS)
    key, op, text = m.groups()
    if known is not None and key not in set(known):
        raise FilterError(f"The filter {expr!r} names {key!r}, which is not a column; "
                          "see `runs --json` for the column names.")
    if op == "~":
        needle = text.lower()
        return lambda r: needle in str(r.values.get(key) or "").lower()
    if op in _OPS:
        try:
            number = float(text)
        except ValueError:
            raise FilterError(f"The filter {expr!r} compares with {text!r}, which is not a number; "
                              f"use a number such as {key}{op}0.7.") from None
        compare = _OPS[op]
        return lambda r: _number(r.values.get(key)) is not None and compare(r.values[key], number)
    want = _cell_equal(text)
    if op == "=":
        return lambda r: want(r.values.get(key))
    return lambda r: not want(r.values.get(key))


def _cell_equal(text: str) -> Callable[[Any], bool]:
    low = text.lower()
    try:
        number = float(text)
    except ValueError:
        number = None

    def equal(value: Any) -> bool:
        if isinstance(value, bool):
            return low == str(value).lower()
        if number is not None and isinstance(value, (int, float)):
            return float(value) == number
        if _has_tag(value, low):
            return True
        return str("" if value is None else value).lower() == low

    return equal


def _has_tag(value: Any, low: str) -> bool:
    """``tags=best`` matches a run tagged ``best`` among others (tags are space-separated words)."""
    return isinstance(value, str) and " " in value and low in value.lower().split(" ")


def filter_rows(rows: list[RunRow], exprs: Iterable[str], known: Iterable[str] | None = None) -> list[RunRow]:
    """Rows matching every expression (see parse_filter)."""
    tests = [parse_filter(e, known) for e in exprs if e.strip()]
    return [r for r in rows if all(t(r) for t in tests)]


def cell_text(row: RunRow, key: str) -> str:
    """What a table cell shows: percentages for accuracies, rounded numbers, sanitised text."""
    value = row.values.get(key)
    if value is None:
        return ""
    if key in PERCENT_FIELDS and isinstance(value, float):
        return f"{100 * value:.1f} %"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "params" and isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return sanitize(value)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str):
        value = sanitize(value, 2000)
        if value[:1] in ("=", "+", "-", "@"):  # a spreadsheet would run it as a formula
            value = "'" + value
    return "" if value is None else value


def to_csv(rows: list[RunRow], columns: list[str]) -> str:
    """Raw values (accuracies as fractions) with the column keys as the header."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.values.get(k)) for k in columns])
    return buf.getvalue()


def _md_cell(text: str) -> str:
    return sanitize(text).replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`") or " "


def to_markdown(rows: list[RunRow], columns: list[str]) -> str:
    """A GitHub Markdown table with the column titles and the cells as the window shows them."""
    lines = ["| " + " | ".join(_md_cell(title(k)) for k in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_md_cell(cell_text(row, k)) for k in columns) + " |")
    return "\n".join(lines) + "\n"



def history_for_curves(run_dir: str | os.PathLike) -> list[dict[str, float]]:
    """Per-epoch rows for plotting, read with the same caps as the table."""
    return _read_history_capped(Path(run_dir), [])
