"""load_dataset and friends: the one entry point that ties locating, downloading, parsing and caching."""

from __future__ import annotations

import dataclasses

from .builtin import builtin_arrays
from .cache import load_cache, save_cache
from .cifar_files import label_limits, name_counts, read_official_folder, required_files
from .dataset import Dataset
from .download import download_dataset
from .errors import DatasetError, DatasetNotFound
from .locate import dataset_location, locate_dataset
from .registry import DATASETS, DatasetInfo, get_info

# Which label array and which meta names each CIFAR id uses (CIFAR-100 ids share one folder).
_LABELS = {
    "cifar10": ("y_{split}", "labels"),
    "cifar100": ("y_{split}_fine", "fine"),
    "cifar100-coarse": ("y_{split}_coarse", "coarse"),
}


def _as_dataset(info: DatasetInfo, arrays: dict, names: dict) -> Dataset:
    label_key, names_key = _LABELS[info.id]
    class_names = names.get(names_key, info.class_names)
    if tuple(class_names) != info.class_names:
        # The meta file is the authority on what the labels mean.
        info = dataclasses.replace(info, class_names=tuple(class_names))
    return Dataset(
        info,
        arrays["x_train"], arrays[label_key.format(split="train")],
        arrays["x_test"], arrays[label_key.format(split="test")],
    )


def load_dataset(dataset_id: str, data_dir=None, *, download: bool = False, progress=None,
                 cancel=None, use_cache: bool = True) -> Dataset:
    """The dataset as uint8 N x 32 x 32 x 3 arrays (read-only memmaps once cached) and int labels.

    Looks in ``data_dir`` then the Keras cache; with ``download=True`` fetches a missing copy
    (``progress(done, total)``, ``cancel`` an Event or callable). The first load writes a cache
    in the user cache folder that later loads map and verify in about 0.1 s; a damaged cache is
    rebuilt (with a logged warning). Labels are range-checked on every load.
    Raises DatasetNotFound, DatasetError (names the bad file) or DownloadCancelled.
    """
    info = get_info(dataset_id)
    if info.folder_name is None:
        return Dataset(info, *builtin_arrays())
    try:
        folder = locate_dataset(dataset_id, data_dir)
    except DatasetNotFound:
        if not download:
            raise
        folder = download_dataset(dataset_id, data_dir, progress=progress, cancel=cancel)
    files = required_files(info.folder_name)
    expected = (label_limits(info.folder_name), name_counts(info.folder_name))
    cached = load_cache(folder, files, *expected) if use_cache else None
    if cached is not None:
        arrays, names = cached
    else:
        arrays, names = read_official_folder(folder, info.folder_name)
        if use_cache and save_cache(folder, files, arrays, names) is not None:
            # Hand out the memory-mapped copy so the parsed arrays can be freed right away; its sums
            # were just computed from these arrays, so re-reading every page would only cost memory.
            arrays, names = load_cache(folder, files, *expected, check_sums=False) or (arrays, names)
    return _as_dataset(info, arrays, names)


def dataset_available(dataset_id: str, data_dir=None) -> bool:
    """True when ``load_dataset`` would succeed without downloading (a folder or archive is there)."""
    info = get_info(dataset_id)
    return info.folder_name is None or dataset_location(dataset_id, data_dir) is not None


def dataset_summaries(data_dir=None) -> list[dict]:
    """One row per registered dataset for the CLI ``datasets`` command and the GUI's picker.

    Keys: id, title, classes, train_size, test_size, available, location (str or None).
    """
    rows = []
    for info in DATASETS.values():
        try:
            location = dataset_location(info.id, data_dir)
        except (OSError, DatasetError):
            location = None
        builtin = info.folder_name is None
        rows.append({
            "id": info.id,
            "title": info.title,
            "classes": info.num_classes,
            "train_size": info.train_size,
            "test_size": info.test_size,
            "available": builtin or location is not None,
            "location": "generated in code" if builtin else (str(location) if location else None),
        })
    return rows
