"""Finding data: explicit dirs, the Keras cache via $KERAS_HOME, archives unpacked atomically."""

import os
import tarfile

import numpy as np
import pytest

from tests.core.cifar_fixtures import make_archive, write_cifar10, write_cifar100
from workbench.core.datasets import (
    DatasetError,
    DatasetNotFound,
    dataset_available,
    dataset_summaries,
    load_dataset,
    locate_dataset,
)


@pytest.fixture
def homes(tmp_path, monkeypatch):
    keras = tmp_path / "keras"
    monkeypatch.setenv("KERAS_HOME", str(keras))
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "workbench"))
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    return keras / "datasets"


def test_offline_without_data_names_folders_and_files(homes, tmp_path):
    with pytest.raises(DatasetNotFound) as info:
        load_dataset("cifar10", tmp_path / "mydata")
    message = str(info.value)
    assert str(tmp_path / "mydata") in message and str(homes) in message
    assert "cifar-10-batches-py/" in message and "cifar-10-python.tar.gz" in message
    assert "\n" not in message
    with pytest.raises(DatasetNotFound, match="cifar-100-python.tar.gz"):
        locate_dataset("cifar100-coarse")


def test_keras_cache_folder_is_found_via_keras_home(homes):
    fake = write_cifar10(homes, n_train_per_batch=2, n_test=3)
    assert dataset_available("cifar10")
    assert locate_dataset("cifar10") == fake.folder
    ds = load_dataset("cifar10")
    assert np.array_equal(ds.x_test, fake.x_test)


def test_keras3_layout_is_found(homes):
    fake = write_cifar10(homes / "cifar-10-batches-py-target", n_train_per_batch=2, n_test=3)
    assert locate_dataset("cifar10") == fake.folder


