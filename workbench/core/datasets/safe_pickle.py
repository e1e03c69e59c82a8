"""Unpickling the official CIFAR files without running arbitrary code.

A pickle can name any importable callable; the official files only need numpy's array
reconstruction, so everything else is refused before it is imported.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from workbench.core.files import open_regular_file

from .errors import DatasetError, UnsafePickleError

# The largest official file (CIFAR-100 "train": 50,000 rows of 3,072 bytes) is 155 MB; a bigger
# file cannot be a CIFAR batch, and refusing it up front bounds what the unpickler can build.
MAX_PICKLE_BYTES = 200 * 1000 * 1000

# (module, name) pairs the official files (Python 2 era numpy) and numpy 2 re-pickles use.
ALLOWED_GLOBALS = frozenset({
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(text, "latin1").
    ("_codecs", "encode"),
})


class SafeUnpickler(pickle.Unpickler):
    """An Unpickler whose find_class allows only ALLOWED_GLOBALS."""

    def __init__(self, file, *, source: str, **kwargs):
        super().__init__(file, **kwargs)
        self._source = source

    def find_class(self, module: str, name: str):
        if (module, name) not in ALLOWED_GLOBALS:
            raise UnsafePickleError(
                f"{self._source} asks to load {module}.{name}, which a CIFAR data file never needs; "
                "refusing to unpickle it (the file may be malicious)."
            )
        if module == "_codecs":
            import _codecs
            return _codecs.encode
        # numpy 2 renamed numpy.core to numpy._core; old files name the old path.
        import numpy
        if name in ("ndarray", "dtype"):
            return getattr(numpy, name)
        try:
            from numpy._core import multiarray
        except ImportError:  # numpy 1.x
            from numpy.core import multiarray
        return getattr(multiarray, name)


def load_pickle(path: Path):
    """The object in ``path``, read as a Python 2 pickle (bytes keys) with only safe globals.

    Refuses pipes and devices and files over MAX_PICKLE_BYTES before reading. Raises
    UnsafePickleError for a forbidden global and DatasetError for a damaged or oversized file.
    The caller must still check types and sizes before converting what comes back.
    """
    path = Path(path)
    try:
        # Reading from the file (not a bytes copy) keeps peak memory at about one batch.
        with open_regular_file(path, "CIFAR data file") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_PICKLE_BYTES:
                raise DatasetError(
                    f"{path} is {size / 1e6:,.0f} MB, larger than any CIFAR data file "
                    f"({MAX_PICKLE_BYTES / 1e6:,.0f} MB at most), so it is not read; "
                    "replace it with the file from the official archive."
                )
            return SafeUnpickler(f, source=str(path), encoding="bytes").load()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        # check_regular_file's sentences already name the file.
        text = reason if str(path) in reason else f"Cannot read {path}: {reason}"
        raise DatasetError(text.rstrip(".") + ".") from exc
    except DatasetError:
        raise
    except Exception as exc:  # any other failure inside pickle means the bytes are damaged
        detail = str(exc) or type(exc).__name__
        raise DatasetError(
            f"{path} is not a readable CIFAR pickle (truncated or corrupt: {detail})."
        ) from exc
