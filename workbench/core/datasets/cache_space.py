"""How much disk the dataset caches take, and removing the ones nothing uses any more.

Caches live in ``user_cache_dir()``: ``archives/`` (unpacked user archives), ``folders/`` (decoded
image folders) and ``datasets/`` (the official sets' arrays). A cache is pruned when what it was
made from is gone or has changed (the next load would not use it), when it is a part left by a
failed or older write, and older versions' ``workbench-cache/`` folders beside the data are pruned
when they hold nothing but cache files. The user's own files are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from workbench.paths import keras_datasets_dir, user_cache_dir

from .cache import CACHE_FORMAT as ARRAYS_FORMAT
from .cache import RECORD_FILE as ARRAYS_RECORD
from .folder_cache import CACHE_FORMAT as FOLDER_FORMAT
from .folder_cache import RECORD_FILE as FOLDER_RECORD
from .folder_cache import listing_key
from .folder_scan import scan_folder
from .user_archive import _copy_name, archive_record
from .user_datasets import user_datasets

# A temp folder or file this old is a write that died with its process, not one in progress.
STALE_TEMP_SECONDS = 24 * 3600
# Folders of older versions, beside the data they cached.
OLD_CACHE_FOLDER = "workbench-cache"
# The only files an old cache folder held; a folder with anything else is not pruned.
_OLD_CACHE_FILES = (".npy", ".json", ".tmp")
# Largest cache record read (a folder import's lists every skipped file).
_MAX_RECORD_BYTES = 512 * 2**20


@dataclass(frozen=True)
class PrunedCache:
    path: Path
    bytes: int  # disk space it takes (what removing it frees)
    why: str  # one phrase: "its archive is gone", …


def disk_bytes(path: Path) -> int:
    """Disk space taken by ``path`` and everything under it (links not followed)."""
    try:
        st = path.lstat()
    except OSError:
        return 0
    total = st.st_blocks * 512
    if path.is_dir() and not path.is_symlink():
        for parent, dirs, files in os.walk(path):
            for name in dirs + files:
                try:
                    total += os.lstat(os.path.join(parent, name)).st_blocks * 512
                except OSError:
                    pass
    return total


def cache_usage() -> int:
    """Bytes on disk under the user cache folder (0 when there is none)."""
    return disk_bytes(user_cache_dir())


def prune_caches(data_dirs: tuple[Path, ...] = (), *, dry_run: bool = False) -> list[PrunedCache]:
    """Remove (or with ``dry_run`` only list) the caches nothing uses any more; ``data_dirs`` are also
    searched for old ``workbench-cache/`` folders beside the data (the Keras cache always is)."""
    archives = _stale_archives()
    gone = tuple(item.path for item in archives)
    found = archives + _stale_folders(gone) + _stale_arrays() + _old_cache_folders(data_dirs)
    pruned = []
    for item in found:
        size = disk_bytes(item.path)
        if not dry_run:
            if item.path.is_dir() and not item.path.is_symlink():
                shutil.rmtree(item.path, ignore_errors=True)
            else:
                item.path.unlink(missing_ok=True)
            size -= disk_bytes(item.path)  # what is left could not be removed
        pruned.append(PrunedCache(item.path, size, item.why))
    return pruned


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def _old_temp(path: Path) -> bool:
    try:
        return time.time() - path.lstat().st_mtime > STALE_TEMP_SECONDS
    except OSError:
        return False


def _read_json(path: Path):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read(_MAX_RECORD_BYTES).decode("utf-8", "surrogateescape"))
    except (OSError, ValueError, RecursionError):
        return None


def _stale_archives() -> list[PrunedCache]:
    folder = user_cache_dir() / "archives"
    in_use = [Path(d.folder) for d in user_datasets().values() if d.is_archive]
    out = []
    for path in _entries(folder):
        if path.name.startswith("."):
            if _old_temp(path):
                out.append(PrunedCache(path, 0, "an unpacking that did not finish"))
            continue
        if path.suffix == ".json":
            if not path.with_suffix("").is_dir():
                out.append(PrunedCache(path, 0, "the record of a copy that is gone"))
            continue
        used = any(path == p or path in p.parents for p in in_use)
        why = _archive_copy_stale(path, used)
        if why:
            out.append(PrunedCache(path, 0, why))
            if path.with_name(path.name + ".json").exists():
                out.append(PrunedCache(path.with_name(path.name + ".json"), 0, why))
    return out


def _archive_copy_stale(copy: Path, used: bool) -> str | None:
    record = _read_json(copy.with_name(copy.name + ".json"))
    if not isinstance(record, dict) or not isinstance(record.get("archive"), str):
        return None if used else "a copy of an archive no dataset remembers"
    archive = Path(record["archive"])
    if not archive.is_file():
        return None if used else "its archive is gone"
    try:
        current = _copy_name(archive, archive_record(archive))
    except (OSError, ValueError):
        return None  # unreadable now: keep it, it may be the only copy
    return None if current == copy.name else "its archive has changed since"


def _stale_folders(pruned_copies: tuple[Path, ...]) -> list[PrunedCache]:
    out = []
    for path in _entries(user_cache_dir() / "folders"):
        if not path.is_dir():
            continue
        temps = [p for p in _entries(path) if p.name.startswith(".")]
        if temps and not all(_old_temp(p) for p in temps):
            continue  # an import is writing it now
        why = _folder_cache_stale(path, pruned_copies)
        if why:
            out.append(PrunedCache(path, 0, why))
    return out


def _folder_cache_stale(path: Path, pruned_copies: tuple[Path, ...]) -> str | None:
    record = _read_json(path / FOLDER_RECORD)
    if not isinstance(record, dict):
        return "a part left by an import that did not finish"
    meta = record.get("meta")
    if record.get("format") != FOLDER_FORMAT or not isinstance(meta, dict) or "root" not in meta:
        return "made by an older version"
    root = Path(str(meta["root"]))
    if any(root == p or p in root.parents for p in pruned_copies):
        return "its unpacked archive is pruned too"
    if not root.is_dir():
        return "its image folder is gone"
    try:
        scan = scan_folder(root)
        current = listing_key(scan.root, scan.listing, meta.get("requested"))
    except Exception:  # noqa: BLE001 - a folder that cannot be scanned now is no reason to delete its cache
        return None
    return None if current == record.get("key") else "its image folder has changed since"


def _stale_arrays() -> list[PrunedCache]:
    out = []
    for path in _entries(user_cache_dir() / "datasets"):
        if not path.is_dir():
            continue
        record = _read_json(path / ARRAYS_RECORD)
        key = record.get("key") if isinstance(record, dict) else None
        if not isinstance(key, dict) or not isinstance(key.get("files"), list):
            out.append(PrunedCache(path, 0, "a part left by a write that did not finish"))
        elif key.get("format") != ARRAYS_FORMAT:
            out.append(PrunedCache(path, 0, "made by an older version"))
        elif not _files_unchanged(Path(str(key.get("folder"))), key["files"]):
            out.append(PrunedCache(path, 0, "its dataset files are gone or have changed"))
    return out


def _files_unchanged(folder: Path, files: list) -> bool:
    try:
        for name, size, mtime_ns in files:
            st = (folder / str(name)).stat()
            if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
                return False
    except (OSError, TypeError, ValueError):
        return False
    return True


def _old_cache_folders(data_dirs: tuple[Path, ...]) -> list[PrunedCache]:
    roots = [Path(d).expanduser() for d in data_dirs] + [keras_datasets_dir()]
    places = {p / OLD_CACHE_FOLDER for r in roots for p in (r, r.parent)}
    return [PrunedCache(p, 0, "a cache folder of an older version, beside the data")
            for p in sorted(places) if p.is_dir() and not p.is_symlink() and _only_cache_files(p)]


def _only_cache_files(folder: Path) -> bool:
    for parent, dirs, files in os.walk(folder):
        if any(os.path.islink(os.path.join(parent, d)) for d in dirs):
            return False
        if not all(f.endswith(_OLD_CACHE_FILES) for f in files):
            return False
    return True
