"""TensorFlow and Keras are imported for the first time under one lock.

The GUI runs core functions on several worker threads (parameter count, model view, device probe,
training, model loading). Two threads importing TensorFlow for the first time at once fail: Python's
module locks report a deadlock in one and the other sees a half-initialised module. Every core entry
point that may be first calls ``ensure_tensorflow()`` before its own imports.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_done = False


def ensure_tensorflow() -> None:
    """Import tensorflow and keras once, one thread at a time; cheap after the first call."""
    global _done
    if _done:
        return
    with _lock:
        if not _done:
            import tensorflow  # noqa: F401
            import keras  # noqa: F401

            _done = True
