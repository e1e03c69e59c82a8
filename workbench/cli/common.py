"""What every command shares: the one-sentence error, exit codes and strict JSON output."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

EXIT_USAGE = 2
EXIT_FAILED = 1


class CliError(Exception):
    """A problem the user can fix; printed as one sentence."""


def json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def emit_json(payload: Any) -> None:
    print(json.dumps(payload, default=json_default), flush=True)
