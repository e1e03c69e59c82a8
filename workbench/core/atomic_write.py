"""Atomic file writes, the one way the workbench replaces a file: write a temp file beside it, then
``os.replace`` it into place, so a reader sees the old or the new file, never a part (a failed or
interrupted write leaves no temp file behind)."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Iterator


@contextmanager
def atomic_file(path: str | os.PathLike, *, fsync: bool = False) -> Iterator[BinaryIO]:
    """A binary file to write; it becomes ``path`` when the block ends without an error.

    ``fsync`` forces the data to disk before the rename (records a crash must not lose).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, fsync: bool = False) -> None:
    """Replace ``path`` with ``data``."""
    with atomic_file(path, fsync=fsync) as f:
        f.write(data)


def write_text_atomic(path: str | os.PathLike, text: str, *, fsync: bool = False) -> None:
    """Replace ``path`` with ``text`` as UTF-8 (line endings kept as given, as CSV writers need)."""
    write_bytes_atomic(path, text.encode("utf-8"), fsync=fsync)


def write_json_atomic(path: str | os.PathLike, data: Any, *, fsync: bool = True, indent: int = 2) -> None:
    """Replace ``path`` with ``data`` as JSON (sorted keys; unknown types as text), forced to disk."""
    write_text_atomic(path, json.dumps(data, indent=indent, sort_keys=True, default=str), fsync=fsync)
