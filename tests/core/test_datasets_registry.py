"""Registry, built-in dataset and the train/val split: everything that needs no files."""

import subprocess
import sys
import time

import numpy as np
import pytest

from workbench.core.datasets import (
    DATASETS,
    Dataset,
    DatasetError,
    dataset_available,
    dataset_summaries,
    get_info,
    load_dataset,
    train_val_split,
)


@pytest.fixture(autouse=True)
def isolated_homes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "workbench"))


def test_registry_knows_class_names_without_data():
    assert set(DATASETS) == {"cifar10", "cifar100", "cifar100-coarse", "mnist", "fashion_mnist", "builtin"}
    c10 = DATASETS["cifar10"]
    assert c10.class_names[:3] == ("airplane", "automobile", "bird") and c10.class_names[-1] == "truck"
    assert len(DATASETS["cifar100"].class_names) == 100 == DATASETS["cifar100"].num_classes
    assert DATASETS["cifar100"].class_names[0] == "apple"
    assert len(DATASETS["cifar100-coarse"].class_names) == 20
    assert DATASETS["cifar100-coarse"].class_names[0] == "aquatic_mammals"
    for info in DATASETS.values():
        assert len(set(info.class_names)) == info.num_classes == len(info.class_names)
    assert c10.md5 == "c58f30108f718f92721af3b95e74349a"
    assert DATASETS["cifar100"].archive_name == "cifar-100-python.tar.gz"
    assert c10.image_shape == (32, 32, 3) == DATASETS["builtin"].image_shape


def test_mnist_and_fashion_mnist_are_registered_with_their_shape_and_names():
    mnist, fashion = DATASETS["mnist"], DATASETS["fashion_mnist"]
    assert mnist.image_shape == fashion.image_shape == (28, 28, 1)
    assert mnist.class_names == tuple("0123456789")
    assert fashion.class_names == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                   "Sneaker", "Bag", "Ankle boot")
    assert (mnist.train_size, mnist.test_size) == (fashion.train_size, fashion.test_size) == (60_000, 10_000)
    assert [f.name for f in mnist.files] == ["mnist.npz"]
    assert mnist.files[0].sha256 == "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
    assert {f.name for f in fashion.files} == {f"{s}-{k}-ubyte.gz" for s in ("train", "t10k")
                                               for k in ("images-idx3", "labels-idx1")}
    assert all(len(f.sha256) == 64 for f in fashion.files)


def test_unknown_id_is_one_clear_sentence():
    with pytest.raises(DatasetError, match="Unknown dataset 'svhn'.*cifar10.*mnist"):
        get_info("svhn")


def test_builtin_loads_fast_deterministic_and_balanced():
    started = time.perf_counter()
    ds = load_dataset("builtin")
    assert isinstance(ds, Dataset)
    assert ds.x_train.shape == (2000, 32, 32, 3) and ds.x_train.dtype == np.uint8
    assert ds.x_test.shape == (500, 32, 32, 3)
    assert ds.class_names == ("circle", "square", "stripes", "cross", "triangle")
    assert ds.num_classes == 5
    assert set(np.unique(ds.y_train)) == set(range(5))
    assert np.bincount(ds.y_train).min() >= 350
    assert time.perf_counter() - started < 5  # generous: the CPU is shared; about 0.2 s alone
    assert not ds.x_train.flags.writeable  # shared between callers, so nobody may scribble on it
    again = load_dataset("builtin")
    assert np.array_equal(again.x_train, ds.x_train)


def test_builtin_same_in_a_fresh_process():
    code = ("from workbench.core.datasets.builtin import generate_builtin;"
            "import hashlib; x=generate_builtin()[0]; print(hashlib.md5(x.tobytes()).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    from workbench.core.datasets.builtin import generate_builtin
    import hashlib
    assert out.stdout.strip() == hashlib.md5(generate_builtin()[0].tobytes()).hexdigest()


def test_builtin_classes_are_separable_by_a_simple_feature():
    # A nearest-centroid on downsampled images must beat chance by far, or a CNN has nothing to learn.
    ds = load_dataset("builtin")
    def feats(x):
        gray = x.astype(np.float32).mean(-1)
        gray = (gray - gray.mean((1, 2), keepdims=True)) / (gray.std((1, 2), keepdims=True) + 1e-6)
        return np.abs(np.fft.fft2(gray))[:, :8, :8].reshape(len(x), -1)
    ftr, fte = feats(ds.x_train), feats(ds.x_test)
    centroids = np.stack([ftr[ds.y_train == c].mean(0) for c in range(5)])
    pred = ((fte[:, None, :] - centroids[None]) ** 2).sum(-1).argmin(1)
    assert (pred == ds.y_test).mean() > 0.5


def test_split_is_deterministic_and_partitions():
    a_train, a_val = train_val_split(1000, 0.2, seed=7)
    b_train, b_val = train_val_split(1000, 0.2, seed=7)
    c_train, c_val = train_val_split(1000, 0.2, seed=8)
    assert np.array_equal(a_val, b_val) and np.array_equal(a_train, b_train)
    assert not np.array_equal(a_val, c_val)
    assert len(a_val) == 200 and len(a_train) == 800
    assert np.array_equal(np.sort(np.concatenate([a_train, a_val])), np.arange(1000))


def test_split_zero_fraction_gives_empty_val():
    train, val = train_val_split(50, 0.0, seed=1)
    assert val.size == 0 and np.array_equal(train, np.arange(50))


def test_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(10, 1.5, seed=0)


def test_dataset_subset_and_limit():
    ds = load_dataset("builtin")
    small = ds.limit(10, 5)
    assert small.x_train.shape[0] == 10 and small.y_test.shape[0] == 5
    picked = ds.subset(train_indices=[3, 1])
    assert np.array_equal(picked.x_train[0], ds.x_train[3]) and picked.y_train[1] == ds.y_train[1]
    assert picked.x_test.shape == ds.x_test.shape


def test_summaries_offline():
    rows = {r["id"]: r for r in dataset_summaries()}
    assert rows["builtin"]["available"] and rows["builtin"]["train_size"] == 2000
    assert rows["cifar10"]["available"] is False and rows["cifar10"]["location"] is None
    assert rows["cifar100"]["classes"] == 100 and rows["cifar100-coarse"]["classes"] == 20
    assert set(rows["cifar10"]) == {"id", "title", "classes", "image_shape", "train_size", "test_size",
                                    "available", "location"}
    assert rows["mnist"]["image_shape"] == [28, 28, 1] and rows["cifar10"]["image_shape"] == [32, 32, 3]
    assert rows["mnist"]["available"] is False and rows["fashion_mnist"]["location"] is None
    assert dataset_available("builtin") and not dataset_available("cifar10")


def test_importing_datasets_never_imports_tensorflow_or_qt():
    code = ("import sys, workbench.core.datasets as d; d.load_dataset('builtin');"
            "bad=[m for m in sys.modules if m.split('.')[0] in ('tensorflow','keras','PySide6')];"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
