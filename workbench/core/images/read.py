"""Reading one image file's bytes: pipes, devices and oversized files refused, never waited on."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from workbench.core.files import NotARegularFileError, check_regular_file
from workbench.core.text import sanitize

from .errors import ImageReadError, ImageSkipped

# Largest image file read: a 100-megapixel camera JPEG is about 50 MB, a 24-megapixel 16-bit TIFF
# about 144 MB; every decoding worker of the folder import holds one file's bytes at a time.
MAX_IMAGE_FILE_BYTES = 160 * 2**20

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)


def read_image_bytes(path: str, dir_fd: int | None = None, size: int | None = None) -> bytes:
    """The file's bytes; refuses pipes and devices (even if swapped in after the scan) and oversized files.

    ``dir_fd``: an open folder ``path`` is relative to (the kernel then looks up only the last parts).
    ``size``: the size the scan saw; a read that returns exactly that many bytes needs no fstat (a
    quarter of the cost of reading a small file). Anything else (a pipe or device swapped in, a file
    that changed) is read again the careful way below. Raises ImageSkipped with a short reason.
    """
    # O_NONBLOCK: a FIFO put in place of the file after the scan makes open() return, not wait forever;
    # reads of a regular file ignore the flag.
    try:
        fd = os.open(path, _READ_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        raise ImageSkipped(f"cannot be read ({exc.strerror})", verb="") from None
    if size is not None and 0 < size <= MAX_IMAGE_FILE_BYTES:
        try:
            data = os.read(fd, size + 1)  # never blocks (O_NONBLOCK) and never reads past the cap
        except OSError:
            data = b""
        finally:
            os.close(fd)
        if len(data) == size:
            return data
        return read_image_bytes(path, dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ImageSkipped("not a regular file (a pipe, socket or device)")
        if st.st_size > MAX_IMAGE_FILE_BYTES:
            raise _too_large(st.st_size)
        data = os.read(fd, st.st_size + 1)  # one byte more tells a file that grew since its stat
        while len(data) < st.st_size:  # a short read (network file systems): read on to the size
            part = os.read(fd, st.st_size + 1 - len(data))
            if not part:
                break
            data += part
    except OSError as exc:
        raise ImageSkipped(f"cannot be read ({exc.strerror})", verb="") from None
    finally:
        os.close(fd)
    if not data:
        raise ImageSkipped("an empty file (0 bytes)")
    if len(data) > MAX_IMAGE_FILE_BYTES:
        raise _too_large(len(data))
    return data


def _too_large(size: int) -> ImageSkipped:
    return ImageSkipped(f"{size / 2**20:,.0f} MB, more than the {MAX_IMAGE_FILE_BYTES // 2**20} MB an image file "
                        "may have")


def read_image_file(path: str | os.PathLike) -> bytes:
    """The bytes of one image file a user named; raises ImageReadError with a sentence naming it."""
    path = os.fspath(path)
    name = sanitize(Path(path).name)
    try:
        st = check_regular_file(path, "image")
    except FileNotFoundError:
        raise ImageReadError(f"There is no file at {sanitize(path)}.") from None
    except NotARegularFileError:
        if os.path.isdir(path):
            raise ImageReadError(f"{name} is a folder, not an image.") from None
        raise ImageReadError(not_regular(path)) from None
    except OSError as exc:
        raise ImageReadError(f"{name} cannot be read ({exc.strerror}).") from None
    try:
        return read_image_bytes(path, size=st.st_size)
    except ImageSkipped as exc:
        raise ImageReadError(exc.sentence(name)) from None


def not_regular(path: str) -> str:
    """The sentence for a path that is a pipe, socket or device."""
    return f"{sanitize(path)} is not a regular file (a pipe, socket or device), so it cannot be read as an image."
