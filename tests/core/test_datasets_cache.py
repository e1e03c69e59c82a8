"""The .npy reload cache: identical data, memory-mapped, in the user cache folder, verified, rebuilt."""

import json
import logging
import os

import numpy as np
import pytest

from tests.core.cifar_fixtures import write_cifar10, write_cifar100
from workbench.core.datasets import load_dataset
from workbench.core.datasets.cache import RECORD_FILE, cache_dir


@pytest.fixture(autouse=True)
def isolated_homes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "workbench"))
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))


def _files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_reload_is_identical_and_memory_mapped(tmp_path):
    fake = write_cifar10(tmp_path / "data", n_train_per_batch=6, n_test=4)
    first = load_dataset("cifar10", fake.root)
    cache = cache_dir(fake.folder)
    assert (cache / RECORD_FILE).is_file() and (cache / "x_train.npy").is_file()
    second = load_dataset("cifar10", fake.root)
    assert isinstance(second.x_train, np.memmap) and not second.x_train.flags.writeable
    for name in ("x_train", "y_train", "x_test", "y_test"):
        assert np.array_equal(getattr(first, name), getattr(second, name))
    assert np.array_equal(second.x_train, fake.x_train)
    assert second.class_names == first.class_names


def test_cache_lives_in_the_user_cache_folder_and_never_beside_the_data(tmp_path):
    fake = write_cifar10(tmp_path / "data", n_train_per_batch=3, n_test=4)
    before = _files_under(tmp_path / "data")
    load_dataset("cifar10", fake.root)
    load_dataset("cifar10", fake.root)
    assert _files_under(tmp_path / "data") == before
    assert cache_dir(fake.folder).is_relative_to(tmp_path / "cache" / "datasets")
    assert (cache_dir(fake.folder) / "x_test.npy").is_file()


def test_two_data_folders_never_share_a_cache(tmp_path):
    # Same folder name, different places, different contents.
    a = write_cifar10(tmp_path / "a", n_train_per_batch=3, n_test=4, seed=1)
    b = write_cifar10(tmp_path / "b", n_train_per_batch=3, n_test=4, seed=2)
    assert cache_dir(a.folder) != cache_dir(b.folder)
    load_dataset("cifar10", a.root)
    load_dataset("cifar10", b.root)
    assert np.array_equal(load_dataset("cifar10", a.root).x_test, a.x_test)
    assert np.array_equal(load_dataset("cifar10", b.root).x_test, b.x_test)


def test_xdg_cache_home_is_used_without_workbench_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    fake = write_cifar10(tmp_path / "data", n_train_per_batch=2, n_test=2)
    load_dataset("cifar10", fake.root)
    assert list((tmp_path / "xdg" / "cifar-workbench" / "datasets").glob("cifar-10-batches-py-*/" + RECORD_FILE))


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


def test_garbage_cache_file_is_rebuilt(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=3, n_test=4)
    load_dataset("cifar10", tmp_path)
    (cache_dir(fake.folder) / "x_test.npy").write_bytes(b"garbage")
    assert np.array_equal(load_dataset("cifar10", tmp_path).x_test, fake.x_test)
    assert np.array_equal(load_dataset("cifar10", tmp_path).x_test, fake.x_test)


def _overwrite_labels(path, values):
    """Change labels in place keeping shape, dtype and mtime order: what a stray write or bad disk does."""
    labels = np.load(path, mmap_mode="r+")
    labels[:] = values
    labels.flush()
    del labels


def test_overwritten_labels_in_cache_are_detected_and_rebuilt_once(tmp_path, caplog):
    fake = write_cifar10(tmp_path, n_train_per_batch=3, n_test=8)
    load_dataset("cifar10", tmp_path)
    y_path = cache_dir(fake.folder) / "y_test.npy"
    _overwrite_labels(y_path, (fake.y_test + 1) % 10)  # still in range: only the checksum can tell
    with caplog.at_level(logging.WARNING, logger="workbench.core.datasets"):
        ds = load_dataset("cifar10", tmp_path)
        again = load_dataset("cifar10", tmp_path)
    assert np.array_equal(ds.y_test, fake.y_test) and np.array_equal(again.y_test, fake.y_test)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings  # said once; the rebuilt cache is trusted afterwards
    assert "y_test.npy" in warnings[0] and "rebuilding" in warnings[0] and "\n" not in warnings[0]


