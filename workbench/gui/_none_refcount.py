"""Work around a refcount bug of PySide6/shiboken6 6.12 on Python 3.11.

shiboken6 6.12 treats the objects that Python 3.12 made immortal (None, True, False, small ints, ...)
as if they needed no reference: every call of a C++ method returning ``void`` (QLabel.setText,
QPainter.drawLine, ...) hands back ``None`` without a new reference, and virtual overrides lose
references to True/False/0/1 the same way. On 3.11 those counts fall with every call; None starts
at about 20,000 in a fresh GUI process, so a few minutes of pyqtgraph painting abort the process
with "Fatal Python error: none_dealloc" (or bool_dealloc). Measured here: 20 repaints of the
training plots cost None 13,200 references and True 626.

``protect_none()`` detects the bug (ten calls of a void method) and, only then, raises the counts
of those interpreter-lifetime singletons by 2**50 so they can never reach zero. They are never
freed anyway, so a larger count changes nothing else. Idempotent and cheap; a no-op on 3.12+.
"""

from __future__ import annotations

import sys

_BUMP = 1 << 50
_LOW_WATER = 1 << 40


def leaks_none_per_void_call() -> bool:
    """True when a void PySide6 method call lowers None's reference count (the 6.12 bug)."""
    from PySide6.QtGui import QPen

    pen = QPen()
    before = sys.getrefcount(None)
    for _ in range(10):
        pen.setWidth(1)
    return sys.getrefcount(None) < before - 5


def protect_none() -> bool:
    """Apply the workaround when needed; returns True when None's count was raised."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False  # immortal None: nothing to protect
    if sys.getrefcount(None) >= _LOW_WATER:
        return False  # already protected
    if not leaks_none_per_void_call():
        return False
    import ctypes

    for obj in _singletons():
        ctypes.c_ssize_t.from_address(id(obj)).value += _BUMP  # ob_refcnt is PyObject's first field
    return True


def _singletons() -> list[object]:
    """The objects CPython 3.12 made immortal and 3.11 shares process-wide (deduplicated by id)."""
    candidates: list[object] = [None, True, False, Ellipsis, NotImplemented, (), "", b""]
    candidates += [int(i) for i in range(-5, 257)]  # the small-int cache
    candidates += [chr(i) for i in range(256)]  # the Latin-1 one-character string cache
    seen: dict[int, object] = {}
    for obj in candidates:
        seen.setdefault(id(obj), obj)
    return list(seen.values())
