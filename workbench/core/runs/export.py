"""The runs table as text: a cell as the window shows it, and the CSV and Markdown exports."""

from __future__ import annotations

import csv
import io
from typing import Any

from workbench.core.runs.epoch_words import budget_minutes, done_text, length_text
from workbench.core.runs.table import PERCENT_FIELDS, RunRow, title
from workbench.core.text import sanitize


def cell_text(row: RunRow, key: str) -> str:
    """What a table cell shows: percentages for accuracies, rounded numbers, sanitised text."""
    value = row.values.get(key)
    if value is None:
        return ""
    if key in ("epochs", "epochs_done") and isinstance(value, int) and not isinstance(value, bool):
        minutes = budget_minutes(row.values)  # under a time budget the epochs are a cap, never a plan
        if key == "epochs":
            return length_text(value, minutes) if minutes is not None else str(value)
        return done_text(value, row.values.get("epochs"), minutes)
    if key in PERCENT_FIELDS and isinstance(value, float):
        return f"{100 * value:.1f} %"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "params" and isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return sanitize(value)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell starting so as a formula


def _csv_cell(value: Any) -> Any:
    """A CSV cell: text sanitised, and quoted with ' when it (or its first non-blank) starts a formula."""
    if isinstance(value, str):
        text = sanitize(value, 2000)
        if value[:1] in FORMULA_STARTS or text.lstrip()[:1] in FORMULA_STARTS:
            text = "'" + text
        return text
    return "" if value is None else value


def to_csv(rows: list[RunRow], columns: list[str]) -> str:
    """Raw values (accuracies as fractions) with the column keys as the header; header and cells alike
    are neutralised where a spreadsheet would take them for a formula (a config key can be anything)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([_csv_cell(k) for k in columns])
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