def test_out_of_range_labels_in_cache_are_never_handed_out(tmp_path, caplog, monkeypatch):
    fake = write_cifar10(tmp_path, n_train_per_batch=3, n_test=8)
    load_dataset("cifar10", tmp_path)
    folder = cache_dir(fake.folder)
    bad = fake.y_test.copy()
    bad[0] = 99
    _overwrite_labels(folder / "y_test.npy", bad)
    # Forge the checksum too, so that only the range check stands between the user and label 99.
    from workbench.core.datasets.cache import array_crc32
    record = json.loads((folder / RECORD_FILE).read_text())
    record["arrays"]["y_test"]["crc32"] = array_crc32(np.load(folder / "y_test.npy"))
    (folder / RECORD_FILE).write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING, logger="workbench.core.datasets"):
        ds = load_dataset("cifar10", tmp_path)
    assert int(ds.y_test.max()) <= 9 and np.array_equal(ds.y_test, fake.y_test)
    assert any("y_test.npy" in r.getMessage() and "outside 0..9" in r.getMessage() for r in caplog.records)


def test_tampered_class_names_in_cache_are_checked(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=3, n_test=4)
    load_dataset("cifar10", tmp_path)
    record_path = cache_dir(fake.folder) / RECORD_FILE
    record = json.loads(record_path.read_text())
    record["names"]["labels"] = ["\x1b[31mred"] + record["names"]["labels"][1:]
    record_path.write_text(json.dumps(record))
    ds = load_dataset("cifar10", tmp_path)
    assert ds.class_names[0] == "red"
    record["names"]["labels"] = 7
    record_path.write_text(json.dumps(record))
    assert load_dataset("cifar10", tmp_path).class_names == fake.class_names  # rebuilt from source


def test_cifar100_cache_is_verified_for_both_label_sets(tmp_path):
    fake = write_cifar100(tmp_path, n_train=10, n_test=6)
    load_dataset("cifar100", tmp_path)
    _overwrite_labels(cache_dir(fake.folder) / "y_test_coarse.npy", (fake.y_test_coarse + 1) % 20)
    assert np.array_equal(load_dataset("cifar100-coarse", tmp_path).y_test, fake.y_test_coarse)


def test_cache_record_has_format_version_and_checksums(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=3, n_test=4)
    load_dataset("cifar10", tmp_path)
    record = json.loads((cache_dir(fake.folder) / RECORD_FILE).read_text())
    assert record["key"]["format"] >= 2 and len(record["key"]["files"]) == 7
    assert set(record["arrays"]) == {"x_train", "y_train", "x_test", "y_test"}
    assert all(isinstance(a["crc32"], int) for a in record["arrays"].values())


def test_read_only_data_folder_is_cached_and_left_untouched(tmp_path):
    data = tmp_path / "ro"
    fake = write_cifar10(data, n_train_per_batch=3, n_test=4)
    before = _files_under(data)
    data.chmod(0o555)
    fake.folder.chmod(0o555)
    try:
        load_dataset("cifar10", data)
        ds = load_dataset("cifar10", data)
    finally:
        fake.folder.chmod(0o755)
        data.chmod(0o755)
    assert isinstance(ds.x_train, np.memmap)
    assert np.array_equal(ds.x_train, fake.x_train)
    assert _files_under(data) == before


def test_unwritable_cache_folder_still_loads(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("WORKBENCH_CACHE", str(blocker / "cache"))
    fake = write_cifar10(tmp_path / "data", n_train_per_batch=2, n_test=3)
    ds = load_dataset("cifar10", fake.root)
    assert np.array_equal(ds.x_test, fake.x_test)


def test_first_load_already_hands_out_the_memory_mapped_cache(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=3, n_test=4)
    ds = load_dataset("cifar10", tmp_path)
    assert isinstance(ds.x_train, np.memmap) and np.array_equal(ds.x_train, fake.x_train)


def test_cache_with_mismatched_lengths_is_ignored(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=3, n_test=4)
    load_dataset("cifar10", tmp_path)
    np.save(cache_dir(fake.folder) / "y_test.npy", np.zeros(2, np.int64))
    ds = load_dataset("cifar10", tmp_path)
    assert np.array_equal(ds.y_test, fake.y_test)


def test_no_cache_mode_writes_nothing(tmp_path):
    fake = write_cifar10(tmp_path / "data", n_train_per_batch=3, n_test=4)
    ds = load_dataset("cifar10", fake.root, use_cache=False)
    assert not isinstance(ds.x_train, np.memmap)
    assert not (tmp_path / "cache").exists()
