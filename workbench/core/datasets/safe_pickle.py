"""Unpickling the official CIFAR files without running arbitrary code, in bounded memory.

A pickle can name any importable callable; the official files only need numpy's array
reconstruction, so everything else is refused before it is imported. A pickle can also make a
small file build a huge object (many tiny opcodes, one large string reused by reference), so the
file is capped in size and opcode count before unpickling, and what the allowed callables build
is charged against a budget of twice the file's size.
"""

from __future__ import annotations

import math
import mmap
import os
import pickle
import pickletools
from pathlib import Path

import numpy as np

from workbench.core.files import open_regular_file

from .errors import DatasetError, UnsafePickleError

# The largest official file (CIFAR-100 "train": 50,000 rows of 3,072 bytes) is 155 MB; a bigger
# file cannot be a CIFAR batch, and refusing it up front bounds what the unpickler can build.
MAX_PICKLE_BYTES = 200 * 1000 * 1000
# CIFAR-100 "train" holds about 450,000 opcodes even as re-pickled by Python 3 (two labels and a
# file name per image, plus memo entries); each opcode builds at most one small object, so this
# bounds a crafted file made of tiny opcodes to a few hundred MB.
MAX_PICKLE_OPCODES = 1_000_000
# Official files hold one array (the pixels); re-pickled ones may hold the label lists as arrays.
MAX_ARRAYS = 4

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

try:
    from numpy._core import multiarray as _multiarray
except ImportError:  # numpy 1.x
    from numpy.core import multiarray as _multiarray


def _argument_skips() -> dict[int, object]:
    """Opcode byte -> how to step over its argument: a byte count, a pickletools length code, or "pair"."""
    skips = {}
    for op in pickletools.opcodes:
        arg = op.arg
        if arg is None:
            skip = 0
        elif arg.name == "stringnl_noescape_pair":
            skip = "pair"  # GLOBAL / INST: two newline-terminated lines
        else:
            skip = arg.n
        skips[op.code.encode("latin-1")[0]] = skip
    return skips


_SKIPS = _argument_skips()
_STOP = pickle.STOP[0]
_LENGTH_FIELDS = {  # pickletools code -> (bytes of the length field, signed)
    pickletools.TAKEN_FROM_ARGUMENT1: (1, False),
    pickletools.TAKEN_FROM_ARGUMENT4: (4, True),
    pickletools.TAKEN_FROM_ARGUMENT4U: (4, False),
    pickletools.TAKEN_FROM_ARGUMENT8U: (8, False),
}


def count_opcodes(data, limit: int) -> int:
    """Opcodes in the pickle ``data`` (bytes or mmap) up to its STOP, or ``limit + 1`` once over the limit.

    Steps over arguments without building them (about 0.5 µs per opcode). Raises ValueError when
    the stream is not a pickle.
    """
    pos, count, end = 0, 0, len(data)
    while pos < end:
        code = data[pos]
        pos += 1
        count += 1
        if count > limit:
            return count
        skip = _SKIPS.get(code)
        if skip is None:
            raise ValueError(f"unknown opcode {code:#04x} at byte {pos - 1}")
        if code == _STOP:
            return count
        if skip == "pair":
            pos = data.find(b"\n", data.find(b"\n", pos) + 1) + 1
        elif skip == pickletools.UP_TO_NEWLINE:
            pos = data.find(b"\n", pos) + 1
        elif skip in _LENGTH_FIELDS:
            width, signed = _LENGTH_FIELDS[skip]
            length = int.from_bytes(data[pos:pos + width], "little", signed=signed)
            if length < 0:
                raise ValueError(f"negative length at byte {pos}")
            pos += width + length
        else:
            pos += skip
        if pos <= 0:
            raise ValueError("a line argument has no end")
    raise ValueError("the pickle has no STOP opcode (truncated)")


class _ArrayMarker:
    """Stands in for numpy.ndarray: official files only pass it to _reconstruct, never call it."""

    def __new__(cls, *args, **kwargs):
        raise UnsafePickleError("calls numpy.ndarray directly, which a CIFAR data file never does")


