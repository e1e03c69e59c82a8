"""The user-datasets registry file: every name a file system allows round-trips, an unreadable file is kept
aside (never overwritten), and concurrent adds from real processes lose nothing."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.core.folder_fixtures import class_tree
from tests.core.user_fixtures import user_home  # noqa: F401 - the fixture
from workbench.core.datasets import DatasetError, add_user_dataset, load_dataset, read_registry
from workbench.core.datasets.user_datasets import registry_path

ROOT = Path(__file__).resolve().parents[2]


def _tree(root: Path) -> Path:
    return class_tree(root, {"a": 3, "b": 3}, size=(8, 8))


def test_a_folder_path_with_a_non_utf8_byte_round_trips_and_keeps_the_others(user_home, tmp_path):
    add_user_dataset("first", _tree(tmp_path / "plain"))
    odd = Path(os.fsdecode(os.fsencode(str(tmp_path)) + b"/bad\xffdir"))
    add_user_dataset("weird", _tree(odd))
    registry = read_registry()
    assert registry.warning is None and list(registry.datasets) == ["first", "weird"]
    assert os.fsencode(registry.datasets["weird"].source).endswith(b"/bad\xffdir")
    assert json.loads(registry_path().read_bytes().decode("utf-8"))  # the file itself is valid UTF-8 JSON
    add_user_dataset("third", _tree(tmp_path / "other"))
    assert list(read_registry().datasets) == ["first", "weird", "third"]
    assert load_dataset("weird").num_classes == 2


def test_a_class_folder_of_255_odd_bytes_round_trips(user_home, tmp_path):
    root = tmp_path / "odd-classes"
    long_name = os.fsdecode(b"\xff" * 100)
    class_tree(root, {long_name: 3, "b": 3}, size=(8, 8))
    class_tree(root, {os.fsdecode("é".encode() * 127): 3}, size=(8, 8), seed=3)  # 254 bytes in UTF-8
    result = add_user_dataset("odd", root)
    registry = read_registry()
    assert registry.warning is None
    assert registry.datasets["odd"].class_names == result.dataset.class_names


def test_an_unreadable_registry_is_kept_aside_and_never_overwritten(user_home, tmp_path, caplog):
    registry_path().parent.mkdir(parents=True, exist_ok=True)
    damaged = b'{"format": 1, "datasets": [{"name": "mine", "sou'
    registry_path().write_bytes(damaged)
    with caplog.at_level(logging.WARNING):
        add_user_dataset("fresh", _tree(tmp_path / "p"))
    kept = list(registry_path().parent.glob("datasets.json.unreadable-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged
    assert any(str(kept[0]) in r.getMessage() for r in caplog.records)
    assert list(read_registry().datasets) == ["fresh"]


def test_an_entry_the_reader_would_refuse_is_not_written(user_home, tmp_path):
    from workbench.core.datasets.user_datasets import MAX_CLASSES, update_registry

    add_user_dataset("first", _tree(tmp_path / "p"))
    before = registry_path().read_bytes()
    good = read_registry().datasets["first"]
    too_many = replace(good, name="many", class_names=tuple(f"c{i}" for i in range(MAX_CLASSES + 1)))
    with pytest.raises(DatasetError, match="nothing was written"):
        update_registry(lambda datasets: {**datasets, "many": too_many})
    assert registry_path().read_bytes() == before


ADD_MANY = """
import sys
from workbench.core.datasets import add_user_dataset, DatasetError
folder, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(count):
    try:
        add_user_dataset(f"{prefix}{i}", folder)
        print("added", flush=True)
    except DatasetError as exc:
        print("refused", exc, flush=True)
"""


def _adders(tmp_path, folder: Path, prefixes: list[str], count: int) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", ADD_MANY, str(folder), prefix, str(count)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for prefix in prefixes]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        outs.append(out)
    return outs


def test_concurrent_adds_from_processes_lose_nothing(user_home, tmp_path):
    folder = _tree(tmp_path / "p")
    add_user_dataset("warm", folder)  # the import cache exists: each add is a quick read-modify-write
    _adders(tmp_path, folder, ["a", "b", "c", "d"], 15)
    names = set(read_registry().datasets)
    assert names == {"warm"} | {f"{p}{i}" for p in "abcd" for i in range(15)}


def test_two_concurrent_adds_of_one_name_one_wins(user_home, tmp_path):
    folder = _tree(tmp_path / "p")
    add_user_dataset("warm", folder)
    outs = _adders(tmp_path, folder, ["same"] * 4, 10)
    added = sum(out.count("added") for out in outs)
    assert added == 10  # each of the ten names exactly once; the other tries were refused
    assert sum(out.count("refused") for out in outs) == 30
    assert len(read_registry().datasets) == 11


def test_a_file_an_older_version_wrote_with_raw_bytes_is_read_and_rewritten(user_home, tmp_path):
    add_user_dataset("first", _tree(tmp_path / "plain"))
    add_user_dataset("second", _tree(tmp_path / "other"))
    # What the older version wrote for a path with the byte \xff: the raw byte, not UTF-8.
    raw = registry_path().read_bytes().replace(b"/plain", b"/pl\xffin")
    os.rename(tmp_path / "plain", os.fsdecode(os.fsencode(str(tmp_path)) + b"/pl\xffin"))
    registry_path().write_bytes(raw)
    assert list(read_registry().datasets) == ["first", "second"]
    add_user_dataset("third", _tree(tmp_path / "third"))
    assert list(read_registry().datasets) == ["first", "second", "third"]
    assert os.fsencode(read_registry().datasets["first"].source).endswith(b"/pl\xffin")
    registry_path().read_bytes().decode("ascii")
