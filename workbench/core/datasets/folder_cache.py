"""The decoded-image cache of an imported folder: one pixels .npy reopened memory-mapped, and a record.

One cache folder per (imported folder, requested settings) under ``user_cache_dir()/folders``,
never beside the user's images. Images are decoded straight into a memory-mapped temp file there
(disk space claimed up front), which a rename turns into the cache: no second copy, no write pass,
and a rebuild never writes into a file a running program still maps. The record, written last,
holds a digest of the folder's file list (every path with its size and mtime: any file added,
removed or touched means a rebuild), a CRC-32 of every array (is it still what we wrote?) and the
import details. A cache that fails any check is rebuilt with one logged warning; a reader never
crashes on it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import operator
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from workbench.paths import user_cache_dir

from .atomic import folder_writable, save_npy_atomic, write_bytes_atomic
from .cache import array_crc32

CACHE_FORMAT = 2
RECORD_FILE = "import.json"
PIXELS = "pixels"  # every image, training rows then test rows, as one .npy
# Largest record read back: it lists every file with its skip reason, so a 2,000,000-file folder
# stays well below this; anything larger is not a record we wrote.
MAX_RECORD_BYTES = 512 * 2**20

log = logging.getLogger(__name__)


class CorruptCache(Exception):
    """The cache's contents are not what was written; the message says what is wrong."""


def folder_cache_dir(root: Path, requested: dict) -> Path:
    """The cache folder for ``root`` imported with the ``requested`` settings (JSON-able)."""
    root = Path(root).resolve()
    digest = hashlib.sha256(json.dumps([str(root), requested], sort_keys=True).encode(
        "utf-8", "surrogateescape")).hexdigest()[:16]
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", root.name)[:40] or "folder"
    return user_cache_dir() / "folders" / f"{readable}-{digest}"


def listing_key(root: Path, listing, requested: dict) -> str:
    """Digest of the format, the folder, the requested settings and every (path, size, mtime_ns)."""
    h = hashlib.sha256(json.dumps([CACHE_FORMAT, str(Path(root).resolve()), requested], sort_keys=True)
                       .encode("utf-8", "surrogateescape"))
    if listing:
        # One column at a time: zip(*listing) builds the same three tuples at twice the cost.
        names, sizes, mtimes = (list(map(operator.itemgetter(i), listing)) for i in range(3))
        # NUL cannot occur in a file name, so the joined names are unambiguous.
        h.update("\0".join(names).encode("utf-8", "surrogateescape"))
        h.update(np.array(sizes, np.int64).tobytes())
        h.update(np.array(mtimes, np.int64).tobytes())
    return h.hexdigest()


def pixel_store(folder: Path, shape: tuple[int, ...]) -> tuple[np.ndarray, Path | None]:
    """An array of ``shape`` to decode into, and its temp file: a memory-mapped .npy in the cache folder,
    which becomes the cache by a rename (no second copy, no write pass), or plain memory (None) when the
    cache folder is not writable or has no room."""
    if folder_writable(folder):
        tmp = None
        try:
            drop_cache_files(folder)  # a half-written or outdated cache must not hold the room the new one needs
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".pixels.", suffix=".npy.tmp", dir=folder)
            os.close(fd)
            tmp = Path(name)
            store = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
            with open(tmp, "r+b") as fh:
                # Claim the disk space now: a full disk met later, through the mapping, would kill the process.
                os.posix_fallocate(fh.fileno(), 0, os.fstat(fh.fileno()).st_size)
            return store, tmp
        except (OSError, ValueError) as exc:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            log.warning("No room for the image cache in %s (%s); decoding into memory without a cache.",
                        folder, getattr(exc, "strerror", None) or exc)
    return np.empty(shape, np.uint8), None