class _Budget:
    """Bytes the allowed callables may still build; one per load."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self, n: int, what: str) -> None:
        self.left -= n
        if self.left < 0:
            raise UnsafePickleError(
                f"builds more {what} than the file itself holds, which a CIFAR data file never does"
            )


def _budgeted_array_type(budget: _Budget) -> type:
    """An ndarray subclass whose __setstate__ (pickle's BUILD) is charged to ``budget`` first.

    It holds only the budget, never the unpickler, so arrays handed out keep no unpickler alive.
    """

    class _BudgetedArray(np.ndarray):
        def __setstate__(self, state):
            budget.spend(_state_bytes(state), "arrays")
            super().__setstate__(state)

    return _BudgetedArray


class SafeUnpickler(pickle.Unpickler):
    """An Unpickler whose find_class allows only ALLOWED_GLOBALS, each charged against a budget.

    ``byte_budget`` bounds the bytes that arrays, numpy scalars and _codecs.encode may build in total.
    """

    def __init__(self, file, *, source: str, byte_budget: int, **kwargs):
        super().__init__(file, **kwargs)
        self._source = source
        self._budget = _Budget(byte_budget)
        self._arrays_left = MAX_ARRAYS
        self._array_type = _budgeted_array_type(self._budget)

    def _reconstruct(self, subtype, shape, dtype):
        if subtype is not _ArrayMarker:
            raise UnsafePickleError("rebuilds something other than a numpy array")
        self._arrays_left -= 1
        if self._arrays_left < 0:
            raise UnsafePickleError(f"holds more than {MAX_ARRAYS} arrays")
        return _multiarray._reconstruct(self._array_type, shape, dtype)

    def _scalar(self, dtype, data=None):
        self._budget.spend(len(data) if isinstance(data, (bytes, str)) else 64, "numbers")
        return _multiarray.scalar(dtype, data) if data is not None else _multiarray.scalar(dtype)

    def _encode(self, text, encoding="utf-8", errors="strict"):
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise UnsafePickleError("uses _codecs.encode other than to store bytes")
        self._budget.spend(len(text), "bytes")
        return text.encode("latin-1", errors)

    def find_class(self, module: str, name: str):
        if (module, name) not in ALLOWED_GLOBALS:
            raise UnsafePickleError(
                f"asks to load {module}.{name}, which a CIFAR data file never needs; "
                "refusing to unpickle it (the file may be malicious)"
            )
        return {
            "_reconstruct": self._reconstruct,
            "ndarray": _ArrayMarker,
            "dtype": np.dtype,
            "scalar": self._scalar,
            "encode": self._encode,
        }[name]


def _state_bytes(state) -> int:
    """Bytes the array described by an ndarray.__setstate__ state would take (object arrays: 8 per item)."""
    try:
        shape, dtype = (state[1], state[2]) if len(state) == 5 else (state[0], state[1])
        items = math.prod(int(n) for n in shape)
        return items * max(int(np.dtype(dtype).itemsize), 8 if np.dtype(dtype).hasobject else 1)
    except (TypeError, ValueError, IndexError):
        return 0  # not a valid state: numpy itself refuses it


def _unwrap(obj):
    """Our budgeted array subclass back to plain ndarrays (no copy), inside the dicts/lists of a batch."""
    if isinstance(obj, np.ndarray):
        return obj.view(np.ndarray)
    if isinstance(obj, dict):
        return {k: _unwrap(v) if isinstance(v, np.ndarray) else v for k, v in obj.items()}
    return obj


def load_pickle(path: Path):
    """The object in ``path``, read as a Python 2 pickle (bytes keys) with only safe globals.

    Refuses pipes and devices, files over MAX_PICKLE_BYTES and streams of more than
    MAX_PICKLE_OPCODES opcodes before unpickling. Raises UnsafePickleError (one sentence naming
    the file) for a forbidden or over-budget construction and DatasetError for a damaged file.
    The caller must still check types and sizes before converting what comes back.
    """
    path = Path(path)
    try:
        with open_regular_file(path, "CIFAR data file") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_PICKLE_BYTES:
                raise DatasetError(
                    f"{path} is {size / 1e6:,.0f} MB, larger than any CIFAR data file "
                    f"({MAX_PICKLE_BYTES / 1e6:,.0f} MB at most), so it is not read; "
                    "replace it with the file from the official archive."
                )
            if size == 0:
                raise DatasetError(f"{path} is empty; replace it with the file from the official archive.")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                opcodes = count_opcodes(data, MAX_PICKLE_OPCODES)
            if opcodes > MAX_PICKLE_OPCODES:
                raise DatasetError(
                    f"{path} holds more than {MAX_PICKLE_OPCODES:,} pickle opcodes, far more than a "
                    "CIFAR data file, so it is not unpickled; replace it with the file from the official archive."
                )
            # Reading from the file (not a bytes copy) keeps peak memory at about one batch.
            unpickler = SafeUnpickler(f, source=str(path), byte_budget=2 * size + (1 << 20), encoding="bytes")
            try:
                return _unwrap(unpickler.load())
            finally:
                # The memo holds our bound methods (a cycle back to the unpickler) and the raw pixel
                # string: clear it, or each batch's 31 MB waits for the cycle collector.
                unpickler.memo.clear()
    except UnsafePickleError as exc:
        raise UnsafePickleError(f"{path} {exc}.") from None
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
