"""MNIST (mnist.npz) and Fashion-MNIST (IDX .gz files): found where Keras leaves them or in a data dir,
loaded as uint8 N x 28 x 28 x 1 through the verified cache, downloaded from a local server."""

import dataclasses
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from tests.core.archive_server import ArchiveServer
from tests.core.mnist_fixtures import IDX_NAMES, sha256_of, write_fashion_idx, write_mnist_npz
from workbench.core.datasets import (
    DATASETS,
    DatasetError,
    DatasetNotFound,
    DownloadCancelled,
    dataset_location,
    dataset_summaries,
    download_dataset,
    load_dataset,
)
from workbench.core.datasets.cache import cache_dir
from workbench.core.datasets.registry import SourceFile


@pytest.fixture
def keras_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("WORKBENCH_CIFAR_MIRROR", raising=False)
    return tmp_path / "keras" / "datasets"


def _same(ds, fake):
    assert ds.x_train.shape == (len(fake.y_train), 28, 28, 1) and ds.x_train.dtype == np.uint8
    assert ds.image_shape == (28, 28, 1)
    assert np.array_equal(ds.x_train[..., 0], fake.x_train) and np.array_equal(ds.x_test[..., 0], fake.x_test)
    assert np.array_equal(ds.y_train, fake.y_train) and np.array_equal(ds.y_test, fake.y_test)
    assert ds.y_train.dtype == np.int64


def test_mnist_found_in_keras_home(keras_dir):
    fake = write_mnist_npz(keras_dir / "mnist.npz")
    assert dataset_location("mnist") == keras_dir / "mnist.npz"
    ds = load_dataset("mnist")
    _same(ds, fake)
    assert ds.class_names[0] == "0" and ds.num_classes == 10


def test_fashion_mnist_found_in_keras_home(keras_dir):
    fake = write_fashion_idx(keras_dir / "fashion-mnist")
    ds = load_dataset("fashion_mnist")
    _same(ds, fake)
    assert ds.class_names[-1] == "Ankle boot"


@pytest.mark.parametrize("where", ["folder", "file"])
def test_mnist_found_in_data_dir(keras_dir, tmp_path, where):
    fake = write_mnist_npz(tmp_path / "mine" / ("mnist.npz" if where == "folder" else "digits-copy.npz"))
    data_dir = fake.path.parent if where == "folder" else fake.path
    _same(load_dataset("mnist", data_dir), fake)
    assert next(r for r in dataset_summaries(data_dir) if r["id"] == "mnist")["location"] == str(fake.path)


@pytest.mark.parametrize("sub", ["", "fashion-mnist"])
def test_fashion_mnist_found_in_data_dir(keras_dir, tmp_path, sub):
    fake = write_fashion_idx(tmp_path / "mine" / sub)
    _same(load_dataset("fashion_mnist", tmp_path / "mine"), fake)


def test_both_in_one_folder_keep_separate_caches(keras_dir, tmp_path):
    mnist = write_mnist_npz(tmp_path / "both" / "mnist.npz", seed=3)
    fashion = write_fashion_idx(tmp_path / "both", seed=4)
    for _ in range(2):  # the second round comes from the caches, which must not overwrite each other
        _same(load_dataset("mnist", tmp_path / "both"), mnist)
        _same(load_dataset("fashion_mnist", tmp_path / "both"), fashion)
    assert isinstance(load_dataset("mnist", tmp_path / "both").x_train, np.memmap)


def test_cache_is_reused_and_rebuilt_when_the_file_changes(keras_dir, monkeypatch):
    from workbench.core.datasets import loading

    parse, calls = loading.read_mnist_npz, []
    monkeypatch.setattr(loading, "read_mnist_npz", lambda *a: calls.append(a) or parse(*a))
    write_mnist_npz(keras_dir / "mnist.npz", seed=1)
    load_dataset("mnist")
    again = load_dataset("mnist")
    assert isinstance(again.x_train, np.memmap) and len(calls) == 1
    assert (cache_dir(keras_dir, "mnist.npz") / "x_train.npy").is_file()
    newer = write_mnist_npz(keras_dir / "mnist.npz", n_train=7, seed=2)
    _same(load_dataset("mnist"), newer)
    assert len(calls) == 2


def test_not_found_names_the_files_and_where(keras_dir, tmp_path):
    with pytest.raises(DatasetNotFound) as info:
        load_dataset("mnist", tmp_path / "nothing")
    text = str(info.value)
    assert "MNIST" in text and "mnist.npz" in text and str(keras_dir) in text and str(tmp_path / "nothing") in text
    assert "storage.googleapis.com" in text and "\n" not in text
    assert info.value.cli_hint == "Run `workbench download mnist` or pass --download to fetch it."


