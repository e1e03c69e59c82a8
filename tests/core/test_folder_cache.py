"""The imported folder's cache: reopened memory-mapped, rebuilt when the folder changes or the cache is damaged,
never written by a cancelled import."""

import json
import logging
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.core.folder_fixtures import class_tree, noise, save
from workbench.core.datasets.folder_cache import RECORD_FILE
from workbench.core.datasets.errors import ImportCancelled
from workbench.core.datasets.folder_import import import_folder


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))


def _same(a, b):
    for name in ("x_train", "y_train", "x_test", "y_test"):
        assert np.array_equal(getattr(a.dataset, name), getattr(b.dataset, name)), name
    assert a.dataset.class_names == b.dataset.class_names
    assert a.train_files == b.train_files and a.test_files == b.test_files
    assert a.skipped == b.skipped and a.leaks == b.leaks and a.settings == b.settings and a.split == b.split


def test_second_import_is_memory_mapped_identical_and_fast(tmp_path):
    root = class_tree(tmp_path / "set", {"a": 30, "b": 30}, size=(16, 16), suffix=".jpg")
    (root / "a" / "notes.txt").write_text("skip me")
    first = import_folder(root)
    assert not first.from_cache and (first.cache_folder / RECORD_FILE).is_file()
    assert first.cache_folder.is_relative_to(tmp_path / "cache")  # never beside the user's images
    calls = []
    start = time.perf_counter()
    second = import_folder(root, progress=lambda done, total: calls.append((done, total)))
    elapsed = time.perf_counter() - start
    assert second.from_cache and isinstance(second.dataset.x_train, np.memmap)
    assert not second.dataset.x_train.flags.writeable
    assert elapsed < 2.0  # typically 0.01 s; the margin is for a loaded CI machine (benchmarks measure speed)
    assert calls == [(60, 60)]
    _same(first, second)


def test_touching_adding_or_removing_a_file_rebuilds(tmp_path):
    root = class_tree(tmp_path / "set", {"a": 5, "b": 5})
    in_use = import_folder(root, size=8)  # e.g. a training run still reading it
    held = np.array(in_use.dataset.x_train)
    assert import_folder(root, size=8).from_cache
    target = root / "a" / "001.png"
    save(target, noise((16, 16), 1234))  # new pixels, same name
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    rebuilt = import_folder(root, size=8)
    assert not rebuilt.from_cache
    assert np.array_equal(in_use.dataset.x_train, held)  # the rebuild replaced the file, never wrote into it
    save(root / "b" / "new.png", noise((16, 16), 4321))
    assert not import_folder(root, size=8).from_cache
    (root / "b" / "new.png").unlink()
    again = import_folder(root, size=8)
    assert not again.from_cache and sum(again.train_counts) + sum(again.test_counts) == 10


def test_other_settings_get_their_own_cache(tmp_path):
    root = class_tree(tmp_path / "set", {"a": 3, "b": 3}, size=(16, 8))
    crop = import_folder(root, size=8, fit="crop")
    pad = import_folder(root, size=8, fit="pad")
    assert not pad.from_cache and crop.cache_folder != pad.cache_folder
    assert import_folder(root, size=8, fit="crop").from_cache


@pytest.mark.parametrize("damage", ["flip array bytes", "truncate array", "garbage record", "labels out of range"])
def test_a_damaged_cache_is_rebuilt_with_a_warning(tmp_path, caplog, damage):
    root = class_tree(tmp_path / "set", {"a": 6, "b": 6}, size=(8, 8))
    first = import_folder(root)
    folder = first.cache_folder
    # first maps the cache file that is damaged in place below: keep a copy of what it held.
    expected = {name: np.array(getattr(first.dataset, name)) for name in ("x_train", "y_train", "x_test", "y_test")}
    x = folder / "pixels.npy"
    if damage == "flip array bytes":
        data = bytearray(x.read_bytes())
        data[-5] ^= 0xFF
        x.write_bytes(bytes(data))
    elif damage == "truncate array":
        x.write_bytes(x.read_bytes()[:-40])
    elif damage == "garbage record":
        (folder / RECORD_FILE).write_bytes(b"{not json")
    else:
        record = json.loads((folder / RECORD_FILE).read_text())
        np.save(folder / "y_train.npy", np.full(record["arrays"]["y_train"]["shape"], 7, np.int64))
        record["arrays"]["y_train"]["crc32"] = __import__("zlib").crc32(np.load(folder / "y_train.npy").tobytes())
        (folder / RECORD_FILE).write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING):
        second = import_folder(root)
    assert not second.from_cache
    assert any("image cache" in r.getMessage() for r in caplog.records)
    for name, array in expected.items():
        assert np.array_equal(getattr(second.dataset, name), array), name
    assert import_folder(root).from_cache  # and the rebuilt cache is good again


