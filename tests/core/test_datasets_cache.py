"""The .npy reload cache: identical data, memory-mapped, rebuilt when the source changes."""

import json
import os

import numpy as np
import pytest

from tests.core.cifar_fixtures import write_cifar10
from workbench.core.datasets import load_dataset
from workbench.core.datasets.cache import cache_dirs


@pytest.fixture(autouse=True)
def isolated_homes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "workbench"))


def test_reload_is_identical_and_memory_mapped(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=6, n_test=4)
    first = load_dataset("cifar10", tmp_path)
    cache = tmp_path / "workbench-cache" / "cifar-10-batches-py"
    assert (cache / "key.json").is_file() and (cache / "x_train.npy").is_file()
    second = load_dataset("cifar10", tmp_path)
    assert isinstance(second.x_train, np.memmap) and not second.x_train.flags.writeable
    for name in ("x_train", "y_train", "x_test", "y_test"):
        assert np.array_equal(getattr(first, name), getattr(second, name))
    assert np.array_equal(second.x_train, fake.x_train)
    assert second.class_names == first.class_names


def test_cache_invalidated_when_source_changes(tmp_path):
    write_cifar10(tmp_path, n_train_per_batch=6, n_test=4, seed=1)
    load_dataset("cifar10", tmp_path)
    newer = write_cifar10(tmp_path, n_train_per_batch=6, n_test=5, seed=2)
    ds = load_dataset("cifar10", tmp_path)
    assert np.array_equal(ds.x_test, newer.x_test) and np.array_equal(ds.y_train, newer.y_train)


def test_cache_invalidated_by_mtime_alone(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=3, n_test=4, seed=1)
    load_dataset("cifar10", tmp_path)
    # Same size, different bytes: only the mtime tells the cache it is stale.
    other = write_cifar10(tmp_path / "other", n_train_per_batch=3, n_test=4, seed=9)
    target = fake.folder / "test_batch"
    target.write_bytes((other.folder / "test_batch").read_bytes())
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert np.array_equal(load_dataset("cifar10", tmp_path).x_test, other.x_test)


def test_corrupt_cache_is_rebuilt(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=3, n_test=4)
    load_dataset("cifar10", tmp_path)
    cache = tmp_path / "workbench-cache" / "cifar-10-batches-py"
    (cache / "x_test.npy").write_bytes(b"garbage")
    assert np.array_equal(load_dataset("cifar10", tmp_path).x_test, fake.x_test)
    assert np.array_equal(load_dataset("cifar10", tmp_path).x_test, fake.x_test)


def test_cache_key_has_format_version(tmp_path):
    write_cifar10(tmp_path, n_train_per_batch=3, n_test=4)
    load_dataset("cifar10", tmp_path)
    record = json.loads((tmp_path / "workbench-cache" / "cifar-10-batches-py" / "key.json").read_text())
    assert record["key"]["format"] >= 1 and len(record["key"]["files"]) == 7


def test_read_only_data_folder_caches_in_workbench_home(tmp_path):
    data = tmp_path / "ro"
    fake = write_cifar10(data, n_train_per_batch=3, n_test=4)
    data.chmod(0o555)
    try:
        load_dataset("cifar10", data)
        ds = load_dataset("cifar10", data)
    finally:
        data.chmod(0o755)
    assert isinstance(ds.x_train, np.memmap)
    assert np.array_equal(ds.x_train, fake.x_train)
    assert not (data / "workbench-cache").exists()
    fallback = cache_dirs(fake.folder)[1]
    assert fallback.is_relative_to(tmp_path / "workbench" / "cache") and (fallback / "key.json").exists()


def test_first_load_already_hands_out_the_memory_mapped_cache(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=3, n_test=4)
    ds = load_dataset("cifar10", tmp_path)
    assert isinstance(ds.x_train, np.memmap) and np.array_equal(ds.x_train, fake.x_train)


def test_cache_with_mismatched_lengths_is_ignored(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=3, n_test=4)
    load_dataset("cifar10", tmp_path)
    cache = tmp_path / "workbench-cache" / "cifar-10-batches-py"
    np.save(cache / "y_test.npy", np.zeros(2, np.int64))
    ds = load_dataset("cifar10", tmp_path)
    assert np.array_equal(ds.y_test, fake.y_test)


def test_no_cache_mode_writes_nothing(tmp_path):
    write_cifar10(tmp_path, n_train_per_batch=3, n_test=4)
    ds = load_dataset("cifar10", tmp_path, use_cache=False)
    assert not isinstance(ds.x_train, np.memmap)
    assert not (tmp_path / "workbench-cache").exists()
