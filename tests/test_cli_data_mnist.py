"""`datasets` and `download` for MNIST and Fashion-MNIST on the command line."""

import dataclasses
import json

import pytest

from tests.core.archive_server import ArchiveServer
from tests.core.mnist_fixtures import IDX_NAMES, sha256_of, write_fashion_idx, write_mnist_npz
from workbench.cli import main
from workbench.core.datasets import DATASETS
from workbench.core.datasets.registry import SourceFile


@pytest.fixture(autouse=True)
def homes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "workbench"))
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("WORKBENCH_CIFAR_MIRROR", raising=False)
    return tmp_path / "keras" / "datasets"


def test_datasets_lists_mnist_and_fashion_with_image_size(homes, tmp_path, capsys):
    write_mnist_npz(homes / "mnist.npz")
    write_fashion_idx(tmp_path / "mine" / "fashion-mnist")
    assert main(["datasets", "--data-dir", str(tmp_path / "mine")]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "image" in lines["id"]
    assert "28x28x1" in lines["mnist"] and f"yes ({homes / 'mnist.npz'})" in lines["mnist"]
    assert "28x28x1" in lines["fashion_mnist"] and str(tmp_path / "mine" / "fashion-mnist") in lines["fashion_mnist"]
    assert "32x32x3" in lines["cifar10"] and lines["cifar10"].endswith(" no")
    assert main(["datasets", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["fashion_mnist"]["image_shape"] == [28, 28, 1] and rows["fashion_mnist"]["available"] is False


def test_download_mnist_from_a_mirror(homes, tmp_path, monkeypatch, capsys):
    fake = write_mnist_npz(tmp_path / "served" / "mnist.npz", n_train=500)
    info = DATASETS["mnist"]
    monkeypatch.setitem(DATASETS, "mnist", dataclasses.replace(
        info, files=(SourceFile("mnist.npz", sha256_of(fake.path), fake.path.stat().st_size),)))
    with ArchiveServer(fake.path.read_bytes()) as server:
        rc = main(["download", "mnist", "--url", server.url("/mnist.npz")])
    out, err = capsys.readouterr()
    assert rc == 0 and f"mnist is ready in {homes / 'mnist.npz'}" in out
    assert "MB" in err and err.endswith("\n")


def test_download_fashion_mnist_from_a_mirror_folder(homes, tmp_path, monkeypatch, capsys):
    fake = write_fashion_idx(tmp_path / "served")
    info = DATASETS["fashion_mnist"]
    monkeypatch.setitem(DATASETS, "fashion_mnist", dataclasses.replace(info, files=tuple(
        SourceFile(f.name, sha256_of(fake.path / f.name), 1000) for f in info.files)))
    payload = {f"/files/{name}": (fake.path / name).read_bytes() for name in IDX_NAMES.values()}
    with ArchiveServer(payload) as server:
        rc = main(["download", "fashion_mnist", "--data-dir", str(tmp_path / "dl"), "--url", server.url("/files")])
    assert rc == 0 and f"ready in {tmp_path / 'dl' / 'fashion-mnist'}" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "dl" / "fashion-mnist").iterdir()) == sorted(IDX_NAMES.values())


def test_official_checksum_failure_is_one_error_line(homes, tmp_path, capsys):
    fake = write_mnist_npz(tmp_path / "served" / "mnist.npz")
    with ArchiveServer(fake.path.read_bytes()) as server:
        rc = main(["download", "mnist", "--data-dir", str(tmp_path / "dl"), "--url", server.url("/mnist.npz")])
    err = capsys.readouterr().err
    assert rc == 1 and "SHA-256 checksum" in err and err.count("error:") == 1
    assert not (tmp_path / "dl" / "mnist.npz").exists()


def test_md5_is_a_usage_error_for_mnist(tmp_path, capsys):
    rc = main(["download", "mnist", "--data-dir", str(tmp_path / "dl"), "--url", "http://127.0.0.1:9/x",
               "--md5", "a" * 32])
    err = capsys.readouterr().err
    assert rc == 2 and "--md5 is for the CIFAR archives" in err and err.count("\n") == 1
    assert not (tmp_path / "dl").exists()
