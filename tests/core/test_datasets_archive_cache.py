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
        with pytest.raises(DatasetError) as refused:
            add_user_dataset("zeros", archive)
        assert cached_archives(tmp_path) == []
        assert str(archive) in str(refused.value) and "archives" not in str(refused.value)
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



def test_prune_removes_what_nothing_uses_and_says_what_it_freed(user_home, tmp_path, monkeypatch):
    from workbench.core.datasets.cache_space import cache_usage, prune_caches

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    archive = _archive(tmp_path, {"a": 3, "b": 3})
    add_user_dataset("mine", archive)
    old_copy = cached_archives(tmp_path)
    _archive(tmp_path, {"a": 3, "b": 3, "c": 3})
    load_dataset("mine")  # unpacks the changed archive: the first copy is stale now
    gone = class_tree(tmp_path / "gone", {"a": 3, "b": 3}, size=(8, 8))
    load_dataset(str(gone))
    import shutil
    shutil.rmtree(gone)  # its decoded cache is of no use now
    old = tmp_path / "keras" / "datasets" / "workbench-cache" / "cifar-10-batches-py"
    old.mkdir(parents=True)
    (old / "x_train.npy").write_bytes(b"\0" * 50_000)
    (old / "key.json").write_text("{}")
    theirs = tmp_path / "data" / "workbench-cache"
    theirs.mkdir(parents=True)
    (theirs / "photo.jpg").write_bytes(b"not ours")

    before = cache_usage()
    listed = prune_caches((tmp_path / "data",), dry_run=True)
    assert cache_usage() == before and all(p.path.exists() for p in listed)
    paths = {p.path for p in listed}
    assert set(old_copy) <= paths and old.parent in paths and theirs not in paths
    assert any("changed" in p.why for p in listed) and any("gone" in p.why for p in listed)
    pruned = prune_caches((tmp_path / "data",))
    assert {p.path for p in pruned} == paths and not any(p.path.exists() for p in pruned)
    in_cache = sum(p.bytes for p in pruned if Path(os.environ["WORKBENCH_CACHE"]) in p.path.parents)
    assert in_cache > 0 and cache_usage() <= before - in_cache
    assert sum(p.bytes for p in pruned if p.path == old.parent) >= 50_000
    assert (theirs / "photo.jpg").exists() and archive.exists()
    assert load_dataset("mine").num_classes == 3  # what is in use stays
    assert prune_caches() == []



def test_an_unchanged_archive_is_not_hashed_again_by_the_next_process(user_home, tmp_path):
    import hashlib
    import subprocess
    import sys

    archive = _archive(tmp_path, {"a": 3, "b": 3})
    add_user_dataset("mine", archive)
    code = ("import os, sys\n"
            "from pathlib import Path\n"
            "from workbench.core.datasets import user_archive as ua\n"
            "st = Path(sys.argv[1]).resolve().stat()\n"
            "state = {'archive': str(Path(sys.argv[1]).resolve()), 'size': st.st_size, 'mtime_ns': st.st_mtime_ns,\n"
            "         'ctime_ns': st.st_ctime_ns, 'ino': st.st_ino, 'dev': st.st_dev}\n"
            "print(ua._recorded_hash(state))\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    run = subprocess.run([sys.executable, "-c", code, str(archive)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == hashlib.sha256(archive.read_bytes()).hexdigest()
    os.utime(archive)  # touched: ctime changes, so the recorded hash no longer applies
    run = subprocess.run([sys.executable, "-c", code, str(archive)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert run.stdout.strip() == "None"
