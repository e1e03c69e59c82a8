"""The fast-reload cache: parsed arrays as .npy files, reopened with np.load(mmap_mode="r").

Caches live in the user cache folder (``workbench.paths.user_cache_dir()/datasets``), one folder per
source folder (named by a digest of its resolved path), never beside the user's data. A record
written last holds the source files' sizes and mtimes (is the cache still current?) and a CRC-32 of
every array (is it still what we wrote?). A stale cache is rebuilt quietly; a cache whose contents
fail the check is rebuilt with one logged warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from pathlib import Path

import numpy as np

from workbench.paths import user_cache_dir

from .atomic import folder_writable, save_npy_atomic, write_bytes_atomic
from .cifar_files import check_label_range, clean_class_names
from .errors import DatasetError

CACHE_FORMAT = 2
RECORD_FILE = "cache.json"

log = logging.getLogger(__name__)


def cache_dir(source_folder: Path, tag: str = "") -> Path:
    """The cache folder for ``source_folder``: distinct for every resolved source path and ``tag``.

    ``tag`` tells apart datasets whose files may share one folder (mnist.npz beside Fashion-MNIST's files).
    """
    source_folder = Path(source_folder).resolve()
    key = f"{source_folder}\0{tag}" if tag else str(source_folder)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    name = f"{source_folder.name}-{tag}" if tag else source_folder.name
    return user_cache_dir() / "datasets" / f"{name}-{digest}"


def source_key(source_folder: Path, file_names: tuple[str, ...]) -> dict:
    """What the cache must match: format version, folder, and each source file's size and mtime."""
    source_folder = Path(source_folder).resolve()
    files = []
    for name in file_names:
        st = (source_folder / name).stat()
        files.append([name, st.st_size, st.st_mtime_ns])
    return {"format": CACHE_FORMAT, "folder": str(source_folder), "files": files}


def array_crc32(array: np.ndarray) -> int:
    """CRC-32 of the array's bytes: about 45 ms for all of CIFAR-10 (4 GB/s), read from the page cache."""
    return zlib.crc32(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


class _Corrupt(Exception):
    """The cache matches the source but its contents are not what we wrote."""


def _verified(folder: Path, record: dict, label_limits: dict[str, int], name_counts: dict[str, int],
              check_sums: bool):
    arrays = {}
    for name, meta in record["arrays"].items():
        path = folder / f"{name}.npy"
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise _Corrupt(f"{path} cannot be read ({exc})") from None
        if list(array.shape) != meta["shape"] or array.dtype.str != meta["dtype"]:
            raise _Corrupt(f"{path} holds a {array.dtype} array of shape {array.shape}, not what was written")
        if check_sums and array_crc32(array) != meta["crc32"]:
            raise _Corrupt(f"{path} does not match its checksum")
        arrays[name] = array
    for name, num_classes in label_limits.items():
        try:
            check_label_range(arrays[name], num_classes, f"the labels in {folder / name}.npy")
        except (KeyError, DatasetError) as exc:
            raise _Corrupt(str(exc).rstrip(".")) from None
    names = {}
    for key, expected in name_counts.items():
        try:
            names[key] = clean_class_names(record["names"][key], expected, f"{folder / RECORD_FILE}: '{key}'")
        except DatasetError as exc:
            raise _Corrupt(str(exc).rstrip(".")) from None
    return arrays, names


def load_cache(source_folder: Path, file_names: tuple[str, ...], label_limits: dict[str, int],
               name_counts: dict[str, int], *, check_sums: bool = True, tag: str = ""):
    """(arrays as read-only memmaps, names) from a current, verified cache, or None.

    Every label array named in ``label_limits`` is range-checked, every list of class names in
    ``name_counts`` is counted and sanitised. A cache that is current but fails
    its checks is reported once (a logged warning naming the file) and the caller rebuilds it.
    ``check_sums=False`` skips only the CRC pass (for a cache this process has just written and summed).
    """
    try:
        key = source_key(source_folder, file_names)
    except OSError:
        return None
    folder = cache_dir(source_folder, tag)
    try:
        record = json.loads((folder / RECORD_FILE).read_text())
        if record.get("key") != key:
            return None  # no cache yet, or the source changed: rebuilt without comment
        return _verified(folder, record, label_limits, name_counts, check_sums)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        if isinstance(exc, FileNotFoundError) and exc.filename == str(folder / RECORD_FILE):
            return None
        reason = f"{folder / RECORD_FILE} is damaged ({type(exc).__name__})"
    except _Corrupt as exc:
        reason = str(exc)
    log.warning("The dataset cache is damaged: %s; rebuilding it from %s.", reason, source_folder)
    return None


def save_cache(source_folder: Path, file_names: tuple[str, ...], arrays: dict[str, np.ndarray],
               names: dict[str, tuple[str, ...]], *, tag: str = "") -> Path | None:
    """Write the cache; returns its folder, or None when the cache folder is not writable."""
    key = source_key(source_folder, file_names)
    folder = cache_dir(source_folder, tag)
    if not folder_writable(folder):
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _drop_arrays(folder)  # an outdated or half-written cache must not hold the room the new one needs
        described = {}
        for name, array in arrays.items():
            save_npy_atomic(folder / f"{name}.npy", array)
            described[name] = {"shape": list(array.shape), "dtype": array.dtype.str, "crc32": array_crc32(array)}
        record = {"key": key, "arrays": described,
                  "names": {k: list(v) for k, v in names.items()}}
        write_bytes_atomic(folder / RECORD_FILE, json.dumps(record, indent=1).encode())
    except OSError as exc:
        _drop_arrays(folder)  # a part without its record is never read, only in the way (a full disk)
        log.warning("Could not write the dataset cache in %s (%s); the data is read from %s each time.",
                    folder, exc.strerror or exc, source_folder)
        return None
    return folder


def _drop_arrays(folder: Path) -> None:
    """Delete the record (first: a crash then leaves a cache no reader trusts) and the arrays."""
    try:
        (folder / RECORD_FILE).unlink(missing_ok=True)
        for path in folder.glob("*.npy"):
            path.unlink(missing_ok=True)
    except OSError:
        pass
