"""Where the shared real-data folder is, for the benchmarks that measure on real files.

``--shared DIR`` wins, then the WORKBENCH_SHARED_DATA environment variable, then ``shared/data``
beside the repository (``../shared/data`` seen from its root). None when there is none: each
benchmark then falls back to generated data or says it skipped.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

SHARED_DATA_ENV = "WORKBENCH_SHARED_DATA"
BESIDE_REPOSITORY = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data_dir(explicit: str | Path | None = None) -> Path | None:
    """The folder asked for (even if missing, so the caller can name it), else the one beside the repository."""
    named = explicit or os.environ.get(SHARED_DATA_ENV)
    if named:
        return Path(named)
    return BESIDE_REPOSITORY if BESIDE_REPOSITORY.is_dir() else None


def add_shared_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shared", "--data", dest="shared", metavar="DIR",
        help=f"the shared real-data folder (default: ${SHARED_DATA_ENV}, else ../shared/data beside the repository)",
    )
