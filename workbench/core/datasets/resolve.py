"""What a --dataset value names: a built-in id, a remembered user dataset, or a folder / archive path.

The one place that turns such a value into a DatasetInfo or an import, above both the built-in
catalogue (``registry``) and the user's list (``user_datasets``), so neither imports the other.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import NamedTuple

from workbench.core.text import sanitize

from .errors import DatasetError
from .registry import DATASETS, DatasetInfo
from .user_archive import is_archive
from .user_datasets import Progress, find_user_dataset, import_path, open_user_dataset, user_datasets

# What "folder:<path>" ids (import_folder's) start with.
FOLDER_PREFIX = "folder:"


class DatasetChoice(NamedTuple):
    """One selectable dataset for a list: the id to pass around, its description, and whose it is."""

    id: str
    info: DatasetInfo
    user: bool
    source: str | None  # a user dataset's folder or archive


def get_info(dataset_id: str) -> DatasetInfo:
    """The entry for a built-in id, a user dataset's name or an image folder / archive path.

    An unknown one raises DatasetError listing the choices.
    """
    if dataset_id in DATASETS:
        return DATASETS[dataset_id]
    return info_for(str(dataset_id))


def selectable_datasets() -> list[DatasetChoice]:
    """Every dataset a list in the window or CLI offers: the built-in ones, then the user's by name."""
    rows = [DatasetChoice(k, info, False, None) for k, info in DATASETS.items()]
    rows += [DatasetChoice(d.name, d.info(), True, d.source) for d in user_datasets().values()]
    return rows


def known_info(spec) -> DatasetInfo | None:
    """DatasetInfo of a built-in id or a remembered name, None otherwise; never imports (for lists and labels)."""
    if spec in DATASETS:
        return DATASETS[spec]
    entry = find_user_dataset(spec) if isinstance(spec, str) else None
    return entry.info() if entry is not None else None


def looks_like_path(spec: str) -> bool:
    """Whether a --dataset value is meant as a folder or archive rather than a name."""
    return (spec.startswith(FOLDER_PREFIX) or os.sep in spec or "/" in spec or spec.startswith("~")
            or is_archive(spec) or os.path.isdir(spec))


def path_of(spec: str) -> Path:
    return Path(spec[len(FOLDER_PREFIX):] if spec.startswith(FOLDER_PREFIX) else spec).expanduser()


def _unknown(spec: str) -> DatasetError:
    names = ", ".join(list(DATASETS) + list(user_datasets()))
    return DatasetError(f"Unknown dataset {sanitize(spec, 120)!r}; --dataset must be one of {names}, or the path "
                        "of an image folder or a .zip/.tar/.tar.gz archive of one.")


def open_spec(spec: str, *, progress: Progress | None = None, cancel: threading.Event | None = None):
    """ImportResult for a user dataset name or a path (DatasetError naming the choices otherwise)."""
    entry = find_user_dataset(spec)
    if entry is not None:
        return open_user_dataset(entry, progress=progress, cancel=cancel)
    if looks_like_path(spec):
        path = path_of(spec)
        remembered = next((d for d in user_datasets().values() if Path(d.source) == path.absolute()), None)
        if remembered is not None:  # the user's settings for that folder, not the defaults
            return open_user_dataset(remembered, progress=progress, cancel=cancel)
        return import_path(path, progress=progress, cancel=cancel)
    raise _unknown(spec)


def info_for(spec: str) -> DatasetInfo:
    """DatasetInfo of a user dataset name (from the registry, instant) or a path (imports it, cached)."""
    entry = find_user_dataset(spec)
    if entry is not None:
        return entry.info()
    if looks_like_path(spec):
        return open_spec(spec).dataset.info
    raise _unknown(spec)


def available(spec: str) -> bool:
    """Whether ``spec`` (a user dataset or a path) can be loaded without fetching anything."""
    entry = find_user_dataset(spec)
    if entry is not None:
        return Path(entry.folder).is_dir() or Path(entry.source).exists()
    return looks_like_path(spec) and path_of(spec).exists()
