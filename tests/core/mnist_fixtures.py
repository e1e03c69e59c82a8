"""Small fake MNIST / Fashion-MNIST files in the official formats, for tests.

``mnist.npz`` as keras.datasets reads it (a zip of x_train.npy, y_train.npy, x_test.npy,
y_test.npy: uint8 N x 28 x 28 images and uint8 labels), and the four gzipped IDX files of
Fashion-MNIST (big-endian header: magic 0x00000803 / 0x00000801, then the dimensions).
"""

from __future__ import annotations

import gzip
import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IDX_NAMES = {
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_train": "train-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
}


@dataclass(frozen=True)
class FakeMnist:
    """Where the files were written and the arrays a correct reader returns (images N x 28 x 28)."""

    path: Path  # mnist.npz, or the folder holding the four .gz files
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def fake_arrays(n_train: int = 30, n_test: int = 12, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }


def write_mnist_npz(path, n_train: int = 30, n_test: int = 12, seed: int = 0, **overrides) -> FakeMnist:
    """Write ``path`` (e.g. KERAS_HOME/datasets/mnist.npz) as np.savez_compressed, as Keras' file is."""
    arrays = {**fake_arrays(n_train, n_test, seed), **overrides}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    return FakeMnist(path, **{k: arrays[k] for k in ("x_train", "y_train", "x_test", "y_test")})


def idx_bytes(array: np.ndarray, magic_type: int = 0x08) -> bytes:
    """The raw (uncompressed) IDX encoding of a uint8 array."""
    header = bytes([0, 0, magic_type, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_fashion_idx(folder, n_train: int = 30, n_test: int = 12, seed: int = 1) -> FakeMnist:
    """Write the four gzipped IDX files into ``folder`` (e.g. KERAS_HOME/datasets/fashion-mnist)."""
    arrays = fake_arrays(n_train, n_test, seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for key, name in IDX_NAMES.items():
        (folder / name).write_bytes(gzip.compress(idx_bytes(arrays[key])))
    return FakeMnist(folder, **arrays)


def sha256_of(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
