"""Atomic writes of the dataset caches (numpy arrays), on top of workbench.core.atomic_write."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from workbench.core.atomic_write import atomic_file, write_bytes_atomic

__all__ = ["write_bytes_atomic", "save_npy_atomic", "folder_writable"]


def save_npy_atomic(path: Path, array: np.ndarray) -> None:
    """np.save ``array`` to ``path`` atomically."""
    with atomic_file(path) as f:
        np.save(f, array, allow_pickle=False)


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
