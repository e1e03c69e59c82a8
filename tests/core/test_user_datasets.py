"""User datasets by name: add from a folder or an archive, list, remove, load by name and by path,
and a damaged or hostile datasets.json that lists none with one warning instead of crashing."""

from __future__ import annotations

import json
import logging
import os

import numpy as np
import pytest

from tests.core.user_fixtures import user_home  # noqa: F401 - the fixture
from tests.core.user_fixtures import (MESSY_CLASSES, gray_tree, messy_tree, tar_with_link, targz_of, zip_escaping,
                                      zip_of)
from workbench.core.datasets import (DATASETS, DatasetError, add_user_dataset, dataset_available, get_info,
                                     load_dataset, read_registry, remove_user_dataset, selectable_datasets)
from workbench.core.datasets.user_datasets import MAX_REGISTRY_BYTES, check_name, default_name, registry_path


def test_add_remembers_by_name_and_loads_by_name_and_path(user_home, tmp_path):
    root = messy_tree(tmp_path / "My Photos")
    result = add_user_dataset("holiday", root)
    assert result.dataset.info.id == "holiday"
    assert result.dataset.class_names == tuple(MESSY_CLASSES)  # unicode, spaces, case as written
    assert sorted(s.path for s in result.skipped) == ["Katze 猫/notes.txt", "chien/broken.jpg", "Éléphant/empty.png"]
    assert result.split.source == "held out"
    assert sum(result.train_counts) + sum(result.test_counts) == sum(MESSY_CLASSES.values()) + 1  # + the nested one
    # Remembered in datasets.json, so a fresh read (another process, a restart) finds it.
    assert list(read_registry().datasets) == ["holiday"]
    info = get_info("holiday")
    assert info.class_names == tuple(MESSY_CLASSES) and info.image_shape == result.dataset.image_shape
    by_name = load_dataset("holiday")
    by_path = load_dataset(str(root))
    assert by_name.info.id == by_path.info.id == "holiday"  # the path of a remembered folder is that dataset
    np.testing.assert_array_equal(by_name.x_train, result.dataset.x_train)
    assert dataset_available("holiday") and dataset_available(str(root))
    ids = [c.id for c in selectable_datasets()]
    assert ids[: len(DATASETS)] == list(DATASETS) and ids[len(DATASETS):] == ["holiday"]


def test_a_plain_path_loads_without_being_remembered(user_home, tmp_path):
    root = gray_tree(tmp_path / "digits64")
    data = load_dataset(str(root))
    assert data.image_shape == (64, 64, 1)  # grayscale and 64×64 chosen from the images
    assert len(data.y_test) == 4  # the folder's own test/ split
    assert data.info.id.startswith("folder:")
    assert read_registry().datasets == {}


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_archives_unpack_into_the_cache_and_import(user_home, tmp_path, kind):
    tree = gray_tree(tmp_path / "tree")
    archive = (zip_of(tree, tmp_path / "digits.zip", top="digits") if kind == "zip"
               else targz_of(tree, tmp_path / "digits.tar.gz", "digits"))
    result = add_user_dataset("digits", archive)
    assert result.dataset.class_names == ("one", "zero") and len(result.dataset.y_test) == 4
    assert str(result.root).startswith(os.environ["WORKBENCH_CACHE"])  # never beside the user's archive
    assert load_dataset("digits").image_shape == (64, 64, 1)
    removed = remove_user_dataset("digits")
    assert removed.source == str(archive) and archive.exists()  # the user's archive is untouched
    assert not result.root.exists()  # our unpacked copy is gone


@pytest.mark.parametrize("make, words", [(tar_with_link, "link"), (zip_escaping, "outside")])
def test_hostile_archives_are_refused_and_leave_nothing(user_home, tmp_path, make, words):
    archive = make(tmp_path / ("bad.tar.gz" if make is tar_with_link else "bad.zip"))
    with pytest.raises(DatasetError, match=words) as caught:
        add_user_dataset("bad", archive)
    assert "nothing was written" in str(caught.value)
    assert read_registry().datasets == {}
    archives = tmp_path / "cache" / "archives"
    assert not archives.exists() or list(archives.iterdir()) == []
    assert not (tmp_path.parent / "escaped.png").exists()


@pytest.mark.parametrize("name", ["", "  ", "../etc", "a/b", ".hidden", "x" * 61, "CIFAR10", "builtin", "a\x1bb"])
def test_bad_names_are_refused_before_any_work(user_home, tmp_path, name):
    with pytest.raises(DatasetError):
        add_user_dataset(name, tmp_path / "does-not-matter")
    assert not registry_path().exists()


def test_names_are_tidied_and_taken_names_refused(user_home, tmp_path):
    assert check_name("  Katzen 猫 (2024) ") == "Katzen 猫 (2024)"
    assert default_name("/x/My Photos.tar.gz") == "My Photos" and default_name("/x/mnist/") == "mnist (mine)"
    root = messy_tree(tmp_path / "p")
    add_user_dataset("Pets", root)
    with pytest.raises(DatasetError, match="already a dataset called"):
        add_user_dataset("pets", root)
    with pytest.raises(DatasetError, match="no user dataset"):
        remove_user_dataset("nope")


def test_unknown_spec_names_the_choices(user_home):
    with pytest.raises(DatasetError, match="cifar10.*path of an image folder"):
        get_info("no-such-set")


@pytest.mark.parametrize("content", [
    b"{not json",
    b"\xff\xfe garbage",
    json.dumps({"format": 1, "datasets": [{"name": "../x"}]}).encode(),
    json.dumps({"format": 1, "datasets": [{"name": "ok", "source": "/a", "folder": "/a", "size": [0, 5],
                                           "color": None, "fit": "crop", "classes": ["a"], "train_size": 1,
                                           "test_size": 1, "image_shape": [8, 8, 3], "added": "now"}]}).encode(),
    json.dumps({"format": 1, "datasets": "everything"}).encode(),
    b"[" * 100_000 + b"]" * 100_000,  # deep nesting: RecursionError in json
    b" " * (MAX_REGISTRY_BYTES + 1),
])
def test_a_damaged_or_hostile_registry_lists_none_with_one_warning(user_home, content, caplog):
    registry_path().parent.mkdir(parents=True, exist_ok=True)
    registry_path().write_bytes(content)
    with caplog.at_level(logging.WARNING):
        registry = read_registry()
    assert registry.datasets == {}
    assert registry.warning and registry.warning.count(". ") == 0 and "datasets.json" in registry.warning
    assert [c.id for c in selectable_datasets()] == list(DATASETS)  # the lists still work


def test_a_registry_that_is_a_fifo_does_not_hang(user_home):
    registry_path().parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(registry_path())
    assert read_registry().warning is not None


def test_adding_over_a_damaged_registry_keeps_it_aside(user_home, tmp_path):
    registry_path().parent.mkdir(parents=True, exist_ok=True)
    registry_path().write_bytes(b"{broken")
    add_user_dataset("fresh", messy_tree(tmp_path / "p"))
    assert list(read_registry().datasets) == ["fresh"] and read_registry().warning is None
    assert [p.read_bytes() for p in registry_path().parent.glob("datasets.json.unreadable-*")] == [b"{broken"]
