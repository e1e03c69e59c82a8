"""Opening a file the user named without hanging on a FIFO or device, and with a size cap."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class NotARegularFileError(OSError):
    """The path is a FIFO, socket, device or folder where a file was expected; message is one sentence."""


def check_regular_file(path: str | os.PathLike, what: str = "file") -> os.stat_result:
    """Stat ``path`` (following links) and refuse anything that is not a regular file, without opening it."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, f"There is no {what} at {p}", str(p)) from None
    if stat.S_ISDIR(st.st_mode):
        raise NotARegularFileError(errno.EISDIR, f"{p} is a folder, not a {what}", str(p))
    if not stat.S_ISREG(st.st_mode):
        # Reading a FIFO or a device blocks forever or never ends: refuse before open().
        raise NotARegularFileError(errno.EINVAL, f"{p} is not a regular file (a pipe, socket or device), "
                                                 f"so it cannot be read as a {what}", str(p))
    return st


def open_regular_file(path: str | os.PathLike, what: str = "file"):
    """Open ``path`` for binary reading; refuses non-regular files even if swapped in after the check."""
    check_regular_file(path, what)
    # O_NONBLOCK: if a FIFO replaced the file between stat and open, open() returns instead of waiting.
    fd = os.open(os.fspath(path), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotARegularFileError(errno.EINVAL, f"{path} is not a regular file", str(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
