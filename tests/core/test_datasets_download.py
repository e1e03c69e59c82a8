"""Downloads against a real HTTP server on 127.0.0.1: checksum, resume, retry, cancel, mirror."""

import dataclasses
import socket
import threading

import numpy as np
import pytest

from tests.core.archive_server import ArchiveServer
from tests.core.cifar_fixtures import file_md5, make_archive, write_cifar10
from workbench.core.datasets import (
    DATASETS,
    DatasetError,
    DownloadCancelled,
    download_dataset,
    load_dataset,
)


@pytest.fixture
def homes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "workbench"))
    monkeypatch.delenv("WORKBENCH_CIFAR_MIRROR", raising=False)
    return tmp_path / "keras" / "datasets"


@pytest.fixture
def archive(tmp_path):
    # ~1.5 MB: several 256 KB chunks, so progress, cancel and resume all get exercised.
    fake = write_cifar10(tmp_path / "src", n_train_per_batch=100, n_test=100, seed=4)
    path = make_archive(fake.folder, tmp_path / "served" / "cifar-10-python.tar.gz")
    return fake, path.read_bytes(), file_md5(path)


def test_good_archive_downloads_extracts_and_loads(homes, tmp_path, archive):
    fake, payload, md5 = archive
    seen = []
    with ArchiveServer(payload) as server:
        folder = download_dataset("cifar10", tmp_path / "dl", url=server.url(), md5=md5,
                                  progress=lambda done, total: seen.append((done, total)))
    assert folder == tmp_path / "dl" / "cifar-10-batches-py"
    assert seen[-1] == (len(payload), len(payload)) and len(seen) > 3
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    ds = load_dataset("cifar10", tmp_path / "dl")
    assert np.array_equal(ds.x_train, fake.x_train) and np.array_equal(ds.y_test, fake.y_test)
    assert not list((tmp_path / "dl").glob("*.part"))


def test_default_destination_is_keras_cache(homes, archive):
    _, payload, md5 = archive
    with ArchiveServer(payload) as server:
        folder = download_dataset("cifar10", url=server.url(), md5=md5)
    assert folder == homes / "cifar-10-batches-py"
    assert (homes / "cifar-10-python.tar.gz").is_file()


def test_corrupted_archive_is_checksum_error_and_nothing_left(homes, tmp_path, archive):
    _, payload, md5 = archive
    broken = bytearray(payload)
    broken[len(broken) // 3] ^= 0xFF
    dest = tmp_path / "dl"
    with ArchiveServer(bytes(broken)) as server:
        with pytest.raises(DatasetError, match=f"checksum .*expected {md5}.*deleted"):
            download_dataset("cifar10", dest, url=server.url(), md5=md5)
    assert list(dest.iterdir()) == []


def test_dropped_connection_is_resumed_with_range(homes, tmp_path, archive):
    fake, payload, md5 = archive
    with ArchiveServer(payload, mode="drop_first") as server:
        download_dataset("cifar10", tmp_path / "dl", url=server.url(), md5=md5, retry_wait=0.01)
    assert len(server.requests) == 2
    assert server.requests[0][1] is None
    assert server.requests[1][1] == f"bytes={len(payload) // 2}-"
    assert np.array_equal(load_dataset("cifar10", tmp_path / "dl").x_test, fake.x_test)


def test_server_ignoring_range_restarts_cleanly(homes, tmp_path, archive):
    fake, payload, md5 = archive
    with ArchiveServer(payload, mode="ignore_range") as server:
        download_dataset("cifar10", tmp_path / "dl", url=server.url(), md5=md5, retry_wait=0.01)
    assert len(server.requests) == 2 and server.requests[1][1] is not None
    assert file_md5(tmp_path / "dl" / "cifar-10-python.tar.gz") == md5


def test_mirror_env_and_load_with_download(homes, monkeypatch, archive):
    fake, payload, md5 = archive
    info = DATASETS["cifar10"]
    monkeypatch.setitem(DATASETS, "cifar10", dataclasses.replace(info, md5=md5))
    with ArchiveServer(payload) as server:
        monkeypatch.setenv("WORKBENCH_CIFAR_MIRROR", server.url("/mirror/"))
        ds = load_dataset("cifar10", download=True)
    assert server.requests[0][0] == "/mirror/cifar-10-python.tar.gz"
    assert np.array_equal(ds.x_train, fake.x_train)
    assert (homes / "cifar-10-batches-py").is_dir()
    # The official archive is also offered to keras.datasets under Keras 3's own name.
    assert (homes / "cifar-10-batches-py-target_archive").read_bytes() == payload


def test_offline_load_does_not_download(homes, archive):
    with ArchiveServer(archive[1]) as server:
        with pytest.raises(DatasetError, match="not found"):
            load_dataset("cifar10")
    assert server.requests == []


def test_cancel_raises_and_leaves_no_folder(homes, tmp_path, archive):
    _, payload, md5 = archive
    cancel = threading.Event()

    def progress(done, total):
        if done > 0:
            cancel.set()

    with ArchiveServer(payload) as server:
        with pytest.raises(DownloadCancelled):
            download_dataset("cifar10", tmp_path / "dl", url=server.url(), md5=md5,
                             progress=progress, cancel=cancel)
    assert not (tmp_path / "dl" / "cifar-10-batches-py").exists()
    assert not (tmp_path / "dl" / "cifar-10-python.tar.gz").exists()


def test_cancel_accepts_a_callable(homes, tmp_path, archive):
    with ArchiveServer(archive[1]) as server:
        with pytest.raises(DownloadCancelled):
            download_dataset("cifar10", tmp_path / "dl", url=server.url(), md5=archive[2],
                             cancel=lambda: True)


def test_http_404_is_one_clear_error_without_retries(homes, tmp_path, archive):
    with ArchiveServer(archive[1], mode="missing") as server:
        with pytest.raises(DatasetError, match="HTTP 404"):
            download_dataset("cifar10", tmp_path / "dl", url=server.url(), md5=archive[2])
    assert len(server.requests) == 1


def test_unreachable_server_fails_after_retries(homes, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before use: connection refused
    with pytest.raises(DatasetError, match="failed after 3 attempts"):
        download_dataset("cifar10", tmp_path / "dl", url=f"http://127.0.0.1:{port}/x.tar.gz",
                         md5="0" * 32, retries=2, retry_wait=0.01)
    assert not (tmp_path / "dl" / "cifar-10-batches-py").exists()


@pytest.mark.parametrize("mode, words", [("good", "offers 2 MB"), ("no_length", "sent more than 1 MB")])
def test_oversized_download_is_refused_and_nothing_kept(homes, tmp_path, archive, monkeypatch, mode, words):
    from workbench.core.datasets import download as download_module

    monkeypatch.setattr(download_module, "MAX_DOWNLOAD_BYTES", 1_000_000, raising=False)
    _, payload, md5 = archive  # about 1.5 MB
    dest = tmp_path / "dl"
    with ArchiveServer(payload, mode=mode) as server:
        with pytest.raises(DatasetError, match=words) as info:
            download_dataset("cifar10", dest, url=server.url(), md5=md5, retry_wait=0.01)
    assert len(server.requests) == 1 and "\n" not in str(info.value)
    assert list(dest.iterdir()) == []
