"""Reading the official pickle layout: round trip, CIFAR-100 labels, validation, hostile pickles."""

import builtins
import os
import pickle

import numpy as np
import pytest

from tests.core.cifar_fixtures import write_cifar10, write_cifar100, write_malicious_pickle
from workbench.core.datasets import DatasetError, UnsafePickleError, load_dataset
from workbench.core.datasets.cifar_files import read_cifar10
from workbench.core.datasets.safe_pickle import load_pickle


@pytest.fixture(autouse=True)
def isolated_homes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "workbench"))


def test_cifar10_round_trip(tmp_path):
    fake = write_cifar10(tmp_path / "data", n_train_per_batch=7, n_test=9, seed=3,
                         label_names=tuple(f"thing{i}" for i in range(10)))
    ds = load_dataset("cifar10", fake.root, use_cache=False)
    assert ds.x_train.dtype == np.uint8 and ds.x_train.shape == (35, 32, 32, 3)
    assert np.array_equal(ds.x_train, fake.x_train) and np.array_equal(ds.x_test, fake.x_test)
    assert np.array_equal(ds.y_train, fake.y_train) and np.array_equal(ds.y_test, fake.y_test)
    assert np.issubdtype(ds.y_train.dtype, np.integer)
    assert ds.class_names == fake.class_names  # names come from batches.meta


def test_pixels_are_channel_planar(tmp_path):
    # Pin the layout independently of the fixture: row = 1024 R, 1024 G, 1024 B, each row-major.
    fake = write_cifar10(tmp_path, n_train_per_batch=1, n_test=1)
    row = np.zeros(3072, np.uint8)
    row[0] = 200          # R at (0, 0)
    row[1024 + 33] = 100  # G at (1, 1)
    row[2048 + 31] = 50   # B at (0, 31)
    with open(fake.folder / "test_batch", "wb") as f:
        pickle.dump({b"data": row[None], b"labels": [4]}, f, protocol=2)
    x_test = read_cifar10(fake.folder)[0]["x_test"]
    assert x_test[0, 0, 0, 0] == 200 and x_test[0, 1, 1, 1] == 100 and x_test[0, 0, 31, 2] == 50
    assert int(x_test.sum()) == 350


def test_cifar100_fine_and_coarse(tmp_path):
    fake = write_cifar100(tmp_path, n_train=40, n_test=15, seed=5)
    fine = load_dataset("cifar100", tmp_path, use_cache=False)
    coarse = load_dataset("cifar100-coarse", tmp_path, use_cache=False)
    assert np.array_equal(fine.x_train, fake.x_train) and np.array_equal(coarse.x_test, fake.x_test)
    assert np.array_equal(fine.y_train, fake.y_train) and np.array_equal(fine.y_test, fake.y_test)
    assert np.array_equal(coarse.y_train, fake.y_train_coarse)
    assert np.array_equal(coarse.y_test, fake.y_test_coarse)
    assert fine.num_classes == 100 and coarse.num_classes == 20
    assert coarse.class_names[-1] == "vehicles_2" and fine.class_names[-1] == "worm"


def test_cifar100_shares_one_cache_and_reloads(tmp_path):
    fake = write_cifar100(tmp_path, n_train=10, n_test=5)
    first = load_dataset("cifar100-coarse", tmp_path)
    second = load_dataset("cifar100", tmp_path)
    assert isinstance(second.x_train, np.memmap)
    assert np.array_equal(second.y_train, fake.y_train)
    assert np.array_equal(first.y_train, fake.y_train_coarse)


def test_malicious_pickle_with_os_system_is_refused(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=2, n_test=2)
    marker = tmp_path / "pwned"
    write_malicious_pickle(fake.folder / "data_batch_3", os.system, f"touch {marker}")
    with pytest.raises(UnsafePickleError) as info:
        load_dataset("cifar10", tmp_path, use_cache=False)
    message = str(info.value)
    assert "data_batch_3" in message and "system" in message
    assert not marker.exists()


def test_malicious_pickle_with_eval_is_refused(tmp_path):
    marker = tmp_path / "pwned-eval"
    path = write_malicious_pickle(tmp_path / "evil", builtins.eval,
                                  f"open({str(marker)!r}, 'w').write('x')")
    with pytest.raises(UnsafePickleError, match=r"evil asks to load .*eval"):
        load_pickle(path)
    assert not marker.exists()


def test_unsafe_pickle_is_a_dataset_error():
    assert issubclass(UnsafePickleError, DatasetError)


def test_truncated_batch_names_the_file(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=5, n_test=5)
    path = fake.folder / "data_batch_2"
    path.write_bytes(path.read_bytes()[:4000])
    with pytest.raises(DatasetError, match="data_batch_2.*(truncated|corrupt)"):
        load_dataset("cifar10", tmp_path, use_cache=False)


def test_garbage_file_names_the_file(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=5, n_test=5)
    (fake.folder / "test_batch").write_bytes(b"this is not a pickle at all" * 10)
    with pytest.raises(DatasetError, match="test_batch"):
        load_dataset("cifar10", tmp_path, use_cache=False)


