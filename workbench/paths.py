"""Where the workbench keeps its files, and the environment variables that move them.

WORKBENCH_HOME (settings, runs; default ~/.cifar_workbench), WORKBENCH_CACHE or XDG_CACHE_HOME
(decoded dataset caches and archives unpacked from the user's folders; default
~/.cache/cifar-workbench), KERAS_HOME (the Keras download cache searched for datasets; default ~/.keras).
"""

from __future__ import annotations

import os
from pathlib import Path


def workbench_home() -> Path:
    return Path(os.environ.get("WORKBENCH_HOME") or Path.home() / ".cifar_workbench")


def default_runs_root() -> Path:
    return workbench_home() / "runs"


def keras_datasets_dir() -> Path:
    """The Keras download cache, where keras.datasets.cifar10.load_data() leaves its files."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "datasets"


def user_cache_dir() -> Path:
    """Where decoded dataset caches live: WORKBENCH_CACHE, else $XDG_CACHE_HOME/cifar-workbench, else ~/.cache/….

    Never beside the user's data: a cache is ours to delete and rebuild, their folders are not.
    """
    explicit = os.environ.get("WORKBENCH_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cifar-workbench"
