"""The resize rule of an imported folder travels with the model: recorded in the dataset info and the
model file, and `classify` feeds a new photo exactly the pixels the import made of it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.core.folder_fixtures import noise, save
from workbench.core.datasets.folder_import import import_folder


def _photo_tree(root):
    """Two classes of photos of various sizes and modes (RGBA, grayscale, a JPEG, a tall one)."""
    save(root / "cats" / "wide.png", noise((300, 200), 1))
    save(root / "cats" / "tall.png", noise((97, 131), 2))
    save(root / "cats" / "alpha.png", Image.fromarray(
        np.random.default_rng(3).integers(0, 256, (80, 120, 4), dtype=np.uint8), "RGBA"))
    save(root / "cats" / "photo.jpg", noise((640, 480), 4), quality=90)
    save(root / "dogs" / "gray.png", noise((50, 70), 5, "L"))
    save(root / "dogs" / "small.png", noise((20, 45), 6))
    save(root / "dogs" / "square.png", noise((64, 64), 7))
    save(root / "dogs" / "big.jpg", noise((1200, 700), 8), quality=85)
    return root


def _model(shape, classes=2):
    import keras

    from workbench.core.modelio.load import LoadedModel

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape), keras.layers.Rescaling(1 / 255.0), keras.layers.Conv2D(2, 3),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(classes, activation="softmax")])
    return LoadedModel.from_keras(model, ["cats", "dogs"])


@pytest.mark.parametrize("fit", ["crop", "pad"])
def test_imported_folder_records_its_resize_rule(tmp_path, monkeypatch, fit):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    result = import_folder(_photo_tree(tmp_path / "photos"), size=32, color="rgb", fit=fit)
    assert result.dataset.info.fit == fit


@pytest.mark.parametrize("color", ["rgb", "grayscale"])
@pytest.mark.parametrize("fit", ["crop", "pad"])
def test_classify_feeds_exactly_the_imported_pixels(tmp_path, monkeypatch, fit, color):
    from workbench.core.classify import classify_images

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    root = _photo_tree(tmp_path / "photos")
    result = import_folder(root, size=32, color=color, fit=fit)
    data = result.dataset
    rows = list(zip(result.train_files, data.x_train)) + list(zip(result.test_files, data.x_test))
    assert len(rows) == 8
    loaded = _model(data.x_train.shape[1:])
    results = classify_images(loaded, [root / name for name, _ in rows], fit=fit)
    for (name, row), r in zip(rows, results):
        assert r.ok, r.error
        assert r.model_input.dtype == np.uint8 and r.model_input.shape == row.shape, name
        differ = int(np.abs(r.model_input.astype(int) - row.astype(int)).max())
        assert differ == 0, f"{name}: classify's input differs from the imported row by up to {differ}"
