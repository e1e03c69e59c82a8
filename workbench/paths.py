"""Where the workbench keeps its files, and the environment variables that move them.

WORKBENCH_HOME (settings, runs; default ~/.cifar_workbench), WORKBENCH_CACHE or XDG_CACHE_HOME
(decoded dataset caches and archives unpacked from the user's folders; default
~/.cache/cifar-workbench), KERAS_HOME (the Keras download cache searched for datasets; default ~/.keras).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


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


def os_error_sentence(exc: OSError) -> str:
    """One sentence for a failed file operation, naming the file and what to do (never "[Errno 13] ...").

    A folder of the workbench's own home points at WORKBENCH_HOME, which moves it.
    """
    where = exc.filename if exc.filename is not None else "a file"
    why = exc.strerror or type(exc).__name__
    if exc.errno not in _NOT_WRITABLE:
        return f"{where}: {why}."
    home = workbench_home()
    try:
        in_home = Path(os.path.abspath(where)).is_relative_to(os.path.abspath(home))
    except (TypeError, ValueError):
        in_home = False
    what = (f"make {home} writable, or set WORKBENCH_HOME to a folder you can write to" if in_home
            else "choose a place you can write to")
    return f"{where} cannot be written ({why}); {what}."
