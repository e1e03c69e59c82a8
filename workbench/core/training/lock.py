"""One writer per run folder: an OS file lock held while a run owns the folder.

``fcntl.flock`` locks die with the process (kill -9 included), so a crashed run never leaves
a folder locked. Where flock does not exist or the file system refuses it, runs go on unlocked.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from workbench.core.training.errors import TrainingError

try:
    import fcntl
except ImportError:  # not Linux/macOS: no lock, as before
    fcntl = None

LOCK_FILE = ".workbench-run.lock"


class RunLock:
    """An exclusive lock on one run folder; ``release()`` (or the process ending) frees it."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    @classmethod
    def acquire(cls, folder: Path) -> "RunLock":
        """Lock ``folder`` for this process, or raise TrainingError naming the run that holds it."""
        # O_NOFOLLOW: a symlink planted as the lock file must not make us write the pid elsewhere.
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        if fcntl is None:
            return cls(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return cls(fd)  # a file system without flock (some network mounts): go on unlocked
            holder = _read_pid(fd)
            os.close(fd)
            who = f" (pid {holder})" if holder else ""
            raise TrainingError(
                f"The run folder {folder} is being written by another run{who}; "
                "wait for it to end or choose another folder."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(fd)

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def is_locked(folder: str | os.PathLike) -> bool:
    """Whether a live run (this process or another) holds ``folder``'s lock; False where locks do not exist."""
    try:
        # O_NONBLOCK: a FIFO planted as the lock file must not hang the caller.
        fd = os.open(Path(folder) / LOCK_FILE, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False  # no lock file: no run ever owned it, or it cannot be opened (then nothing can be said)
    try:
        if fcntl is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # a probe: shared, let go at once
        except OSError as exc:
            return exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
