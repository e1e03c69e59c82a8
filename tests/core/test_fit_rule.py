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

    from workbench.core.modelio.loaded_model import LoadedModel

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape), keras.layers.Rescaling(1 / 255.0), keras.layers.Conv2D(2, 3),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(classes, activation="softmax")])
    return LoadedModel.from_keras(model, ["cats", "dogs"])


@pytest.mark.parametrize("fit", ["crop", "pad", "stretch"])
def test_imported_folder_records_its_resize_rule(tmp_path, monkeypatch, fit):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    result = import_folder(_photo_tree(tmp_path / "photos"), size=32, color="rgb", fit=fit)
    assert result.dataset.info.fit == fit


@pytest.mark.parametrize("color", ["rgb", "grayscale"])
@pytest.mark.parametrize("fit", ["crop", "pad", "stretch"])
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


def test_metadata_records_the_rule_and_drops_a_bad_one():
    from workbench.core.modelio.metadata import build_metadata, clean_metadata

    meta = build_metadata(class_names=["a", "b"], dataset_id="mine", input_shape=(32, 32, 3), fit="pad")
    assert meta["fit"] == "pad"
    assert "fit" not in build_metadata(class_names=["a", "b"], dataset_id="cifar10")
    with pytest.raises(ValueError, match="resize rule"):
        build_metadata(class_names=["a", "b"], dataset_id="mine", fit="squash")
    clean, problems = clean_metadata({**meta, "fit": "squash"}, "m.h5")
    assert "fit" not in clean and problems == (
        'The workbench metadata in m.h5 has a fit that is not one of crop, pad, stretch, so its resize rule was '
        'ignored.',)
    assert clean_metadata(meta, "m.h5")[0]["fit"] == "pad"
    # Converting a file (its metadata passed back as `extra`) keeps one top-level rule, not a copy in extra.
    again = build_metadata(class_names=["a", "b"], dataset_id="mine", fit=meta["fit"], extra=meta)
    assert again["fit"] == "pad" and "extra" not in again


def test_saved_model_exposes_the_rule_and_classify_says_so(tmp_path):
    from workbench.core.classify import classify_images, fit_warning
    from workbench.core.modelio import load_any_model, save_model

    loaded = _model((32, 32, 3))
    path = save_model(loaded.model, tmp_path / "m.h5", class_names=["cats", "dogs"], dataset_id="mine", fit="pad")
    again = load_any_model(path)
    assert again.fit_rule == "pad" and loaded.fit_rule is None
    photo = save(tmp_path / "wide.png", noise((64, 32), 1))
    [r] = classify_images(again, [photo])
    assert r.steps[-1] == "padded with black bars to 32×32 as in training"
    assert r.model_input[:8].max() == 0  # the bars
    [r] = classify_images(again, [photo], fit="crop")
    assert r.steps[0] == "centre-cropped 64×32 to 32×32"
    assert "padding with black bars (pad), but crop" in fit_warning(again, "crop")
    assert fit_warning(again, "pad") is None and fit_warning(again, None) is None and fit_warning(loaded, "crop") is None
