"""Small fake CIFAR datasets written in the official "python version" format, for tests.

The files match the real ones byte for byte in structure: Python-2 style protocol-2 pickles
(byte strings as BINSTRING, numpy's array rebuilt via ``numpy.core.multiarray._reconstruct``) of
dicts with bytes keys, ``data`` as an N x 3072 uint8 array of channel-planar rows (R plane,
G plane, B plane), labels as lists of ints.
Import from any test::

    from tests.core.cifar_fixtures import write_cifar10, make_archive
    fake = write_cifar10(tmp_path, n_train_per_batch=20, n_test=30)
    load_dataset("cifar10", fake.folder.parent)
"""

from __future__ import annotations

import hashlib
import io
import pickle
import struct
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.core.datasets.registry import (
    CIFAR10_CLASSES,
    CIFAR100_COARSE_CLASSES,
    CIFAR100_FINE_CLASSES,
)


@dataclass(frozen=True)
class FakeCifar:
    """Where the fake dataset was written and the arrays a correct reader must return."""

    folder: Path  # the official folder (cifar-10-batches-py/ or cifar-100-python/)
    x_train: np.ndarray  # uint8 N x 32 x 32 x 3
    y_train: np.ndarray  # int64; fine labels for CIFAR-100
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    y_train_coarse: np.ndarray | None = None
    y_test_coarse: np.ndarray | None = None
    coarse_names: tuple[str, ...] | None = None

    @property
    def root(self) -> Path:
        """The folder holding ``folder``: what load_dataset's data_dir expects."""
        return self.folder.parent


def _images(rng: np.random.Generator, labels: np.ndarray, num_classes: int, separable: bool):
    n = labels.shape[0]
    if not separable:
        return rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    # One fixed colour per class plus mild noise: a tiny model can learn it in a few steps.
    palette = np.random.default_rng(1234).integers(0, 256, (num_classes, 3))
    noise = rng.integers(-20, 21, (n, 32, 32, 3))
    return np.clip(palette[labels][:, None, None, :] + noise, 0, 255).astype(np.uint8)


def to_planar_rows(images: np.ndarray) -> np.ndarray:
    """N x 32 x 32 x 3 images as the official N x 3072 channel-planar rows."""
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(len(images), 3072)


class Py2StylePickler(pickle._Pickler):
    """Writes protocol 2 as Python 2's cPickle did for these files.

    Python 3 would store bytes as ``_codecs.encode(text, "latin1")``, which loads ten times slower
    than the real files' raw BINSTRING and names a different global; the pure-Python pickler lets
    us emit the original opcodes.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def save_bytes_py2(self, obj: bytes) -> None:
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes_py2

    def save_global(self, obj, name=None):
        if getattr(obj, "__name__", None) == "_reconstruct":
            # The real files predate numpy 2's move of numpy.core to numpy._core.
            self.write(pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n")
            self.memoize(obj)
            return
        super().save_global(obj, name)


def dump_py2_pickle(obj, path) -> None:
    """Write ``obj`` to ``path`` the way the official CIFAR files were written."""
    with open(path, "wb") as f:
        Py2StylePickler(f, protocol=2).dump(obj)


def _dump(path: Path, obj) -> None:
    dump_py2_pickle(obj, path)


def write_cifar10(root, n_train_per_batch: int = 20, n_test: int = 20, seed: int = 0,
                  separable: bool = False, label_names=CIFAR10_CLASSES) -> FakeCifar:
    """Write ``root/cifar-10-batches-py/`` (data_batch_1..5, test_batch, batches.meta)."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    n_train = 5 * n_train_per_batch
    y_train = rng.integers(0, 10, n_train).astype(np.int64)
    y_test = rng.integers(0, 10, n_test).astype(np.int64)
    x_train = _images(rng, y_train, 10, separable)
    x_test = _images(rng, y_test, 10, separable)
    batches = [(f"data_batch_{i + 1}", slice(i * n_train_per_batch, (i + 1) * n_train_per_batch))
               for i in range(5)]
    for name, rows in batches:
        _write_batch10(folder / name, name, x_train[rows], y_train[rows])
    _write_batch10(folder / "test_batch", "test_batch", x_test, y_test)
    _dump(folder / "batches.meta", {
        b"num_cases_per_batch": n_train_per_batch,
        b"label_names": [n.encode() for n in label_names],
        b"num_vis": 3072,
    })
    return FakeCifar(folder, x_train, y_train, x_test, y_test, tuple(label_names))


def _write_batch10(path: Path, name: str, x: np.ndarray, y: np.ndarray) -> None:
    _dump(path, {
        b"batch_label": f"{name} of 5 (fake)".encode(),
        b"labels": [int(v) for v in y],
        b"data": to_planar_rows(x),
        b"filenames": [f"img_{i:05d}.png".encode() for i in range(len(y))],
    })


def write_cifar100(root, n_train: int = 50, n_test: int = 20, seed: int = 0,
                   separable: bool = False) -> FakeCifar:
    """Write ``root/cifar-100-python/`` (train, test, meta with fine and coarse labels)."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-100-python"
    folder.mkdir(parents=True, exist_ok=True)
    fine = {s: rng.integers(0, 100, n).astype(np.int64) for s, n in (("train", n_train), ("test", n_test))}
    coarse = {s: (v // 5).astype(np.int64) for s, v in fine.items()}  # any consistent mapping will do
    images = {s: _images(rng, v, 100, separable) for s, v in fine.items()}
    for split in ("train", "test"):
        _dump(folder / split, {
            b"filenames": [f"img_{i:05d}.png".encode() for i in range(len(fine[split]))],
            b"batch_label": f"{split}ing batch 1 of 1".encode(),
            b"fine_labels": [int(v) for v in fine[split]],
            b"coarse_labels": [int(v) for v in coarse[split]],
            b"data": to_planar_rows(images[split]),
        })
    _dump(folder / "meta", {
        b"fine_label_names": [n.encode() for n in CIFAR100_FINE_CLASSES],
        b"coarse_label_names": [n.encode() for n in CIFAR100_COARSE_CLASSES],
    })
    return FakeCifar(folder, images["train"], fine["train"], images["test"], fine["test"],
                     CIFAR100_FINE_CLASSES, coarse["train"], coarse["test"], CIFAR100_COARSE_CLASSES)


def make_archive(folder, archive_path) -> Path:
    """Pack ``folder`` into a .tar.gz with the folder as its top entry, as the official archives are."""
    folder, archive_path = Path(folder), Path(archive_path)
    archive_path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive_path, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return archive_path


def file_md5(path) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


class _Exploit:
    """Pickles to ``func(arg)``: what a malicious dataset file would carry."""

    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return (self.func, (self.arg,))


def write_malicious_pickle(path, func, arg) -> Path:
    """Write a batch-like pickle whose loading would call ``func(arg)`` (e.g. os.system, eval)."""
    path = Path(path)
    buffer = io.BytesIO()
    pickle.dump({b"data": _Exploit(func, arg), b"labels": [0]}, buffer, protocol=2)
    path.write_bytes(buffer.getvalue())
    return path
