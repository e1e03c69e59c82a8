"""Reading the official CIFAR "python version" files into uint8 N x 32 x 32 x 3 arrays.

Rows are channel-planar (1024 red, 1024 green, 1024 blue bytes). The output is preallocated and
filled batch by batch, so peak memory is the result plus one batch and no float copy is ever made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.core.files import check_regular_file
from workbench.core.text import sanitize

from .errors import DatasetError
from .safe_pickle import load_pickle

ROW_BYTES = 3 * 32 * 32
# Official class names are single words under 40 characters; longer text from a meta file is cut.
MAX_CLASS_NAME_CHARS = 60

CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_FILES = CIFAR10_TRAIN_FILES + ("test_batch", "batches.meta")
CIFAR100_FILES = ("train", "test", "meta")


def required_files(folder_name: str) -> tuple[str, ...]:
    """The file names an extracted official folder must hold."""
    return CIFAR100_FILES if folder_name == "cifar-100-python" else CIFAR10_FILES


def label_limits(folder_name: str) -> dict[str, int]:
    """Class count of each label array that ``read_official_folder`` returns, for range checks."""
    if folder_name == "cifar-100-python":
        return {f"y_{split}_{kind}": n for split in ("train", "test")
                for kind, n in (("fine", 100), ("coarse", 20))}
    return {"y_train": 10, "y_test": 10}


def name_counts(folder_name: str) -> dict[str, int]:
    """How many class names each list from the meta file holds (keys as ``read_official_folder`` returns)."""
    if folder_name == "cifar-100-python":
        return {"fine": 100, "coarse": 20}
    return {"labels": 10}


def _kind(value) -> str:
    """'an int', 'a list': the type of a value from a file, for a sentence."""
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _labels(path: Path, batch: dict, key: bytes, n: int, num_classes: int) -> np.ndarray:
    """The int64 labels under ``key``, type- and length-checked before any conversion.

    Checking the element types first matters: a few KB of shared, nested lists would otherwise
    expand into gigabytes inside np.asarray.
    """
    name = key.decode()
    if key not in batch:
        raise DatasetError(f"{path} has no '{name}' entry.")
    raw = batch[key]
    if isinstance(raw, np.ndarray):
        if raw.ndim != 1 or not np.issubdtype(raw.dtype, np.integer):
            raise DatasetError(f"{path}: '{name}' is a {raw.dtype} array of shape {raw.shape}, "
                               "not a list of integer labels.")
    elif not isinstance(raw, (list, tuple)):
        raise DatasetError(f"{path}: '{name}' is {_kind(raw)}, not a list of integer labels.")
    if len(raw) != n:
        raise DatasetError(f"{path} has {n} images but {len(raw)} '{name}'.")
    if isinstance(raw, (list, tuple)) and not all(isinstance(v, (int, np.integer)) for v in raw):
        bad = next(v for v in raw if not isinstance(v, (int, np.integer)))
        raise DatasetError(f"{path}: '{name}' holds {_kind(bad)} where an integer label should be.")
    try:
        values = np.asarray(raw, dtype=np.int64).reshape(-1)
    except (OverflowError, TypeError, ValueError) as exc:
        raise DatasetError(f"{path}: '{name}' are not 64-bit integers ({exc}).") from exc
    check_label_range(values, num_classes, f"{path}: '{name}'")
    return values


def check_label_range(values: np.ndarray, num_classes: int, where: str) -> None:
    """Raise DatasetError unless every label is in 0..num_classes-1; ``where`` names the file."""
    if values.size and (values.min() < 0 or values.max() >= num_classes):
        raise DatasetError(
            f"{where} run from {values.min()} to {values.max()}, outside 0..{num_classes - 1}."
        )


def _batch_arrays(path: Path, label_keys: dict[bytes, int]) -> tuple[np.ndarray, dict[bytes, np.ndarray]]:
    """(data N x 3072 uint8, {label key: int64 labels}) from one batch file, validated."""
    batch = load_pickle(path)
    if not isinstance(batch, dict) or b"data" not in batch:
        raise DatasetError(f"{path} is not a CIFAR batch (no 'data' entry).")
    data = batch[b"data"]
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != ROW_BYTES:
        shape = getattr(data, "shape", type(data).__name__)
        raise DatasetError(f"{path} holds data of shape {shape}; expected N x {ROW_BYTES} bytes.")
    if data.dtype != np.uint8:
        raise DatasetError(f"{path} holds {data.dtype} pixels; expected uint8.")
    labels = {key: _labels(path, batch, key, data.shape[0], num_classes)
              for key, num_classes in label_keys.items()}
    return data, labels


def planar_into(out: np.ndarray, rows: np.ndarray) -> None:
    """Copy N x 3072 channel-planar rows into ``out`` (N x 32 x 32 x 3) without temporaries.

    One channel at a time: reads stay contiguous, which is about 3x faster than copying
    through a 4-d transpose view.
    """
    planes = rows.reshape(-1, 3, 1024)
    pixels = out.reshape(-1, 1024, 3)
    for channel in range(3):
        pixels[:, :, channel] = planes[:, channel, :]


def read_batches(paths: list[Path], label_keys: dict[bytes, int]) -> dict[str, np.ndarray]:
    """Images and labels of several batch files concatenated, filled into one preallocated array.

    Returns {"x": uint8 N x 32 x 32 x 3, label key as str: int64 labels}.
    """
    # File size bounds the image count (each row is 3072 raw bytes in the pickle); pages of the
    # unused tail are never touched, so the over-allocation costs no memory.
    capacity = sum(max(p.stat().st_size // ROW_BYTES, 1) for p in paths)
    x = np.empty((capacity, 32, 32, 3), dtype=np.uint8)
    ys = {key: np.empty(capacity, dtype=np.int64) for key in label_keys}
    pos = 0
    for path in paths:
        data, labels = _batch_arrays(path, label_keys)
        n = data.shape[0]
        if pos + n > capacity:  # cannot happen for real pickles; keep correct anyway
            raise DatasetError(f"{path} holds more images ({n}) than its size allows.")
        planar_into(x[pos:pos + n], data)
        for key, values in labels.items():
            ys[key][pos:pos + n] = values
        pos += n
        del data, labels
    out = {"x": x[:pos]}
    out.update({key.decode(): y[:pos] for key, y in ys.items()})
    return out


def clean_class_names(raw, expected: int, where: str) -> tuple[str, ...]:
    """``expected`` printable names from a meta file's list (bytes or str), or one DatasetError sentence.

    ``where`` names the file and entry, e.g. "/data/batches.meta: 'label_names'".
    """
    if not isinstance(raw, (list, tuple)):
        raise DatasetError(f"{where} is {_kind(raw)}, not a list of {expected} class names.")
    if len(raw) != expected:
        raise DatasetError(f"{where} lists {len(raw)} names; expected {expected}.")
    names = []
    for value in raw:
        if isinstance(value, bytes):
            value = value[:4 * MAX_CLASS_NAME_CHARS].decode("utf-8", errors="replace")
        elif not isinstance(value, str):
            raise DatasetError(f"{where} holds {_kind(value)} where a class name should be.")
        name = sanitize(value, MAX_CLASS_NAME_CHARS).strip()
        if not name:
            raise DatasetError(f"{where} holds an empty class name.")
        names.append(name)
    return tuple(names)


def _names(path: Path, key: bytes, expected: int) -> tuple[str, ...]:
    meta = load_pickle(path)
    if not isinstance(meta, dict) or key not in meta:
        raise DatasetError(f"{path} is not a CIFAR meta file (no '{key.decode()}' entry).")
    return clean_class_names(meta[key], expected, f"{path}: '{key.decode()}'")


def _require(folder: Path, names: tuple[str, ...]) -> None:
    missing = [n for n in names if not (folder / n).exists()]
    if missing:
        raise DatasetError(f"{folder} is missing {', '.join(missing)}.")
    for name in names:
        try:
            check_regular_file(folder / name, "CIFAR data file")
        except OSError as exc:
            raise DatasetError(f"{exc.strerror}; replace it with the file from the official archive.") from None


def read_cifar10(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, tuple[str, ...]]]:
    """Arrays {x_train, y_train, x_test, y_test} and {"labels": names} from cifar-10-batches-py/."""
    folder = Path(folder)
    _require(folder, CIFAR10_FILES)
    names = _names(folder / "batches.meta", b"label_names", 10)
    keys = {b"labels": 10}
    train = read_batches([folder / f for f in CIFAR10_TRAIN_FILES], keys)
    test = read_batches([folder / "test_batch"], keys)
    arrays = {"x_train": train["x"], "y_train": train["labels"],
              "x_test": test["x"], "y_test": test["labels"]}
    return arrays, {"labels": names}


def read_cifar100(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, tuple[str, ...]]]:
    """Arrays {x_train, y_train_fine, y_train_coarse, x_test, ...} and fine/coarse names."""
    folder = Path(folder)
    _require(folder, CIFAR100_FILES)
    fine = _names(folder / "meta", b"fine_label_names", 100)
    coarse = _names(folder / "meta", b"coarse_label_names", 20)
    keys = {b"fine_labels": 100, b"coarse_labels": 20}
    arrays = {}
    for split in ("train", "test"):
        part = read_batches([folder / split], keys)
        arrays[f"x_{split}"] = part["x"]
        arrays[f"y_{split}_fine"] = part["fine_labels"]
        arrays[f"y_{split}_coarse"] = part["coarse_labels"]
    return arrays, {"fine": fine, "coarse": coarse}


def read_official_folder(folder: Path, folder_name: str):
    """Dispatch on the official folder name: CIFAR-10 or CIFAR-100 layout."""
    if folder_name == "cifar-100-python":
        return read_cifar100(folder)
    return read_cifar10(folder)