def test_cancel_mid_import_raises_and_leaves_no_cache(tmp_path):
    root = class_tree(tmp_path / "set", {"a": 150, "b": 150}, size=(8, 8))
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        cancel.set()  # the user presses Cancel after the first progress report

    with pytest.raises(ImportCancelled, match="cancelled; nothing was saved"):
        import_folder(root, progress=progress, cancel=cancel)
    assert seen and seen[-1] < 300
    assert not list((tmp_path / "cache").rglob(RECORD_FILE))
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]  # no temp pixels file either
    assert not import_folder(root).from_cache  # a later import does the work


def test_progress_reaches_the_total(tmp_path):
    root = class_tree(tmp_path / "set", {"a": 100, "b": 70}, size=(8, 8))
    calls = []
    import_folder(root, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (170, 170)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_an_unwritable_cache_folder_still_imports_into_memory(tmp_path, monkeypatch):
    root = class_tree(tmp_path / "set", {"a": 4, "b": 4}, size=(8, 8))
    cache = tmp_path / "read-only cache"
    cache.mkdir()
    cache.chmod(0o555)
    monkeypatch.setenv("WORKBENCH_CACHE", str(cache))
    try:
        first = import_folder(root)
        assert first.cache_folder is None and not isinstance(first.dataset.x_train, np.memmap)
        assert sum(first.train_counts) + sum(first.test_counts) == 8
        assert not import_folder(root).from_cache
        assert not list(cache.rglob("*"))
    finally:
        cache.chmod(0o755)


def test_the_first_import_already_hands_out_the_cache_read_only(tmp_path):
    root = class_tree(tmp_path / "set", {"a": 4, "b": 4}, size=(8, 8))
    (root / "a" / "broken.png").write_bytes(b"not a png")  # its row is left unused at the end
    first = import_folder(root)
    assert isinstance(first.dataset.x_train, np.memmap) and not first.dataset.x_train.flags.writeable
    assert not list(first.cache_folder.glob(".pixels.*"))  # no temp file left
    _same(first, import_folder(root))


FULL_DISK = r"""
import os, sys
from pathlib import Path
cache, root = Path(sys.argv[1]), Path(sys.argv[2])
os.environ["WORKBENCH_CACHE"] = str(cache)
from workbench.core.datasets.folder_cache import folder_cache_dir
from workbench.core.datasets.folder_import import _requested, import_folder

folder = folder_cache_dir(root, _requested(64, None, "crop"))
folder.mkdir(parents=True)
# What a write that met a full disk leaves: the pixels renamed into place, no record.
(folder / "pixels.npy").write_bytes(b"\1" * (40 * 64 * 64 * 3 + 128))
st = os.statvfs(cache)
with open(cache / "filler", "wb") as f:  # the disk now has room for half of one more pixels file
    f.write(b"\0" * (st.f_bavail * st.f_frsize - 60 * 4096))
result = import_folder(root, size=64)
print("cached" if result.cache_folder is not None else "uncached")
print("reloaded" if import_folder(root, size=64).from_cache else "decoded again")
"""


def test_a_partial_cache_left_by_a_full_disk_does_not_block_the_next_one(tmp_path):
    import shutil
    import subprocess
    import sys

    if shutil.which("unshare") is None:
        pytest.skip("needs unshare to mount a small file system")
    root = class_tree(tmp_path / "imgs", {"a": 20, "b": 20}, size=(64, 64))
    mount = tmp_path / "small"
    mount.mkdir()
    script = tmp_path / "full_disk.py"
    script.write_text(FULL_DISK)
    ns = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    shell = f'mount -t tmpfs -o size=1m tmpfs "{mount}" && exec "{sys.executable}" "{script}" "{mount}" "{root}"'
    proc = subprocess.run([*ns, "sh", "-c", shell], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])))
    if "mount" in proc.stderr and proc.returncode != 0 and "Traceback" not in proc.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["cached", "reloaded"], proc.stderr
