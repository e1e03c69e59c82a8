"""One remembered setting checked without Qt: its raw value (as an ini file gives it back) converted to
the type of its default and checked against a range or a list of choices. SettingsReader (settings.py)
and the Qt-free form models use it, so a setting is accepted or refused the same way everywhere."""

from __future__ import annotations

import math
from typing import Any, Collection

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _convert(raw: Any, default: Any) -> Any:
    """``raw`` as the type of ``default``; raises ValueError/TypeError/OverflowError when it is not one."""
    if isinstance(default, bool):
        text = str(raw).strip().lower()
        if text not in _TRUE + _FALSE:
            raise ValueError(raw)
        return text in _TRUE
    if isinstance(default, int):
        number = float(raw)
        if not math.isfinite(number) or number != int(number):
            raise ValueError(raw)
        return int(number)
    if isinstance(default, float):
        number = float(raw)
        if not math.isfinite(number):
            raise ValueError(raw)
        return number
    if isinstance(default, str):
        if not isinstance(raw, str):
            raise TypeError(raw)
        return raw
    return raw


def checked_value(raw: Any, default: Any, *, lo: float | None = None, hi: float | None = None,
                  choices: Collection[Any] | None = None) -> Any:
    """``raw`` converted to the type of ``default`` and checked against ``lo``..``hi`` and ``choices``;
    raises ValueError (with ``raw``) when it is of the wrong type, out of range or not a choice."""
    try:
        value = _convert(raw, default)
        if lo is not None and value < lo or hi is not None and value > hi:
            raise ValueError(raw)
        if choices is not None and value not in choices:
            raise ValueError(raw)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(raw) from exc
    return value


# The plots' x axis, the user's choice remembered in gui.ini (a time budget never switches it).
PLOT_X_AXIS_KEY = "plots/x_axis"
PLOT_X_AXES = ("epoch", "wall")

