"""TensorFlow and Keras are imported for the first time under one lock, with their start-up lines kept aside.

The GUI runs core functions on several worker threads (parameter count, model view, device probe,
training, model loading). Two threads importing TensorFlow for the first time at once fail: Python's
module locks report a deadlock in one and the other sees a half-initialised module. Every core entry
point that may be first calls ``ensure_tensorflow()`` before its own imports.

TensorFlow's import and first device query write to fd 2 from C++ (``failed call to cuInit``, absl's
"log messages before InitializeLog", oneDNN, CPU features); a newcomer reads them as a failure. They go to
a buffer (``start_output()``) that the CLI prints with ``--debug`` or when a run fails; with ``--debug``
(``WORKBENCH_DEBUG`` in the environment) they stay on the terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from typing import Iterator

DEBUG_ENV = "WORKBENCH_DEBUG"  # set by --debug; inherited by training processes

_lock = threading.Lock()
_done = False
_output = ""


def debugging() -> bool:
    return bool(os.environ.get(DEBUG_ENV))


@contextlib.contextmanager
def fd2_captured(into: list[str]) -> Iterator[None]:
    """Within the block, whatever this process writes to fd 2 (C++ included) is appended to ``into`` as text."""
    with tempfile.TemporaryFile() as buffer:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(buffer.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            buffer.seek(0)
            into.append(buffer.read().decode("utf-8", "replace"))


def ensure_tensorflow() -> None:
    """Import tensorflow and keras once, one thread at a time; cheap after the first call."""
    global _done, _output
    if _done:
        return
    with _lock:
        if not _done:
            captured: list[str] = []
            with contextlib.nullcontext() if debugging() else fd2_captured(captured):
                import tensorflow
                import keras  # noqa: F401

                tensorflow.config.list_physical_devices()  # CUDA's first call (and its cuInit line) is here
            _output = "".join(captured)
            _done = True


def start_output() -> str:
    """What TensorFlow wrote to fd 2 while it loaded ("" before, or with --debug, where it went to the terminal)."""
    return _output