def _rewrite(path, changes):
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    batch.update(changes)
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)


def test_wrong_data_shape_names_the_file(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=4, n_test=4)
    _rewrite(fake.folder / "data_batch_1", {b"data": np.zeros((4, 1000), np.uint8)})
    with pytest.raises(DatasetError, match=r"data_batch_1.*\(4, 1000\).*3072"):
        load_dataset("cifar10", tmp_path, use_cache=False)


def test_label_out_of_range_names_the_file(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=4, n_test=4)
    _rewrite(fake.folder / "test_batch", {b"labels": [0, 1, 2, 10]})
    with pytest.raises(DatasetError, match=r"test_batch.*outside 0\.\.9"):
        load_dataset("cifar10", tmp_path, use_cache=False)


def test_label_count_mismatch_names_the_file(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=4, n_test=4)
    _rewrite(fake.folder / "data_batch_5", {b"labels": [0, 1]})
    with pytest.raises(DatasetError, match="data_batch_5 has 4 images but 2"):
        load_dataset("cifar10", tmp_path, use_cache=False)


def test_cifar100_coarse_label_out_of_range(tmp_path):
    fake = write_cifar100(tmp_path, n_train=4, n_test=4)
    _rewrite(fake.folder / "train", {b"coarse_labels": [0, 1, 2, 20]})
    with pytest.raises(DatasetError, match=r"train.*coarse_labels.*outside 0\.\.19"):
        load_dataset("cifar100-coarse", tmp_path, use_cache=False)


def test_missing_meta_names_the_file(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=3, n_test=3)
    (fake.folder / "batches.meta").unlink()
    with pytest.raises(DatasetError, match="cifar-10-batches-py.*missing batches.meta"):
        load_dataset("cifar10", fake.folder, use_cache=False)
    with pytest.raises(DatasetError, match="cifar-10-batches-py.*missing batches.meta"):
        load_dataset("cifar10", tmp_path, use_cache=False)


def test_meta_with_wrong_class_count(tmp_path):
    fake = write_cifar10(tmp_path, n_train_per_batch=3, n_test=3)
    with open(fake.folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [b"a", b"b"]}, f, protocol=2)
    with pytest.raises(DatasetError, match=r"batches.meta: 'label_names' lists 2 names; expected 10\."):
        load_dataset("cifar10", tmp_path, use_cache=False)


def test_real_sample_pickles_pass_the_safe_unpickler():
    shared = os.environ.get("WORKBENCH_SHARED_DATA") or os.path.join(os.path.dirname(__file__), "../../../shared/data")
    folder = os.path.join(shared, "cifar10-sample", "cifar-10-batches-py")
    if not os.path.isdir(folder):
        pytest.skip("the shared real-data sample is not on this machine")
    arrays, names = read_cifar10(folder)
    assert arrays["x_train"].shape[1:] == (32, 32, 3) and names["labels"][0] == "airplane"


def test_fixture_files_are_written_like_the_official_ones(tmp_path):
    # Python 2 era layout: raw BINSTRING bytes and numpy.core's _reconstruct, no _codecs detour.
    import pickletools
    fake = write_cifar10(tmp_path, n_train_per_batch=2, n_test=2)
    ops = list(pickletools.genops((fake.folder / "data_batch_1").read_bytes()))
    globals_ = [arg for op, arg, _ in ops if op.name == "GLOBAL"]
    assert "numpy.core.multiarray _reconstruct" in globals_
    assert not any(g.startswith("_codecs") for g in globals_)
    assert any(op.name == "BINSTRING" and len(arg) == 2 * 3072 for op, arg, _ in ops)


@pytest.mark.parametrize("label_names, words", [
    (7, "is an int, not a list of 10 class names"),
    ({b"a": 1}, "is a dict, not a list of 10 class names"),
    ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "holds an int where a class name should be"),
    ([[b"a"] * 10] * 10, "holds a list where a class name should be"),
    ([b"ok"] * 9 + [b"\x1b[2J"], "holds an empty class name"),
])
def test_crafted_meta_names_are_one_sentence(tmp_path, label_names, words):
    fake = write_cifar10(tmp_path, n_train_per_batch=2, n_test=2)
    with open(fake.folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": label_names}, f, protocol=2)
    with pytest.raises(DatasetError) as info:
        load_dataset("cifar10", tmp_path, use_cache=False)
    message = str(info.value)
    assert "batches.meta" in message and words in message and "\n" not in message


def test_meta_names_are_sanitised(tmp_path):
    names = [b"\x1b[31mred\x1b[0m", "caf\u00e9".encode(), b"x" * 100_000] + [f"c{i}".encode() for i in range(7)]
    fake = write_cifar10(tmp_path, n_train_per_batch=2, n_test=2, label_names=tuple(n.decode() for n in names))
    ds = load_dataset("cifar10", fake.root)
    assert ds.class_names[:2] == ("red", "café")
    assert len(ds.class_names[2]) <= 60 and ds.class_names[2].endswith("…")
    assert all("\x1b" not in n for n in ds.class_names)
    assert load_dataset("cifar10", fake.root).class_names == ds.class_names  # the same from the cache
