"""Silencing Keras' absl warnings for the length of one load or save."""

from __future__ import annotations

import contextlib
import logging


@contextlib.contextmanager
def quiet_keras_logs():
    # Keras warns "legacy HDF5" on every .h5 read or write; .h5 is our deliberate default and the
    # user sees our own notes instead.
    logger = logging.getLogger("absl")
    old = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(old)