def save_folder_cache(folder: Path, key: str, arrays: dict[str, np.ndarray], meta: dict,
                      pixels: tuple[np.memmap, Path, int]) -> bool:
    """Make the cache: ``pixels`` = (store from pixel_store, its temp file, rows in use) is renamed into
    place, ``arrays`` written beside it, the record last. False (with a logged warning) on failure;
    the temp file is then the caller's to delete."""
    store, tmp, rows = pixels
    try:
        # Drop the record first: a crash mid-write then leaves a cache that no reader trusts.
        (folder / RECORD_FILE).unlink(missing_ok=True)
        # No msync: the mapping's pages are the file's page cache, which every reader sees; forcing 150 MB
        # to disk would cost 60 ms, and after a crash the checksum below catches pages that never got there.
        described = {PIXELS: {"shape": list(store.shape), "dtype": store.dtype.str, "rows": rows,
                              "crc32": array_crc32(store[:rows])}}
        os.replace(tmp, folder / f"{PIXELS}.npy")
        for name, array in arrays.items():
            save_npy_atomic(folder / f"{name}.npy", array)
            described[name] = {"shape": list(array.shape), "dtype": array.dtype.str, "crc32": array_crc32(array)}
        record = {"format": CACHE_FORMAT, "key": key, "arrays": described, "meta": meta}
        write_bytes_atomic(folder / RECORD_FILE, json.dumps(record).encode("utf-8", "surrogateescape"))
    except (OSError, ValueError) as exc:
        drop_cache_files(folder)  # a part without its record is never read, only in the way (a full disk)
        log.warning("Could not write the image cache in %s (%s); the folder is decoded again next time.",
                    folder, getattr(exc, "strerror", None) or exc)
        return False
    return True


def drop_cache_files(folder: Path) -> None:
    """Delete a cache's record and arrays (a reader that has them mapped keeps its mapping); temp files
    of a write in progress are left to their writer."""
    try:
        (folder / RECORD_FILE).unlink(missing_ok=True)  # first: no reader trusts what follows
        for path in folder.glob("*.npy"):
            path.unlink(missing_ok=True)
    except OSError:
        pass


def open_pixels(folder: Path) -> np.ndarray:
    """The cached pixels, read-only and memory-mapped (all rows, including unused ones at the end)."""
    return np.load(folder / f"{PIXELS}.npy", mmap_mode="r", allow_pickle=False)


def load_folder_cache(folder: Path) -> tuple[str, dict[str, np.ndarray], dict] | None:
    """(key, read-only memory-mapped arrays, meta) when the cache is intact, else None.

    The caller compares the key with the folder's current one (computed meanwhile, in parallel:
    the checksums take as long as the scan). A missing cache is None without comment, a damaged
    one None with a warning.
    """
    path = folder / RECORD_FILE
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_RECORD_BYTES + 1)
        if len(raw) > MAX_RECORD_BYTES:
            raise CorruptCache(f"{path} is larger than any record we write")
        record = json.loads(raw.decode("utf-8", "surrogateescape"))
        if not isinstance(record, dict) or record.get("format") != CACHE_FORMAT:
            return None
        return str(record["key"]), _verified_arrays(folder, record["arrays"]), record["meta"]
    except FileNotFoundError:
        return None
    except CorruptCache as exc:
        reason = str(exc)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        reason = f"{path} is damaged ({type(exc).__name__})"
    log.warning("The image cache is damaged: %s; decoding the folder again.", reason)
    return None


def _verified_arrays(folder: Path, described: dict) -> dict[str, np.ndarray]:
    arrays = {}
    for name, meta in described.items():
        path = folder / f"{name}.npy"
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise CorruptCache(f"{path} cannot be read ({exc})") from None
        if list(array.shape) != meta["shape"] or array.dtype.str != meta["dtype"]:
            raise CorruptCache(f"{path} holds a {array.dtype} array of shape {array.shape}, not what was written")
        if "rows" in meta:  # the pixels: the rows in use come first, skipped files' rows after them
            array = array[:int(meta["rows"])]
        if array_crc32(array) != meta["crc32"]:
            raise CorruptCache(f"{path} does not match its checksum")
        arrays[name] = array
    return arrays
