"""Training follows the dataset: networks built for its image shape (or refused before anything loads),
flips only where a mirror image keeps its class, top-5 left out where it cannot miss. Real TensorFlow on
tiny data (generated MNIST files in the official format, the 5-class built-in set)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from tests.core.mnist_fixtures import write_mnist_npz
from workbench.core.datasets import DATASETS
from workbench.core.training import EpochEnded, TrainConfig, TrainingFailed, TrainingFinished, TrainingStarted, train


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    write_mnist_npz(tmp_path / "keras" / "datasets" / "mnist.npz", n_train=96, n_test=24)
    return tmp_path / "keras"


def collect(config):
    events = []
    final = train(config, events.append)
    return final, events


def test_mnist_trains_a_network_built_for_28x28x1_without_flips(tmp_path, keras_home):
    from workbench.core.modelio import read_metadata

    config = TrainConfig(dataset="mnist", arch="simple_cnn", epochs=1, batch_size=32, augment=True,
                         run_dir=str(tmp_path / "run"))
    final, events = collect(config)
    assert isinstance(final, TrainingFinished), getattr(final, "message", final)
    started = next(e for e in events if isinstance(e, TrainingStarted))
    assert started.image_shape == (28, 28, 1)
    assert "no flips" in started.augmentation and "MNIST" in started.augmentation
    assert started.top5_note is None  # 10 classes: top-5 can miss, so it is measured
    assert read_metadata(final.model_path)["input_shape"] == [28, 28, 1]
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())
    assert recorded["image_shape"] == [28, 28, 1] and "no flips" in recorded["augmentation"]


def test_a_network_that_cannot_take_the_images_is_refused_before_tensorflow_and_writes_nothing(
        tmp_path, monkeypatch):
    tiny = dataclasses.replace(DATASETS["builtin"], id="tiny", title="Tiny set", image_shape=(16, 16, 3))
    monkeypatch.setitem(DATASETS, "tiny", tiny)
    from workbench.core.training import engine

    started = []
    monkeypatch.setattr(engine, "ensure_tensorflow", lambda: started.append("tensorflow"))
    config = TrainConfig(dataset="tiny", arch="simple_cnn", epochs=1, runs_root=str(tmp_path / "runs"))
    final, events = collect(config)
    assert isinstance(final, TrainingFailed) and final.run_dir is None
    assert final.message == (
        "simple_cnn needs images of at least 22×22 pixels (its three 3×3 valid convolutions and three 2×2 "
        "max-poolings leave nothing of smaller ones), not 16×16: Tiny set has 16×16×3 images, so choose "
        "another network.")
    assert started == []  # refused before TensorFlow (and the data) would load
    assert not (tmp_path / "runs").exists()


def test_five_classes_leave_top5_out_instead_of_a_trivial_100_percent(tmp_path):
    config = TrainConfig(dataset="builtin", arch="simple_cnn", epochs=1, batch_size=64, limit=128,
                         test_limit=32, run_dir=str(tmp_path / "run"))
    final, events = collect(config)
    assert isinstance(final, TrainingFinished)
    started = next(e for e in events if isinstance(e, TrainingStarted))
    assert started.top5_note == "top-5 is meaningless with 5 classes (every answer is among the top 5)"
    ended = [e for e in events if isinstance(e, EpochEnded)]
    assert ended and all(e.top5 is None and e.val_top5 is None for e in ended)
    assert final.test_top5 is None and final.test_top1 is not None


def test_crop_only_augmentation_never_mirrors():
    import tensorflow as tf

    from workbench.core.training.augment import crop_and_flip

    # Every row climbs from left to right: a mirrored image would have a falling row.
    row = np.arange(1, 29, dtype=np.uint8) * 9
    images = np.broadcast_to(row[None, None, :, None], (64, 28, 28, 1)).copy()
    out = crop_and_flip(tf.constant(images), seed=1, flip=False).numpy()[..., 0].astype(int)
    mid = out[:, 14, :]  # rows near the middle are never padding
    falling = [(np.diff(r[r > 0]) < 0).any() for r in mid]
    assert not any(falling)
    flipped = crop_and_flip(tf.constant(images), seed=1, flip=True).numpy()[..., 0].astype(int)[:, 14, :]
    assert any((np.diff(r[r > 0]) < 0).any() for r in flipped)  # the check can fail: flips are seen


def test_mirror_safety_is_a_dataset_fact():
    assert DATASETS["mnist"].mirror_safe is False  # a mirrored 2 or 7 is not a digit
    assert DATASETS["fashion_mnist"].mirror_safe and DATASETS["cifar10"].mirror_safe
