"""Where the workbench keeps its own files (settings, runs); overridable with WORKBENCH_HOME."""

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
