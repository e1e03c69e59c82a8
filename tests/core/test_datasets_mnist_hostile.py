"""Damaged and crafted MNIST / Fashion-MNIST files: refused with one sentence naming the file, in bounded
memory, without running code."""

import gzip
import io
import os
import pickle
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

from tests.core.mnist_fixtures import IDX_NAMES, fake_arrays, idx_bytes, write_fashion_idx, write_mnist_npz
from workbench.core.datasets import DatasetError, load_dataset
from workbench.core.datasets.mnist_files import read_idx, read_mnist_npz


@pytest.fixture(autouse=True)
def homes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))


def _one_sentence(exc, path):
    text = str(exc)
    assert str(path) in text and "\n" not in text and text.endswith(".") and "Traceback" not in text


def _npy(shape, dtype="|u1", fortran=False) -> bytes:
    """A .npy header (version 1.0) for ``shape``, without data."""
    header = repr({"descr": dtype, "fortran_order": fortran, "shape": tuple(shape)}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def _npz(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _good_members(**replace):
    members = {}
    for key, value in fake_arrays().items():
        buffer = io.BytesIO()
        np.save(buffer, value)
        members[f"{key}.npy"] = buffer.getvalue()
    members.update(replace)
    return members


def _peak_mb(fn):
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError) as info:
            fn()
        return tracemalloc.get_traced_memory()[1] / 1e6, info.value
    finally:
        tracemalloc.stop()


# --- mnist.npz -----------------------------------------------------------------------------------------

def test_truncated_npz_is_refused(tmp_path):
    good = write_mnist_npz(tmp_path / "good.npz").path.read_bytes()
    for cut in (len(good) // 2, len(good) - 30, 100):
        path = tmp_path / f"cut{cut}.npz"
        path.write_bytes(good[:cut])
        with pytest.raises(DatasetError) as info:
            load_dataset("mnist", path)
        _one_sentence(info.value, path)


def test_corrupted_member_data_is_refused(tmp_path):
    good = bytearray(write_mnist_npz(tmp_path / "good.npz", n_train=300).path.read_bytes())
    middle = len(good) // 3  # inside x_train's compressed pixels; the zip directory stays intact
    good[middle:middle + 64] = bytes(64)
    path = tmp_path / "mnist.npz"
    path.write_bytes(bytes(good))
    with pytest.raises(DatasetError, match="is damaged or not an .npz file") as info:
        load_dataset("mnist", tmp_path)
    _one_sentence(info.value, path)


def test_garbage_and_empty_npz_are_refused(tmp_path):
    for name, data in (("garbage.npz", os.urandom(5000)), ("empty.npz", b"")):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(DatasetError, match="not an .npz file") as info:
            read_mnist_npz(path, 10)
        _one_sentence(info.value, path)


def test_pickled_object_array_is_refused_without_running_code(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    buffer = io.BytesIO()
    np.save(buffer, np.array([Exploit()] * 3, dtype=object), allow_pickle=True)
    path = _npz(tmp_path / "mnist.npz", _good_members(**{"y_train.npy": buffer.getvalue()}))
    with pytest.raises(DatasetError, match="object values in 'y_train' where MNIST has integers") as info:
        load_dataset("mnist", path)
    _one_sentence(info.value, path)
    assert not marker.exists()


@pytest.mark.parametrize("member, header, words", [
    ("x_train.npy", _npy((10**9, 28, 28)), "declares 1,000,000,000 entries in 'x_train'"),
    ("x_train.npy", _npy((30, 28, 28)) + b"\0" * 100, "declares 23,520 bytes of data in 'x_train' but holds 100"),
    ("x_train.npy", _npy((30, 32, 32, 3)), "where MNIST has uint8 N x 28 x 28 images"),
    ("x_train.npy", _npy((30, 28, 28), "<f4"), "float32 values in 'x_train'"),
    ("x_train.npy", _npy((30, 28, 28), fortran=True), "column-major"),
    ("y_test.npy", _npy((12, 2), "<i8"), "where MNIST has one integer label per image"),
    ("y_test.npy", b"not a numpy file at all", "is damaged or not an .npz file"),
])
def test_crafted_npy_headers_are_refused_before_allocating(tmp_path, member, header, words):
    path = _npz(tmp_path / "mnist.npz", _good_members(**{member: header}))
    peak, error = _peak_mb(lambda: read_mnist_npz(path, 10))
    assert words in str(error)
    _one_sentence(error, path)
    assert peak < 5


def test_npz_bomb_costs_bounded_memory(tmp_path):
    # x_train.npy: a correct header for 30 images, then 300 MB of zeros (about 300 KB compressed).
    path = tmp_path / "mnist.npz"
    members = _good_members()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            if name != "x_train.npy":
                zf.writestr(name, data)
        with zf.open("x_train.npy", "w", force_zip64=True) as f:
            f.write(_npy((30, 28, 28)))
            block = bytes(1 << 20)
            for _ in range(300):
                f.write(block)
    assert path.stat().st_size < 2_000_000
    peak, error = _peak_mb(lambda: read_mnist_npz(path, 10))
    assert "declares 23,520 bytes of data in 'x_train' but holds 314,572,800" in str(error)
    assert peak < 5


def test_npz_missing_duplicated_or_crowded_members_are_refused(tmp_path):
    members = _good_members()
    del members["y_test.npy"]
    with pytest.raises(DatasetError, match="has no array 'y_test'"):
        read_mnist_npz(_npz(tmp_path / "a.npz", members), 10)
    with zipfile.ZipFile(tmp_path / "twice.npz", "w") as zf, pytest.warns(UserWarning, match="Duplicate"):
        for name, data in [*_good_members().items(), ("x_test.npy", _good_members()["x_test.npy"])]:
            zf.writestr(name, data)
    with pytest.raises(DatasetError, match="holds the array 'x_test' twice"):
        read_mnist_npz(tmp_path / "twice.npz", 10)
    crowded = _good_members(**{f"extra{i}.npy": b"" for i in range(20)})
    with pytest.raises(DatasetError, match="holds 24 entries where mnist.npz holds 4"):
        read_mnist_npz(_npz(tmp_path / "b.npz", crowded), 10)


def test_npz_label_range_and_counts_are_checked(tmp_path):
    bad = write_mnist_npz(tmp_path / "labels.npz", y_test=np.full(12, 10, np.uint8)).path
    with pytest.raises(DatasetError, match=r"test labels run from 10 to 10, outside 0\.\.9") as info:
        load_dataset("mnist", bad)
    _one_sentence(info.value, bad)
    short = write_mnist_npz(tmp_path / "count.npz", y_train=np.zeros(29, np.uint8)).path
    with pytest.raises(DatasetError, match="has 30 train images but 29 labels; replace it"):
        load_dataset("mnist", short)


def test_fifo_named_mnist_npz_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "mnist.npz"
    os.mkfifo(fifo)
    with pytest.raises(DatasetError, match="not a regular file") as info:
        load_dataset("mnist", tmp_path)
    _one_sentence(info.value, fifo)


# --- Fashion-MNIST IDX files -----------------------------------------------------------------------------

def _idx_file(tmp_path, raw: bytes, name=IDX_NAMES["x_train"]):
    path = tmp_path / name
    path.write_bytes(gzip.compress(raw))
    return path


@pytest.mark.parametrize("raw, words", [
    (b"\0\0\x08\x01" + struct.pack(">I", 5) + bytes(5), "does not start like an IDX file of images"),
    (b"\0\0\x0d\x03" + struct.pack(">3I", 5, 28, 28), "magic 00000d03"),
    (b"\0\0\x08\x03" + struct.pack(">3I", 5, 32, 32), "holds images of shape (32, 32), not (28, 28)"),
    (b"\0\0\x08\x03" + struct.pack(">3I", 2**32 - 1, 28, 28), "declares 4,294,967,295 images"),
    (b"\0\0\x08\x03" + struct.pack(">3I", 5, 28, 28) + bytes(100), "is cut short"),
    (b"\0\0\x08\x03" + struct.pack(">3I", 1, 28, 28) + bytes(785), "holds more data than the 1 images"),
    (b"\0\0\x08", "ends after 3 of the 4 header bytes"),
])
def test_crafted_idx_headers_are_refused(tmp_path, raw, words):
    path = _idx_file(tmp_path, raw)
    peak, error = _peak_mb(lambda: read_idx(path, (28, 28)))
    assert words in str(error)
    _one_sentence(error, path)
    assert peak < 5


def test_corrupt_and_truncated_gzip_are_refused(tmp_path):
    fake = write_fashion_idx(tmp_path / "f")
    images = fake.path / IDX_NAMES["x_train"]
    good = images.read_bytes()
    for data in (good[: len(good) // 2], os.urandom(3000), b"", good[:10] + bytes(200) + good[210:]):
        images.write_bytes(data)
        with pytest.raises(DatasetError) as info:
            load_dataset("fashion_mnist", fake.path)
        _one_sentence(info.value, images)


def test_gzip_bomb_costs_bounded_memory(tmp_path):
    # A header for 30 images followed by 500 MB of zeros: 0.5 MB on disk.
    path = tmp_path / IDX_NAMES["x_train"]
    with gzip.open(path, "wb") as f:
        f.write(b"\0\0\x08\x03" + struct.pack(">3I", 30, 28, 28))
        block = bytes(1 << 20)
        for _ in range(500):
            f.write(block)
    peak, error = _peak_mb(lambda: read_idx(path, (28, 28)))
    assert "holds more data than the 30 images" in str(error)
    assert peak < 5


def test_idx_labels_range_and_count_mismatch(tmp_path):
    fake = write_fashion_idx(tmp_path / "f")
    labels = fake.path / IDX_NAMES["y_test"]
    labels.write_bytes(gzip.compress(idx_bytes(np.full(12, 11, np.uint8))))
    with pytest.raises(DatasetError, match=r"run from 11 to 11, outside 0\.\.9") as info:
        load_dataset("fashion_mnist", fake.path)
    _one_sentence(info.value, labels)
    labels.write_bytes(gzip.compress(idx_bytes(np.zeros(11, np.uint8))))
    with pytest.raises(DatasetError, match="holds 12 images but t10k-labels-idx1-ubyte.gz holds 11 labels"):
        load_dataset("fashion_mnist", fake.path)


def test_refused_file_leaves_no_cache(tmp_path):
    fake = write_fashion_idx(tmp_path / "f")
    (fake.path / IDX_NAMES["x_test"]).write_bytes(zlib.compress(b"not gzip"))
    with pytest.raises(DatasetError):
        load_dataset("fashion_mnist", fake.path)
    assert not (tmp_path / "cache" / "datasets").exists()
