"""The CLI on data that is not CIFAR-shaped: `train --dataset mnist` on generated official-format files builds
a 28×28×1 network and saves that shape; `evaluate` and `classify` (a PNG of another size) agree with it; a
network that cannot take a dataset's images is a usage error that writes nothing."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from tests.core.mnist_fixtures import write_mnist_npz
from workbench.cli import main
from workbench.core.datasets import DATASETS


@pytest.fixture
def homes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "workbench"))
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    return tmp_path


def last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_mnist_trains_evaluates_and_classifies_at_28x28x1(homes, capsys):
    from PIL import Image

    from workbench.core.modelio import read_metadata

    fake = write_mnist_npz(homes / "keras" / "datasets" / "mnist.npz", n_train=120, n_test=20, seed=2)
    run = homes / "run"
    code = main(["train", "--dataset", "mnist", "--arch", "simple_cnn", "--epochs", "1", "--batch-size", "32",
                 "--augment", "--out", str(run), "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    trained = last_json(out.out)
    assert "images 28×28×1, augmentation: random crop (4-pixel padding) only — no flips" in out.err
    assert trained["status"] == "finished" and trained["test_top5"] is not None and "top5_note" not in trained
    assert read_metadata(trained["model_path"])["input_shape"] == [28, 28, 1]

    assert main(["evaluate", trained["model_path"], "--dataset", "mnist", "--json"]) == 0
    evaluated = last_json(capsys.readouterr().out)
    assert evaluated["n"] == 20 and evaluated["steps"] == []  # the test images go in as they are
    assert evaluated["top1"] == pytest.approx(trained["test_top1"], abs=1e-6)
    assert evaluated["model"]["input_shape"] == [28, 28, 1]

    # A test digit enlarged to 84×84 RGB: classify shrinks it back to 28×28 gray, as training saw it.
    digit = fake.x_test[0]
    photo = homes / "digit.png"
    Image.fromarray(np.repeat(np.kron(digit, np.ones((3, 3), np.uint8))[..., None], 3, axis=2)).save(photo)
    assert main(["classify", trained["model_path"], str(photo), "--json"]) == 0
    classified = last_json(capsys.readouterr().out)
    row = classified["images"][0]
    assert row["size"] == [84, 84] and any("resized 84×84 to 28×28" in s for s in row["steps"])
    assert any("grayscale" in s for s in row["steps"])
    assert {t["label"] for t in row["top"]} <= set("0123456789")


def test_a_network_that_cannot_take_the_images_is_a_usage_error_that_writes_nothing(homes, monkeypatch, capsys):
    tiny = dataclasses.replace(DATASETS["builtin"], id="tiny", title="Tiny set", image_shape=(16, 16, 3))
    monkeypatch.setitem(DATASETS, "tiny", tiny)
    code = main(["train", "--dataset", "tiny", "--arch", "simple_cnn", "--epochs", "1",
                 "--out", str(homes / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == (
        "error: simple_cnn needs images of at least 22×22 pixels (its three 3×3 valid convolutions and three "
        "2×2 max-poolings leave nothing of smaller ones), not 16×16: Tiny set has 16×16×3 images, so choose "
        "another network.")
    assert not (homes / "run").exists()
