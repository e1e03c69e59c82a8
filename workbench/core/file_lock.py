"""A short exclusive OS lock around a read-modify-write of a shared file (the queue, the datasets list).

``fcntl.flock`` locks die with their process (kill -9 included), so a crash never leaves a file
locked. Where flock does not exist or the file system refuses it, callers go on unlocked.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:  # not Linux/macOS: no cross-process lock, one window at a time by convention
    fcntl = None


def lock_fd(path: str | os.PathLike, blocking: bool) -> int | None:
    """An fd holding an exclusive flock on ``path`` (created, with its folder, if absent); None when
    ``blocking`` is False and another holds it. Raises OSError when the lock file cannot be made."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_NOFOLLOW: a symlink planted as the lock file must not make us create a file elsewhere.
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            os.close(fd)
            return None
        return fd  # a file system without flock: go on unlocked
    return fd


@contextlib.contextmanager
def locked(path: str | os.PathLike) -> Iterator[None]:
    """Hold the lock file ``path`` for the block (waits for another holder; OSError if it cannot be made)."""
    fd = lock_fd(path, blocking=True)
    try:
        yield
    finally:
        os.close(fd)  # closing the fd drops the flock
