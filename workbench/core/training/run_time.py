"""How long a run has trained over all its parts: history.csv's ``wall_seconds`` restarts at 0 in each part
(a resume, an out-of-memory retry), so the whole run is the sum of each part's last value."""

from __future__ import annotations

from typing import Any, Iterable, Mapping


def resumed_from(stored: Mapping[str, Any] | None) -> tuple[int, ...]:
    """The 0-based epochs each resume started at, from config.json's ``resumed`` list (damage ignored)."""
    entries = stored.get("resumed") if isinstance(stored, Mapping) else None
    if not isinstance(entries, list):
        return ()
    return tuple(e["from_epoch"] for e in entries
                 if isinstance(e, dict) and isinstance(e.get("from_epoch"), int) and not isinstance(e["from_epoch"], bool))


def run_wall_seconds(rows: Iterable[Mapping[str, Any]], starts: Iterable[int] = ()) -> float | None:
    """Seconds of all parts up to the last recorded epoch (None without one).

    A new part begins at an epoch in ``starts`` (see ``resumed_from``) or where ``wall_seconds`` falls; a row
    without ``wall_seconds`` (an older history) adds its epoch's ``seconds``."""
    starts = set(starts)
    total, part, previous, any_row = 0.0, 0.0, None, False
    for row in rows:
        any_row = True
        wall, epoch = row.get("wall_seconds"), row.get("epoch")
        if epoch in starts or (wall is not None and previous is not None and wall < previous):
            total, part = total + part, 0.0
        if wall is not None:
            part, previous = float(wall), float(wall)
        else:
            part += float(row.get("seconds") or 0.0)
            previous = part
    return total + part if any_row else None
