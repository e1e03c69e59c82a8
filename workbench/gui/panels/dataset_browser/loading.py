"""The dataset tab's worker-thread functions — load, import the user's images, download — and what a
load hands back to the GUI. No Qt here: each runs on a worker thread and returns plain data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from workbench.core.datasets import DATASETS

if TYPE_CHECKING:  # a plain dataclass, but its module builds the dialog
    from workbench.gui.widgets.import_dialog import ImportRequest


@dataclass(frozen=True, eq=False)
class LoadedData:
    """What a load hands back to the GUI: the (read-only) dataset and counts computed off-thread."""

    dataset_id: str
    dataset: object  # workbench.core.datasets.Dataset
    train_counts: tuple[int, ...]
    test_counts: tuple[int, ...]
    imported: object = None  # workbench.core.datasets.folder_import.ImportResult for the user's own images


def _loaded(dataset_id: str, ds, imported=None) -> LoadedData:
    n = ds.num_classes
    train = np.bincount(np.asarray(ds.y_train, np.int64).ravel(), minlength=n)[:n]
    test = np.bincount(np.asarray(ds.y_test, np.int64).ravel(), minlength=n)[:n]
    return LoadedData(dataset_id, ds, tuple(int(c) for c in train), tuple(int(c) for c in test), imported)


def load_for_browser(dataset_id: str, data_dir: str | None) -> LoadedData:
    """Worker-thread function: load the dataset and count images per class."""
    from workbench.core.datasets import load_dataset

    if dataset_id not in DATASETS:  # the user's own: keep what the import found (skipped files, split, leaks)
        from workbench.core.datasets.resolve import open_spec

        result = open_spec(dataset_id)
        return _loaded(dataset_id, result.dataset, result)
    return _loaded(dataset_id, load_dataset(dataset_id, data_dir))


def import_for_browser(request: ImportRequest, progress=None, cancel=None) -> LoadedData:
    """Worker-thread function: import the user's folder or archive and remember it by name."""
    from workbench.core.datasets import add_user_dataset

    result = add_user_dataset(request.name, request.path, size=request.size, color=request.color,
                              fit=request.fit, progress=progress, cancel=cancel)
    return _loaded(request.name, result.dataset, result)


def download_for_browser(dataset_id: str, data_dir: str | None, progress=None, cancel=None) -> str:
    from workbench.core.datasets import download_dataset

    dest = data_dir if data_dir and not Path(data_dir).is_file() else None
    return str(download_dataset(dataset_id, dest, progress=progress, cancel=cancel))
