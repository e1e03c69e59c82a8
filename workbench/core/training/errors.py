"""The one exception a run raises for a problem the user can fix, and sentences for failed writes."""

from __future__ import annotations

import errno
import os
import re

# h5py reports a failed write as an OSError whose errno is None and names the errno only in its text.
_ERRNO_IN_TEXT = re.compile(r"errno\s*=\s*(\d+)")


OUT_OF_MEMORY_SENTENCE = "The device ran out of memory; try a smaller batch size or a smaller network."
# How TensorFlow, XLA and cuDNN word a device allocation that failed (the type is not always ResourceExhaustedError).
_OUT_OF_MEMORY_TEXT = re.compile(r"OOM when allocating|RESOURCE_EXHAUSTED|out of memory|CUDNN_STATUS_ALLOC_FAILED",
                                 re.IGNORECASE)


class TrainingError(Exception):
    """A run cannot start or go on; the message is one readable sentence."""


def is_out_of_memory(exc: BaseException) -> bool:
    """The device (not the host: MemoryError is not this) could not allocate what the step needs."""
    if isinstance(exc, MemoryError):
        return False
    return type(exc).__name__ == "ResourceExhaustedError" or bool(_OUT_OF_MEMORY_TEXT.search(str(exc)[:2000]))


def os_error_number(exc: BaseException) -> int | None:
    """The errno of an OSError, also when a library put it only in the message text."""
    if getattr(exc, "errno", None):
        return exc.errno
    found = _ERRNO_IN_TEXT.search(str(exc))
    return int(found.group(1)) if found else None


def write_problem(exc: BaseException) -> BaseException | None:
    """The OSError behind ``exc`` (itself, its cause or context) when it is a failed write we can name."""
    seen = 0
    while exc is not None and seen < 5:  # a short chain: CheckpointError <- OSError
        if isinstance(exc, OSError) and os_error_number(exc) in _SENTENCES:
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def write_failure_sentence(exc: BaseException, folder: str | os.PathLike) -> str | None:
    """One sentence for a write that failed because of the disk or the folder, or None for other errors."""
    problem = write_problem(exc)
    if problem is None:
        return None
    return _SENTENCES[os_error_number(problem)].format(folder=folder)


_SENTENCES = {
    errno.ENOSPC: "The disk holding {folder} is full; free some space, then start or resume the run again.",
    errno.EDQUOT: "The disk quota for {folder} is used up; free some space, then start or resume the run again.",
    errno.EFBIG: "A file in {folder} would grow beyond the largest file size allowed here; "
                 "raise the limit or choose another disk, then start or resume the run again.",
    errno.EROFS: "The folder {folder} is on a read-only file system; choose a writable folder for the run.",
    errno.EACCES: "The folder {folder} is not writable for you; choose a folder you can write to.",
    errno.EPERM: "The folder {folder} is not writable for you; choose a folder you can write to.",
}
