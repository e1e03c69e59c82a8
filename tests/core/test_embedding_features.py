"""Penultimate-layer features through the model's preprocessing: the same numbers a Keras sub-model
gives, for a plain model and for the same network nested inside another, with the probabilities of the
same pass, progress and cancel."""

import threading

import numpy as np
import pytest

from workbench.core.embedding.features import FeatureError, FeaturesCancelled, extract_features


def _base(logits=False):
    import keras

    keras.utils.set_random_seed(3)
    inp = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(6, 3, activation="relu", name="conv")(inp)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dense(5, activation="relu", name="hidden")(x)
    x = keras.layers.Dropout(0.3, name="drop")(x)
    out = keras.layers.Dense(3, activation=None if logits else "softmax", name="head")(x)
    return keras.Model(inp, out, name="base")


@pytest.fixture(scope="module")
def models():
    import keras

    plain = _base()
    nested_base = _base()
    nested = keras.Sequential([keras.Input((16, 16, 3)), nested_base], name="wrapper")
    return {"plain": (plain, plain), "nested": (nested, nested_base)}


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, (70, 16, 16, 3), dtype=np.uint8)


@pytest.mark.parametrize("kind", ["plain", "nested"])
def test_features_equal_a_sub_models_output(models, images, kind):
    import keras

    from workbench.core.modelio.loaded_model import LoadedModel

    model, base = models[kind]
    loaded = LoadedModel.from_keras(model, ["a", "b", "c"], preprocessing="scale_0_1")
    seen = []
    f = extract_features(loaded, images, batch_size=16, progress=lambda done, total: seen.append((done, total)))
    assert f.layer == ("hidden" if kind == "plain" else "base/hidden")  # dropout is skipped: identity at inference
    assert f.vectors.shape == (70, 5) and f.vectors.dtype == np.float32
    sub = keras.Model(base.input, base.get_layer("hidden").output)
    expected = np.asarray(sub(images.astype(np.float32) / 255.0, training=False))
    np.testing.assert_allclose(f.vectors, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(f.probabilities, loaded.predict_proba(images), rtol=1e-5, atol=1e-6)
    assert seen[-1] == (70, 70) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_a_logits_model_gives_probabilities(images):
    from workbench.core.modelio.loaded_model import LoadedModel

    loaded = LoadedModel.from_keras(_base(logits=True), ["a", "b", "c"])
    assert loaded.outputs_logits
    f = extract_features(loaded, images[:10])
    np.testing.assert_allclose(f.probabilities.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(f.probabilities, loaded.predict_proba(images[:10]), rtol=1e-5, atol=1e-6)


def test_another_layer_and_images_of_another_size(models, images):
    from workbench.core.modelio.loaded_model import LoadedModel

    loaded = LoadedModel.from_keras(models["plain"][0], ["a", "b", "c"])
    bigger = np.random.default_rng(1).integers(0, 256, (4, 20, 20, 3), dtype=np.uint8)
    f = extract_features(loaded, bigger, layer="conv")
    assert f.vectors.shape == (4, 6)  # 14 × 14 × 6 averaged over space
    assert any("resized" in s or "crop" in s for s in f.steps) and any("averaged" in s for s in f.steps)


def test_cancel_stops_and_bad_input_is_a_sentence(models, images):
    from workbench.core.modelio.loaded_model import LoadedModel

    loaded = LoadedModel.from_keras(models["plain"][0], ["a", "b", "c"])
    stop = threading.Event()
    calls = []

    def progress(done, total):
        calls.append(done)
        stop.set()

    with pytest.raises(FeaturesCancelled):
        extract_features(loaded, images, batch_size=8, progress=progress, cancel=stop)
    assert calls == [32]  # stopped after the first chunk of 4 batches
    with pytest.raises(FeatureError, match="N×H×W×C"):
        extract_features(loaded, np.zeros((0, 16, 16, 3), np.uint8))
    with pytest.raises(FeatureError, match="no layer named 'nope'"):
        extract_features(loaded, images[:2], layer="nope")
