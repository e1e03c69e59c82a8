"""CIFAR-10, CIFAR-100, MNIST, Fashion-MNIST, a built-in synthetic set and the user's own image
collections (by name or path): registry, safe reading, locating,
download, cache.

Pure numpy/stdlib: importing this never loads TensorFlow or Qt.
"""

from .dataset import Dataset
from .download import MIRROR_ENV, download_dataset
from .errors import DatasetError, DatasetNotFound, DownloadCancelled, UnsafePickleError
from .loading import dataset_available, dataset_summaries, load_dataset
from .locate import dataset_location, locate_dataset, search_roots
from .registry import DATASETS, DatasetInfo
from .resolve import DatasetChoice, get_info, known_info, selectable_datasets
from .split import train_val_split
from .user_datasets import (UserDataset, add_user_dataset, find_user_dataset, read_registry, remove_user_dataset,
                            user_datasets)

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetChoice",
    "DatasetError",
    "DatasetInfo",
    "DatasetNotFound",
    "DownloadCancelled",
    "MIRROR_ENV",
    "UnsafePickleError",
    "UserDataset",
    "add_user_dataset",
    "dataset_available",
    "dataset_location",
    "dataset_summaries",
    "download_dataset",
    "find_user_dataset",
    "get_info",
    "known_info",
    "load_dataset",
    "locate_dataset",
    "read_registry",
    "remove_user_dataset",
    "search_roots",
    "selectable_datasets",
    "train_val_split",
    "user_datasets",
]
