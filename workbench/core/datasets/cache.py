"""The fast-reload cache: parsed arrays as .npy files, reopened with np.load(mmap_mode="r").

The cache lives beside the data (``<parent>/workbench-cache/<folder>/``) or, when that folder is
read-only, under ``workbench_home()/cache``. A key of format version plus the source files' sizes
and mtimes decides whether it is still valid; a stale or half-written cache is simply rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from workbench.paths import workbench_home

from .atomic import folder_writable, save_npy_atomic, write_bytes_atomic

CACHE_FORMAT = 1
_KEY_FILE = "key.json"


def cache_dirs(source_folder: Path) -> list[Path]:
    """Cache folders for ``source_folder``, preferred first: beside the data, then workbench home."""
    source_folder = Path(source_folder).resolve()
    digest = hashlib.sha1(str(source_folder).encode()).hexdigest()[:12]
    return [
        source_folder.parent / "workbench-cache" / source_folder.name,
        workbench_home() / "cache" / f"{source_folder.name}-{digest}",
    ]


def source_key(source_folder: Path, file_names: tuple[str, ...]) -> dict:
    """What the cache must match: format version, folder, and each source file's size and mtime."""
    source_folder = Path(source_folder).resolve()
    files = []
    for name in file_names:
        st = (source_folder / name).stat()
        files.append([name, st.st_size, st.st_mtime_ns])
    return {"format": CACHE_FORMAT, "folder": str(source_folder), "files": files}


def _lengths_agree(arrays: dict[str, np.ndarray]) -> bool:
    """Every array of a split (x_train, y_train, y_train_fine, ...) has the same length."""
    for split in ("_train", "_test"):
        if len({len(a) for name, a in arrays.items() if split in name}) > 1:
            return False
    return True


def load_cache(source_folder: Path, file_names: tuple[str, ...]):
    """(arrays as read-only memmaps, names) from a valid cache, or None when there is none."""
    try:
        key = source_key(source_folder, file_names)
    except OSError:
        return None
    for folder in cache_dirs(source_folder):
        try:
            stored = json.loads((folder / _KEY_FILE).read_text())
            if stored.get("key") != key:
                continue
            arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
                      for name in stored["arrays"]}
            names = {k: tuple(v) for k, v in stored["names"].items()}
            if not _lengths_agree(arrays):
                continue  # images and labels disagree: not a cache we wrote
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # missing, half-written or foreign: treat as no cache
        return arrays, names
    return None


def save_cache(source_folder: Path, file_names: tuple[str, ...], arrays: dict[str, np.ndarray],
               names: dict[str, tuple[str, ...]]) -> Path | None:
    """Write the cache (first writable location); returns its folder, or None if none is writable."""
    key = source_key(source_folder, file_names)
    for folder in cache_dirs(source_folder):
        if not folder_writable(folder):
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # Drop the key first: a crash mid-write then leaves a cache that no reader trusts.
            (folder / _KEY_FILE).unlink(missing_ok=True)
            for name, array in arrays.items():
                save_npy_atomic(folder / f"{name}.npy", array)
            record = {"key": key, "arrays": sorted(arrays), "names": {k: list(v) for k, v in names.items()}}
            write_bytes_atomic(folder / _KEY_FILE, json.dumps(record, indent=1).encode())
        except OSError:
            continue
        return folder
    return None