@pytest.mark.parametrize("archive_name", [
    "cifar-10-python.tar.gz",  # official
    "cifar-10-batches-py.tar.gz",  # Keras 2
    "cifar-10-batches-py-target_archive",  # Keras 3
])
def test_keras_cache_archive_is_extracted_atomically(homes, tmp_path, archive_name):
    fake = write_cifar10(tmp_path / "src", n_train_per_batch=2, n_test=3)
    make_archive(fake.folder, homes / archive_name)
    assert dataset_available("cifar10")
    folder = locate_dataset("cifar10")
    assert folder == homes / "cifar-10-batches-py"
    ds = load_dataset("cifar10")
    assert np.array_equal(ds.x_train, fake.x_train)
    leftovers = [p.name for p in homes.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_explicit_dir_beats_keras_cache(homes, tmp_path):
    write_cifar10(homes, n_train_per_batch=2, n_test=3, seed=1)
    mine = write_cifar10(tmp_path / "mine", n_train_per_batch=2, n_test=3, seed=2)
    assert locate_dataset("cifar10", tmp_path / "mine") == mine.folder
    ds = load_dataset("cifar10", tmp_path / "mine")
    assert np.array_equal(ds.x_train, mine.x_train)


def test_data_dir_may_be_the_folder_itself_or_an_archive(homes, tmp_path):
    fake = write_cifar100(tmp_path / "a", n_train=6, n_test=4)
    assert locate_dataset("cifar100", fake.folder) == fake.folder
    archive = make_archive(fake.folder, tmp_path / "b" / "whatever.tar.gz")
    folder = locate_dataset("cifar100-coarse", archive)
    assert folder.is_relative_to(tmp_path / "cache" / "extracted") and folder.name == "cifar-100-python"
    assert np.array_equal(load_dataset("cifar100-coarse", archive).y_test, fake.y_test_coarse)
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["whatever.tar.gz"]


def test_bad_archive_leaves_no_folder(homes, tmp_path):
    homes.mkdir(parents=True)
    (homes / "cifar-10-python.tar.gz").write_bytes(b"\x1f\x8b" + b"not really gzip" * 50)
    with pytest.raises(DatasetError, match="cifar-10-python.tar.gz is not a readable CIFAR archive"):
        load_dataset("cifar10")
    assert sorted(p.name for p in homes.iterdir()) == ["cifar-10-python.tar.gz"]


def test_archive_missing_files_leaves_no_folder(homes, tmp_path):
    fake = write_cifar10(tmp_path / "src", n_train_per_batch=2, n_test=3)
    (fake.folder / "data_batch_4").unlink()
    make_archive(fake.folder, homes / "cifar-10-python.tar.gz")
    with pytest.raises(DatasetError, match="does not contain cifar-10-batches-py/ with data_batch_4"):
        load_dataset("cifar10")
    assert not (homes / "cifar-10-batches-py").exists()
    assert [p for p in homes.iterdir() if p.name.startswith(".")] == []


def test_archive_with_path_escape_is_refused(homes, tmp_path):
    homes.mkdir(parents=True)
    evil = tmp_path / "evil.txt"
    evil.write_text("x")
    with tarfile.open(homes / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(evil, arcname="../../escaped.txt")
    with pytest.raises(DatasetError, match="cifar-10-python.tar.gz"):
        load_dataset("cifar10")
    assert not (tmp_path / "escaped.txt").exists() and not (homes.parent.parent / "escaped.txt").exists()


def test_half_extracted_folder_is_not_trusted(homes, tmp_path):
    fake = write_cifar10(tmp_path / "src", n_train_per_batch=2, n_test=3)
    make_archive(fake.folder, homes / "cifar-10-python.tar.gz")
    partial = homes / "cifar-10-batches-py"
    partial.mkdir()
    (partial / "data_batch_1").write_bytes(b"half")
    ds = load_dataset("cifar10")
    assert np.array_equal(ds.x_train, fake.x_train)
    assert sorted(os.listdir(partial)) == sorted(os.listdir(fake.folder))


def test_archive_in_users_folder_is_unpacked_into_the_cache_not_beside_it(homes, tmp_path):
    fake = write_cifar10(tmp_path / "src", n_train_per_batch=2, n_test=3)
    shared = tmp_path / "shared"
    archive = make_archive(fake.folder, shared / "cifar-10-python.tar.gz")
    shared.chmod(0o555)
    try:
        folder = locate_dataset("cifar10", shared)
        again = locate_dataset("cifar10", archive)
    finally:
        shared.chmod(0o755)
    assert folder == again and folder.is_relative_to(tmp_path / "cache" / "extracted")
    assert sorted(p.name for p in shared.iterdir()) == ["cifar-10-python.tar.gz"]
    assert np.array_equal(load_dataset("cifar10", shared).x_train, fake.x_train)


def test_replaced_archive_is_unpacked_afresh(homes, tmp_path):
    first = write_cifar10(tmp_path / "one", n_train_per_batch=2, n_test=3, seed=1)
    second = write_cifar10(tmp_path / "two", n_train_per_batch=2, n_test=4, seed=2)
    archive = make_archive(first.folder, tmp_path / "mine" / "cifar-10-python.tar.gz")
    assert np.array_equal(load_dataset("cifar10", tmp_path / "mine").x_test, first.x_test)
    make_archive(second.folder, archive)
    os.utime(archive, ns=(archive.stat().st_atime_ns, archive.stat().st_mtime_ns + 10**9))
    assert np.array_equal(load_dataset("cifar10", tmp_path / "mine").x_test, second.x_test)


def test_not_found_error_is_neutral_and_structured(homes, tmp_path):
    with pytest.raises(DatasetNotFound) as info:
        load_dataset("cifar100-coarse", tmp_path / "mydata")
    error = info.value
    assert "download=True" not in str(error) and "--download" not in str(error)
    assert error.dataset_id == "cifar100-coarse" and error.searched == (tmp_path / "mydata", homes)
    assert error.archive_name == "cifar-100-python.tar.gz" and error.folder_name == "cifar-100-python"
    assert "workbench download cifar100-coarse" in error.cli_hint and "--download" in error.cli_hint
    assert "Download" in error.gui_hint


def test_summary_reports_location(homes):
    fake = write_cifar10(homes, n_train_per_batch=1, n_test=1)
    rows = {r["id"]: r for r in dataset_summaries()}
    assert rows["cifar10"]["available"] is True
    assert rows["cifar10"]["location"] == str(fake.folder)
