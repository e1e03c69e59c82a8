"""What every command shares: the one-sentence error, exit codes and strict JSON output."""

from __future__ import annotations

import json
import math
import os
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


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, so the output is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:  # numpy scalars
        return strict_json(value.item())
    if hasattr(value, "tolist"):  # numpy arrays
        return strict_json(value.tolist())
    return value


def emit_json(payload: Any) -> None:
    """One line of strict JSON on stdout: NaN and infinities become null (``allow_nan=False`` proves it)."""
    print(json.dumps(strict_json(payload), default=json_default, allow_nan=False), flush=True)


def check_out_folder(out: str, what: str) -> Path:
    """--out: a folder that exists or can be made (made only when the first file is written); else a sentence.
    `what` names what goes in it ("the overlays and maps")."""
    from workbench.core.text import sanitize

    path = Path(out)
    if path.exists() and not path.is_dir():
        raise CliError(f"--out {sanitize(out)} is a file; give a folder for {what}.")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise CliError(f"--out {sanitize(out)} cannot be written ({sanitize(str(parent))} is not a folder you may "
                       "write in); give another folder.")
    return path