def test_incomplete_fashion_folder_lists_missing_files(keras_dir):
    fake = write_fashion_idx(keras_dir / "fashion-mnist")
    (fake.path / IDX_NAMES["x_test"]).unlink()
    with pytest.raises(DatasetNotFound, match="missing t10k-images-idx3-ubyte.gz") as info:
        load_dataset("fashion_mnist")
    assert info.value.incomplete == ((fake.path, (IDX_NAMES["x_test"],)),)


# --- downloads from a real local HTTP server ---------------------------------------------------------

def _registered_for(monkeypatch, dataset_id, files):
    """Point the registry at the fake files' SHA-256 (the official sums name the real files)."""
    info = DATASETS[dataset_id]
    fake = tuple(SourceFile(f.name, sha256_of(files[f.name]), files[f.name].stat().st_size) for f in info.files)
    monkeypatch.setitem(DATASETS, dataset_id, dataclasses.replace(info, files=fake))


def test_mnist_downloads_into_keras_home_and_loads(keras_dir, tmp_path, monkeypatch):
    fake = write_mnist_npz(tmp_path / "served" / "mnist.npz", n_train=300)
    _registered_for(monkeypatch, "mnist", {"mnist.npz": fake.path})
    seen = []
    with ArchiveServer(fake.path.read_bytes()) as server:
        monkeypatch.setenv("WORKBENCH_CIFAR_MIRROR", server.url("/"))
        ds = load_dataset("mnist", download=True, progress=lambda d, t: seen.append((d, t)))
        path = download_dataset("mnist", url=server.url("/mnist.npz"))
    _same(ds, fake)
    assert path == keras_dir / "mnist.npz" and sha256_of(path) == sha256_of(fake.path)
    assert seen[-1] == (fake.path.stat().st_size,) * 2
    assert [p for p, _ in server.requests] == ["/mnist.npz"]  # the 2nd call found the file and kept it


def test_fashion_mnist_downloads_four_files_with_one_progress(keras_dir, tmp_path, monkeypatch):
    fake = write_fashion_idx(tmp_path / "served", n_train=400, n_test=100)
    files = {name: fake.path / name for name in IDX_NAMES.values()}
    _registered_for(monkeypatch, "fashion_mnist", files)
    payload = {f"/mirror/{name}": path.read_bytes() for name, path in files.items()}
    seen = []
    with ArchiveServer(payload) as server:
        monkeypatch.setenv("WORKBENCH_CIFAR_MIRROR", server.url("/mirror/"))
        folder = download_dataset("fashion_mnist", progress=lambda d, t: seen.append((d, t)))
    assert folder == keras_dir / "fashion-mnist"
    total = sum(p.stat().st_size for p in files.values())
    assert seen[-1] == (total, total)
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    assert sorted(p for p, _ in server.requests) == sorted(payload)
    _same(load_dataset("fashion_mnist"), fake)


def test_checksum_mismatch_is_refused_and_nothing_kept(keras_dir, tmp_path):
    fake = write_mnist_npz(tmp_path / "served" / "mnist.npz")  # not the official file
    with ArchiveServer(fake.path.read_bytes()) as server:
        with pytest.raises(DatasetError, match="SHA-256 checksum .* expected 731c5ac6") as info:
            download_dataset("mnist", tmp_path / "dl", url=server.url("/mnist.npz"))
    assert "\n" not in str(info.value)
    assert not (tmp_path / "dl" / "mnist.npz").exists() and not list((tmp_path / "dl").glob("*.part"))


def test_fashion_download_cancel_leaves_no_data(keras_dir, tmp_path, monkeypatch):
    fake = write_fashion_idx(tmp_path / "served", n_train=3000)  # ~2.4 MB of incompressible pixels
    files = {name: fake.path / name for name in IDX_NAMES.values()}
    _registered_for(monkeypatch, "fashion_mnist", files)
    cancel = threading.Event()
    payload = {f"/{name}": path.read_bytes() for name, path in files.items()}
    with ArchiveServer(payload, mode="slow") as server:
        with pytest.raises(DownloadCancelled):
            download_dataset("fashion_mnist", tmp_path / "dl", url=server.url("/"), cancel=cancel,
                             progress=lambda done, total: done > 200_000 and cancel.set())
    assert not (tmp_path / "dl" / "fashion-mnist" / IDX_NAMES["x_train"]).exists()
    with pytest.raises(DatasetNotFound):
        load_dataset("fashion_mnist", tmp_path / "dl")


