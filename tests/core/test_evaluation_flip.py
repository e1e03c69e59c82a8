"""Test-time flip at evaluation: a model whose run measured itself with flip averaging is evaluated the same
way (so `evaluate` reproduces the run's figure), said in the result's steps, and never on images that
mirroring changes."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.evaluation import FLIP_STEP, EvaluationError, evaluate, flip_for


@pytest.fixture(scope="module")
def lopsided_model():
    """A model that is not mirror-symmetric: its scores depend on where in the image the light is."""
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Rescaling(1 / 255.0), keras.layers.Flatten(),
                             keras.layers.Dense(4, activation="softmax")])


def test_flip_averages_each_image_with_its_mirror(lopsided_model):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 8, 8, 3), dtype=np.uint8)
    y = rng.integers(0, 4, 40)
    names = list("abcd")
    plain = evaluate(lopsided_model, x, y, names)
    flipped = evaluate(lopsided_model, x, y, names, flip=True, batch_size=7)
    expected = (lopsided_model.predict(x.astype("float32"), verbose=0)
                + lopsided_model.predict(x[:, :, ::-1].astype("float32"), verbose=0)) / 2
    np.testing.assert_allclose(flipped.probabilities, expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(plain.probabilities, flipped.probabilities)  # the model is not symmetric
    assert FLIP_STEP in flipped.steps and FLIP_STEP not in plain.steps


def test_the_model_file_decides_where_images_may_be_mirrored(tmp_path, lopsided_model):
    from workbench.core.modelio import load_any_model, save_model

    flipped_run, plain_run = tmp_path / "flip.h5", tmp_path / "plain.h5"
    save_model(lopsided_model, flipped_run, class_names=list("abcd"), dataset_id="builtin", extra={"tta_flip": True})
    save_model(lopsided_model, plain_run, class_names=list("abcd"), dataset_id="builtin", extra={"tta_flip": False})
    with_flip, without = load_any_model(flipped_run), load_any_model(plain_run)
    assert with_flip.trained_with_flip_tta and not without.trained_with_flip_tta
    assert flip_for(with_flip, mirror_safe=True) is True
    assert flip_for(without, mirror_safe=True) is False
    assert flip_for(with_flip, mirror_safe=False) is False  # digits: never mirrored, whatever the file says
    assert flip_for(with_flip, mirror_safe=True, choice="off") is False
    assert flip_for(without, mirror_safe=True, choice="on") is True
    with pytest.raises(EvaluationError, match="mirrored"):
        flip_for(without, mirror_safe=False, choice="on")
    with pytest.raises(EvaluationError, match="one of"):
        flip_for(without, mirror_safe=True, choice="sometimes")
