"""CIFAR-10, CIFAR-100, MNIST, Fashion-MNIST and a built-in synthetic set: registry, safe reading, locating,
download, cache.

Pure numpy/stdlib: importing this never loads TensorFlow or Qt.
"""

from .dataset import Dataset
from .download import MIRROR_ENV, download_dataset
from .errors import DatasetError, DatasetNotFound, DownloadCancelled, UnsafePickleError
from .loading import dataset_available, dataset_summaries, load_dataset
from .locate import dataset_location, locate_dataset, search_roots
from .registry import DATASETS, DatasetInfo, get_info
from .split import train_val_split

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "DatasetNotFound",
    "DownloadCancelled",
    "MIRROR_ENV",
    "UnsafePickleError",
    "dataset_available",
    "dataset_location",
    "dataset_summaries",
    "download_dataset",
    "get_info",
    "load_dataset",
    "locate_dataset",
    "search_roots",
    "train_val_split",
]
