"""load_dataset and friends: the one entry point that ties locating, downloading, parsing and caching."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, NamedTuple

from .builtin import builtin_arrays
from .cache import load_cache, save_cache
from .cifar_files import label_limits, name_counts, read_official_folder, required_files
from .dataset import Dataset
from .download import download_dataset
from .errors import DatasetError, DatasetNotFound
from .locate import dataset_location, locate_dataset
from .mnist_files import read_idx_folder, read_mnist_npz
from .registry import DATASETS, DatasetInfo
from .resolve import available, get_info, open_spec

# Which label array and which meta names each CIFAR id uses (CIFAR-100 ids share one folder).
_LABELS = {
    "cifar10": ("y_{split}", "labels"),
    "cifar100": ("y_{split}_fine", "fine"),
    "cifar100-coarse": ("y_{split}_coarse", "coarse"),
}


class _Source(NamedTuple):
    """Where a dataset's files are, what its cache must hold, and how to parse the files."""

    folder: Path  # the folder the cache is keyed on
    files: tuple[str, ...]  # the source files in it whose sizes and mtimes key the cache
    tag: str  # tells caches of datasets sharing a folder apart
    label_limits: dict[str, int]
    name_counts: dict[str, int]
    read: Callable[[], tuple[dict, dict]]


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


def _cifar_source(info: DatasetInfo, folder: Path) -> _Source:
    return _Source(folder, required_files(info.folder_name), "", label_limits(info.folder_name),
                   name_counts(info.folder_name), lambda: read_official_folder(folder, info.folder_name))


def _plain_source(info: DatasetInfo, found: Path) -> _Source:
    """MNIST's .npz (``found`` is the file) or Fashion-MNIST's IDX folder (``found`` is the folder)."""
    limits = {"y_train": info.num_classes, "y_test": info.num_classes}
    if info.layout == "npz":
        # Tagged by file name: the .npz may share its folder with other datasets' files.
        return _Source(found.parent, (found.name,), found.name, limits, {},
                       lambda: (read_mnist_npz(found, info.num_classes), {}))
    return _Source(found, tuple(f.name for f in info.files), info.layout, limits, {},
                   lambda: (read_idx_folder(found, info.num_classes), {}))


def _cached_read(source: _Source, use_cache: bool):
    """(arrays, names): from a verified cache, else parsed from the source files and cached."""
    expected = (source.folder, source.files, source.label_limits, source.name_counts)
    cached = load_cache(*expected, tag=source.tag) if use_cache else None
    if cached is not None:
        return cached
    arrays, names = source.read()
    if use_cache and save_cache(source.folder, source.files, arrays, names, tag=source.tag) is not None:
        # Hand out the memory-mapped copy so the parsed arrays can be freed right away; its sums
        # were just computed from these arrays, so re-reading every page would only cost memory.
        return load_cache(*expected, check_sums=False, tag=source.tag) or (arrays, names)
    return arrays, names


def load_dataset(dataset_id: str, data_dir=None, *, download: bool = False, progress=None,
                 cancel=None, use_cache: bool = True) -> Dataset:
    """``dataset_id``: a built-in id, a user dataset's name, or the path of an image folder or archive
    (imported on first use, then memory-mapped from its cache; ``data_dir`` does not apply).

    The dataset as uint8 N x H x W x C arrays (``info.image_shape``; read-only memmaps once cached)
    and int labels.

    Looks in ``data_dir`` then the Keras cache; with ``download=True`` fetches a missing copy
    (``progress(done, total)``, ``cancel`` an Event or callable). The first load writes a cache
    in the user cache folder that later loads map and verify in about 0.1 s; a damaged cache is
    rebuilt (with a logged warning). Labels are range-checked on every load.
    Raises DatasetNotFound, DatasetError (names the bad file) or DownloadCancelled.
    """
    if dataset_id not in DATASETS:  # a user dataset's name or an image folder / archive
        return open_spec(str(dataset_id), progress=progress, cancel=cancel).dataset
    info = get_info(dataset_id)
    if info.layout == "generated":
        return Dataset(info, *builtin_arrays())
    try:
        found = locate_dataset(dataset_id, data_dir)
    except DatasetNotFound:
        if not download:
            raise
        found = download_dataset(dataset_id, data_dir, progress=progress, cancel=cancel)
    if info.layout == "cifar":
        return _as_dataset(info, *_cached_read(_cifar_source(info, found), use_cache))
    arrays, _ = _cached_read(_plain_source(info, found), use_cache)
    return Dataset(info, arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"])


def dataset_available(dataset_id: str, data_dir=None) -> bool:
    """True when ``load_dataset`` would succeed without downloading (a folder or archive is there)."""
    if dataset_id not in DATASETS:
        return available(str(dataset_id))
    info = get_info(dataset_id)
    return info.layout == "generated" or dataset_location(dataset_id, data_dir) is not None


def dataset_summaries(data_dir=None) -> list[dict]:
    """One row per registered dataset for the CLI ``datasets`` command and the GUI's picker.

    Keys: id, title, classes, image_shape ([height, width, channels]), train_size, test_size,
    available, location (str or None).
    """
    rows = []
    for info in DATASETS.values():
        try:
            location = dataset_location(info.id, data_dir)
        except (OSError, DatasetError):
            location = None
        builtin = info.layout == "generated"
        rows.append({
            "id": info.id,
            "title": info.title,
            "classes": info.num_classes,
            "image_shape": list(info.image_shape),
            "train_size": info.train_size,
            "test_size": info.test_size,
            "available": builtin or location is not None,
            "location": "generated in code" if builtin else (str(location) if location else None),
        })
    return rows
