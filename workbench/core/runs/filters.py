"""Filtering and sorting rows of the runs table: ``status=finished``, ``test_top1>0.7``, plain text."""

from __future__ import annotations

import operator
import re
from typing import Any, Callable, Iterable

from workbench.core.runs.folder import finite_number
from workbench.core.runs.table import RunRow

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
        return lambda r: finite_number(r.values.get(key)) is not None and compare(r.values[key], number)
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