def test_md5_override_is_refused_for_plain_files(keras_dir, tmp_path):
    with pytest.raises(DatasetError, match="SHA-256"):
        download_dataset("mnist", tmp_path / "dl", url="http://127.0.0.1:9/mnist.npz", md5="0" * 32)
    assert not (tmp_path / "dl").exists()


def test_an_npz_given_as_data_dir_is_not_taken_for_a_cifar_archive(keras_dir, tmp_path):
    from tests.core.cifar_fixtures import write_cifar10

    npz = write_mnist_npz(tmp_path / "mnist.npz").path
    rows = {r["id"]: r for r in dataset_summaries(npz)}
    assert rows["mnist"]["available"] and not rows["cifar10"]["available"]
    write_cifar10(keras_dir)  # CIFAR in the Keras cache is still found beside the given file
    assert dataset_location("cifar10", npz) == keras_dir / "cifar-10-batches-py"


def test_keras_reads_the_fashion_files_where_we_find_them(keras_dir, tmp_path):
    """The layout we search and download into is the one keras.datasets itself uses."""
    fake = write_fashion_idx(keras_dir / "fashion-mnist", n_train=20, n_test=5)
    # Keras reads KERAS_HOME once, when it is first imported: ask a fresh process.
    out = tmp_path / "keras.npz"
    code = ("import sys, numpy as np; from keras.datasets import fashion_mnist; "
            "(a, b), (c, d) = fashion_mnist.load_data(); np.savez(sys.argv[1], x_train=a, y_test=d)")
    env = {**os.environ, "KERAS_HOME": str(keras_dir.parent)}
    subprocess.run([sys.executable, "-c", code, str(out)], env=env, check=True, timeout=300,
                   capture_output=True)
    with np.load(out) as keras_arrays:
        x_train, y_test = keras_arrays["x_train"], keras_arrays["y_test"]
    ds = load_dataset("fashion_mnist")
    assert np.array_equal(x_train, ds.x_train[..., 0]) and np.array_equal(y_test, ds.y_test)
    assert np.array_equal(x_train, fake.x_train)


@pytest.mark.parametrize("dataset_id", ["mnist", "cifar10"])
def test_download_into_a_file_is_one_sentence(keras_dir, tmp_path, dataset_id):
    existing = write_mnist_npz(tmp_path / "mnist.npz").path
    with pytest.raises(DatasetError, match="it is a file, not a folder; give the folder to download into"):
        download_dataset(dataset_id, existing, url="http://127.0.0.1:9/x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist.npz"]


def test_broken_mnist_transfer_is_resumed_and_verified(keras_dir, tmp_path, monkeypatch):
    fake = write_mnist_npz(tmp_path / "served" / "mnist.npz", n_train=600)
    _registered_for(monkeypatch, "mnist", {"mnist.npz": fake.path})
    with ArchiveServer(fake.path.read_bytes(), mode="drop_first") as server:
        path = download_dataset("mnist", tmp_path / "dl", url=server.url("/mnist.npz"), retry_wait=0.01)
    assert sha256_of(path) == sha256_of(fake.path)
    assert server.requests[1][1] == f"bytes={fake.path.stat().st_size // 2}-"  # the second asked for the rest
    _same(load_dataset("mnist", tmp_path / "dl"), fake)


def test_original_mnist_idx_files_are_not_read_as_fashion(keras_dir, tmp_path, monkeypatch):
    import hashlib

    from workbench.core.datasets import locate

    lecun = write_fashion_idx(tmp_path / "MNIST" / "raw")  # same four names as LeCun's MNIST files
    labels = (lecun.path / IDX_NAMES["y_train"]).read_bytes()
    # Stand-in for LeCun's real file: the check goes by the official file's MD5.
    monkeypatch.setattr(locate, "ORIGINAL_MNIST_TRAIN_LABELS_MD5", hashlib.md5(labels).hexdigest())
    with pytest.raises(DatasetError, match="holds the original MNIST digits .* not Fashion-MNIST") as info:
        load_dataset("fashion_mnist", lecun.path)
    assert str(lecun.path) in str(info.value) and "\n" not in str(info.value)
    row = next(r for r in dataset_summaries(lecun.path) if r["id"] == "fashion_mnist")
    assert row["available"] is False
