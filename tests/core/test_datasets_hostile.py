"""Hostile or broken dataset files end in one sentence, within bounded memory and time."""

import io
import os
import pickle
import subprocess
import sys
import tarfile
import threading
import tracemalloc

import numpy as np
import pytest

from tests.core.cifar_fixtures import dump_py2_pickle, make_archive, write_cifar10
from workbench.core.datasets import DatasetError, UnsafePickleError, load_dataset
from workbench.core.datasets import extract as extract_module
from workbench.core.datasets import safe_pickle
from workbench.core.datasets.cifar_files import read_cifar10
from workbench.core.datasets.extract import extract_archive
from workbench.core.datasets.safe_pickle import load_pickle


@pytest.fixture(autouse=True)
def isolated_homes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "workbench"))
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))


def _one_sentence(message: str) -> None:
    assert "\n" not in message and message.endswith(".") and "Traceback" not in message


def _shared_nested_list(width: int, depth: int):
    """``depth`` levels of ``width`` references to one list: tiny as a pickle, width**depth ints unpacked."""
    level = [0] * width
    for _ in range(depth - 1):
        level = [level] * width
    return level


def test_shared_nested_label_lists_are_refused_in_bounded_memory(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=4, n_test=4)
    labels = [_shared_nested_list(width=100, depth=3)] * 4  # one entry per image, each a million ints
    dump_py2_pickle({b"data": np.zeros((4, 3072), np.uint8), b"labels": labels}, fake.folder / "test_batch")
    assert (fake.folder / "test_batch").stat().st_size < 50_000  # 4 x 100**3 = 4 million labels inside
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError) as info:
            load_dataset("cifar10", tmp_path, use_cache=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000, f"{peak / 1e6:.0f} MB traced"  # the nested lists expand to 32+ MB
    assert "test_batch" in str(info.value) and "list" in str(info.value)
    _one_sentence(str(info.value))


@pytest.mark.parametrize("labels, words", [
    ([0.5, 1.0, 2.0, 3.0], "float where an integer label"),
    ([0, 1, 2, 2 ** 70], "not 64-bit integers"),
    (np.zeros((2, 2), np.int64), "shape (2, 2)"),
    ({b"a": 1}, "dict, not a list"),
])
def test_labels_of_the_wrong_type_are_one_sentence(tmp_path, labels, words):
    fake = write_cifar10(tmp_path, n_train_per_batch=4, n_test=4)
    dump_py2_pickle({b"data": np.zeros((4, 3072), np.uint8), b"labels": labels}, fake.folder / "test_batch")
    with pytest.raises(DatasetError, match="test_batch") as info:
        read_cifar10(fake.folder)
    assert words in str(info.value)
    _one_sentence(str(info.value))


def test_pickle_larger_than_any_cifar_file_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "data_batch_1"
    with open(path, "wb") as f:
        pickle.dump({b"data": b"x"}, f, protocol=2)
        f.truncate(safe_pickle.MAX_PICKLE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(DatasetError, match=r"data_batch_1 is 200 MB, larger than any CIFAR data file") as info:
        load_pickle(path)
    _one_sentence(str(info.value))


def _in_thread(func, *args):
    """Run ``func`` in a daemon thread; returns (finished within 5 s, exception or None)."""
    outcome = {}

    def target():
        try:
            func(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(5)
    return not thread.is_alive(), outcome.get("error")


def _release(fifo):
    """Unblock a reader stuck in open() on ``fifo`` (the old code), so no thread is left hanging."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


def test_fifo_as_batch_file_is_refused_at_once(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=2, n_test=2)
    fifo = fake.folder / "data_batch_2"
    fifo.unlink()
    os.mkfifo(fifo)
    try:
        done, error = _in_thread(load_pickle, fifo)
        assert done, "load_pickle hung on a FIFO"
        assert isinstance(error, DatasetError) and "not a regular file" in str(error)
        with pytest.raises(DatasetError, match="data_batch_2 is not a regular file") as info:
            load_dataset("cifar10", tmp_path, use_cache=False)
        _one_sentence(str(info.value))
    finally:
        _release(fifo)


def test_fifo_as_archive_is_refused_at_once(tmp_path):
    fifo = tmp_path / "cifar-10-python.tar.gz"
    os.mkfifo(fifo)
    try:
        done, error = _in_thread(extract_archive, fifo, "cifar-10-batches-py", tmp_path / "out")
        assert done, "extract_archive hung on a FIFO"
        assert isinstance(error, DatasetError) and "not a regular file" in str(error)
        with pytest.raises(DatasetError, match="not a regular file") as info:
            load_dataset("cifar10", fifo)
        _one_sentence(str(info.value))
    finally:
        _release(fifo)


def _tar_with(path, members):
    """Write a .tar.gz from (TarInfo, bytes or None) pairs."""
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name, data=b"x", mode=0o644):
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    return info, data


def _assert_refused_and_clean(archive, dest, words):
    with pytest.raises(DatasetError) as info:
        extract_archive(archive, "cifar-10-batches-py", dest)
    message = str(info.value)
    assert str(archive) in message and words in message, message
    _one_sentence(message)
    assert not dest.exists() or list(dest.iterdir()) == []


def test_archive_member_bigger_than_any_cifar_file_is_refused_before_writing(tmp_path, monkeypatch):
    monkeypatch.setattr(extract_module, "MAX_MEMBER_BYTES", 1_000_000, raising=False)
    archive = _tar_with(tmp_path / "bomb.tar.gz", [
        _file("cifar-10-batches-py/data_batch_1", bytes(3_000_000)),  # compresses to a few KB
    ])
    _assert_refused_and_clean(archive, tmp_path / "out", "would unpack to 3 MB")


def test_archive_whose_total_is_too_big_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(extract_module, "MAX_TOTAL_BYTES", 2_500_000, raising=False)
    archive = _tar_with(tmp_path / "bomb.tar.gz", [
        _file(f"cifar-10-batches-py/data_batch_{i}", bytes(1_000_000)) for i in range(1, 4)
    ])
    _assert_refused_and_clean(archive, tmp_path / "out", "more than 2 MB")


def test_archive_with_too_many_members_is_refused(tmp_path):
    archive = _tar_with(tmp_path / "many.tar.gz", [_file(f"cifar-10-batches-py/f{i}") for i in range(200)])
    _assert_refused_and_clean(archive, tmp_path / "out", "more than 64 entries")


def test_member_longer_than_its_header_is_cut_off(tmp_path):
    from workbench.core.datasets.extract import copy_capped

    with pytest.raises(Exception, match="more bytes than its header declares"):
        copy_capped(io.BytesIO(bytes(5000)), tmp_path / "f", declared=4096, budget=10**6)
    assert copy_capped(io.BytesIO(bytes(5000)), tmp_path / "g", declared=5000, budget=10**6) == 5000


@pytest.fixture(params=["data_filter", "fallback"])
def filter_path(request, monkeypatch):
    """Run a test with tarfile's own data filter and with the fallback used before Python 3.11.4."""
    if request.param == "fallback":
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
        assert not extract_module.has_data_filter()
    elif not extract_module.has_data_filter():
        pytest.skip("this Python has no tarfile.data_filter")
    return request.param


def _link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def _special(name, kind):
    info = tarfile.TarInfo(name)
    info.type = kind
    return info, None


@pytest.mark.parametrize("member, words", [
    (_file("/etc/cifar-evil"), "cifar-evil"),
    (_file("cifar-10-batches-py/../../escaped"), "escaped"),
    (_link("cifar-10-batches-py/data_batch_1", "/etc/passwd"), "data_batch_1"),
    (_link("cifar-10-batches-py/data_batch_1", "../../outside"), "data_batch_1"),
    (_link("cifar-10-batches-py/data_batch_1", "cifar-10-batches-py/test_batch", tarfile.LNKTYPE), "data_batch_1"),
    (_special("cifar-10-batches-py/data_batch_1", tarfile.FIFOTYPE), "data_batch_1"),
    (_special("cifar-10-batches-py/data_batch_1", tarfile.CHRTYPE), "data_batch_1"),
], ids=["absolute", "dotdot", "symlink-abs", "symlink-out", "hardlink", "fifo", "device"])
def test_unsafe_members_are_refused_on_both_paths(tmp_path, filter_path, member, words):
    archive = _tar_with(tmp_path / "evil.tar.gz", [_file("cifar-10-batches-py/test_batch"), member])
    _assert_refused_and_clean(archive, tmp_path / "deep" / "out", words)
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "deep" / "escaped").exists()


def test_good_archive_unpacks_on_both_paths_with_sane_modes(tmp_path, filter_path):
    fake = write_cifar10(tmp_path / "src", n_train_per_batch=2, n_test=3)
    (fake.folder / "test_batch").chmod(0o4777)  # setuid, world-writable: must not survive unpacking
    archive = make_archive(fake.folder, tmp_path / "cifar-10-python.tar.gz")
    folder = extract_archive(archive, "cifar-10-batches-py", tmp_path / "out")
    assert (folder / "test_batch").stat().st_mode & 0o7777 == 0o644
    assert np.array_equal(load_dataset("cifar10", tmp_path / "out").x_test, fake.x_test)


def test_failed_write_while_unpacking_is_not_blamed_on_the_archive(tmp_path):
    fake = write_cifar10(tmp_path / "src", n_train_per_batch=40, n_test=40)
    archive = make_archive(fake.folder, tmp_path / "cifar-10-python.tar.gz")
    # A real failed write: a file-size limit (EFBIG) in a child process, as a full disk would fail it.
    script = (
        "import resource, signal, sys\n"
        "from workbench.core.datasets.extract import extract_archive\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))\n"
        "try:\n"
        f"    extract_archive({str(archive)!r}, 'cifar-10-batches-py', {str(tmp_path / 'out')!r})\n"
        "except Exception as exc:\n"
        "    print(exc)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    message = proc.stdout.strip()
    assert "File too large" in message and "not a readable" not in message, proc.stdout + proc.stderr
    _one_sentence(message)
    assert list((tmp_path / "out").iterdir()) == []


def _peak_during(func):
    """(exception raised by func, peak traced bytes) — numpy's allocations are traced too."""
    tracemalloc.start()
    try:
        try:
            func()
            error = None
        except Exception as exc:  # noqa: BLE001 - handed to the test
            error = exc
        return error, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_pickle_of_many_tiny_opcodes_is_refused_before_unpickling(tmp_path):
    # 1.2 MB of EMPTY_LIST opcodes would build 1.2 million lists (about 80 MB) from a 1 MB file.
    path = tmp_path / "data_batch_1"
    path.write_bytes(b"\x80\x02(" + b"]" * 1_200_000 + b"l.")
    error, peak = _peak_during(lambda: load_pickle(path))
    assert isinstance(error, DatasetError) and "more than 1,000,000 pickle opcodes" in str(error)
    assert "data_batch_1" in str(error) and peak < 10_000_000, f"{peak / 1e6:.0f} MB"
    _one_sentence(str(error))


def test_one_string_reused_by_many_encode_calls_is_refused(tmp_path):
    # _codecs.encode(text, "latin1") called 200 times on one memoised 1 MB text: 200 MB from a 1 MB file.
    text = "x" * 1_000_000
    stream = (b"\x80\x02c_codecs\nencode\nq\x01X" + len(text).to_bytes(4, "little") + text.encode()
              + b"q\x02(" + b"h\x01h\x02X\x06\x00\x00\x00latin1\x86R" * 200 + b"l.")
    path = tmp_path / "test_batch"
    path.write_bytes(stream)
    error, peak = _peak_during(lambda: load_pickle(path))
    assert isinstance(error, UnsafePickleError) and "builds more bytes than the file itself holds" in str(error)
    assert peak < 20_000_000, f"{peak / 1e6:.0f} MB"
    _one_sentence(str(error))


def test_calling_ndarray_directly_is_refused(tmp_path):
    # numpy.ndarray((10_000_000,), "O") fills 80 MB with None from a 40-byte file.
    stream = (b"\x80\x02cnumpy\nndarray\nJ" + (10_000_000).to_bytes(4, "little")
              + b"\x85X\x01\x00\x00\x00O\x86R.")
    path = tmp_path / "test_batch"
    path.write_bytes(stream)
    error, peak = _peak_during(lambda: load_pickle(path))
    assert isinstance(error, UnsafePickleError) and "numpy.ndarray directly" in str(error)
    assert peak < 5_000_000, f"{peak / 1e6:.0f} MB"


class _SharedRawArray:
    """Pickles as an array rebuilt from one shared raw string (memoised: written once, used by all)."""

    RAW = bytes(1_000_000)

    def __reduce__(self):
        from numpy.core.multiarray import _reconstruct
        return (_reconstruct, (np.ndarray, (0,), b"b"),
                (1, (len(self.RAW),), np.dtype(np.uint8), False, self.RAW))


def test_arrays_rebuilt_from_one_shared_string_are_refused(tmp_path):
    path = tmp_path / "test_batch"
    with open(path, "wb") as f:
        pickle.dump([_SharedRawArray() for _ in range(4)], f, protocol=3)
    assert path.stat().st_size < 1_100_000  # four 1 MB arrays from one 1 MB string
    error, peak = _peak_during(lambda: load_pickle(path))
    assert isinstance(error, UnsafePickleError) and "builds more arrays than the file itself holds" in str(error)
    assert peak < 5_000_000, f"{peak / 1e6:.0f} MB"


def test_more_arrays_than_a_batch_holds_are_refused(tmp_path):
    path = tmp_path / "test_batch"
    with open(path, "wb") as f:
        pickle.dump([np.zeros(3, np.uint8) for _ in range(6)], f, protocol=2)
    with pytest.raises(UnsafePickleError, match="test_batch holds more than 4 arrays"):
        load_pickle(path)


def test_python3_repickled_batch_still_loads(tmp_path):
    # numpy 2 + protocol 2 writes bytes via _codecs.encode and names numpy._core: allowed within budget.
    fake = write_cifar10(tmp_path, n_train_per_batch=30, n_test=30)
    for name in ("data_batch_1", "test_batch"):
        with open(fake.folder / name, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        with open(fake.folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
    ds = load_dataset("cifar10", tmp_path, use_cache=False)
    assert np.array_equal(ds.x_test, fake.x_test) and type(ds.x_test) is np.ndarray


def test_unpickling_leaves_no_memory_behind_without_the_cycle_collector(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=2, n_test=300)  # a 0.9 MB test_batch
    import gc
    gc.disable()
    tracemalloc.start()
    try:
        batch = load_pickle(fake.folder / "test_batch")
        assert batch[b"data"].nbytes == 300 * 3072
        del batch
        left = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        gc.enable()
    assert left < 200_000, f"{left / 1e6:.1f} MB still held after the batch was dropped"
