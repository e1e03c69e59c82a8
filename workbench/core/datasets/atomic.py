"""Atomic file writes: write a temp file in the same folder, then os.replace it into place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def _temp_beside(path: Path):
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    return os.fdopen(fd, "wb"), Path(tmp)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never a part."""
    path = Path(path)
    f, tmp = _temp_beside(path)
    try:
        with f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_npy_atomic(path: Path, array: np.ndarray) -> None:
    """np.save ``array`` to ``path`` atomically."""
    path = Path(path)
    f, tmp = _temp_beside(path)
    try:
        with f:
            np.save(f, array, allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def folder_writable(path: Path) -> bool:
    """Whether files may be created in ``path`` (or its nearest existing ancestor).

    Also honours the folder's write bits, because root passes os.access on a read-only share.
    """
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)
    except OSError:
        return False
