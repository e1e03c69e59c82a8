"""Atomic file writes, the one way the workbench replaces a file: write a temp file beside it, then
``os.replace`` it into place, so a reader sees the old or the new file, never a part (a failed or
interrupted write leaves no temp file behind).

A file we write may not be ours to replace: a symlink is written through (its target is replaced, in
the target's folder), an existing file keeps its permissions (a new one gets the usual umask mode),
and a device, FIFO, socket or folder is refused with ``NotAFileError`` before anything is written.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


class NotAFileError(OSError):
    """The path names something other than a regular file (a device, FIFO, socket or folder); one sentence."""


def _umask() -> int:
    """The process umask, read without changing it where Linux says it (os.umask would race other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_target(path: str | os.PathLike) -> tuple[Path, os.stat_result | None]:
    """The file a write to ``path`` replaces (symlinks followed) and its stat (None when it does not exist yet).

    Raises NotAFileError when that is not a regular file.
    """
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return target, None
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
        linked = os.path.abspath(path) != str(target)
        shown = f"{path} (a link to {target})" if linked else str(path)
        raise NotAFileError(f"{shown} is {kind}, not a file; choose a file path to write to (nothing was written).")
    return target, info


def _copy_mode(fd: int, existing: os.stat_result | None) -> None:
    """The replaced file's mode and owner, or the umask's mode for a new file (mkstemp's 600 is for the temp file)."""
    if existing is None:
        os.fchmod(fd, 0o666 & ~_umask())
        return
    os.fchmod(fd, stat.S_IMODE(existing.st_mode))
    if hasattr(os, "fchown") and (existing.st_uid, existing.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.fchown(fd, existing.st_uid, existing.st_gid)  # root writing a user's file leaves it theirs
        except OSError:
            pass


@contextmanager
def atomic_file(path: str | os.PathLike, *, fsync: bool = False) -> Iterator[BinaryIO]:
    """A binary file to write; it becomes ``path`` (or the file ``path`` links to) when the block ends
    without an error.

    ``fsync`` forces the data to disk before the rename (records a crash must not lose).
    """
    target, existing = write_target(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            _copy_mode(f.fileno(), existing)
            yield f
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, target)
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


def rewrite_atomic(path: str | os.PathLike, build: Callable[[Path, str], None], *, fsync: bool = True) -> Path:
    """Replace an existing file with a new version of it: ``build(current, temp_path)`` writes the new file
    at ``temp_path`` (beside it, e.g. a copy edited in place by h5py), which is forced to disk and renamed
    over the file (its mode kept). Readers that have it open keep reading the old version; a failure
    leaves the file untouched and no temp file behind. Returns the file replaced (links followed)."""
    target, existing = write_target(path)
    if existing is None:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.close(fd)
        build(target, tmp)
        with open(tmp, "rb+") as f:
            _copy_mode(f.fileno(), existing)
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    return target
