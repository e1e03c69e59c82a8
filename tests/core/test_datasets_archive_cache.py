"""Unpacked archive copies in the user cache: removed when their import is refused, keyed on the archive's
size, mtime and content, and reclaimable with prune_caches."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from tests.core.folder_fixtures import class_tree
from tests.core.user_fixtures import targz_of, user_home  # noqa: F401 - the fixture
from workbench.core.datasets import DatasetError, add_user_dataset, load_dataset, remove_user_dataset


def zero_pngs(archive: Path, count: int = 4, size: int = 200_000) -> Path:
    """A .tar.gz of zero-filled files named like PNGs: tiny packed, big unpacked, and no image in it."""
    with tarfile.open(archive, "w:gz") as tar:
        for cls in ("a", "b"):
            for i in range(count):
                info = tarfile.TarInfo(f"set/{cls}/{i}.png")
                info.size = size
                tar.addfile(info, io.BytesIO(bytes(size)))
    return archive


def cached_archives(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "cache" / "archives"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_refused_archive_import_leaves_no_copy(user_home, tmp_path):
    archive = zero_pngs(tmp_path / "zeros.tar.gz")
    for _ in range(2):  # a retry must not leave a second copy either
        with pytest.raises(DatasetError):
            add_user_dataset("zeros", archive)
        assert cached_archives(tmp_path) == []
    with pytest.raises(DatasetError):
        load_dataset(str(archive))  # a plain path (train --dataset PATH) as well
    assert cached_archives(tmp_path) == []


def _archive(tmp_path: Path, classes: dict[str, int], seed: int = 0) -> Path:
    tree = tmp_path / f"tree-{len(classes)}-{seed}"
    class_tree(tree, classes, size=(8, 8), seed=seed)
    return targz_of(tree, tmp_path / "set.tar.gz", "set")


def test_a_changed_archive_is_unpacked_again(user_home, tmp_path):
    archive = _archive(tmp_path, {"a": 3, "b": 3})
    add_user_dataset("mine", archive)
    assert load_dataset("mine").num_classes == 2
    _archive(tmp_path, {"a": 3, "b": 3, "c": 3})
    assert load_dataset("mine").num_classes == 3


def test_same_size_and_mtime_but_other_content_is_seen(user_home, tmp_path):
    archive = tmp_path / "set.tar"
    with tarfile.open(archive, "w") as tar:  # uncompressed: same size when only pixels change
        tar.add(class_tree(tmp_path / "t1", {"a": 3, "b": 3}, size=(8, 8), seed=1), arcname="set")
    add_user_dataset("mine", archive)
    first = load_dataset("mine").x_train.copy()
    st = archive.stat()
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as tar:
        tar.add(class_tree(tmp_path / "t2", {"a": 3, "b": 3}, size=(8, 8), seed=2), arcname="set")
    assert other.stat().st_size == st.st_size
    os.replace(other, archive)
    os.utime(archive, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (load_dataset("mine").x_train != first).any()
    remove_user_dataset("mine")
