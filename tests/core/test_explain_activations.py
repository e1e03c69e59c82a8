"""Layers for one image (core): every spatial layer's maps, ordered by activation, with statistics that
match a direct computation, for a plain model and the same network nested inside another."""

from __future__ import annotations

import numpy as np
import pytest

from tests.explain_models import dense_only, nested, trained_cnn
from workbench.core.explain.activations import image_layers, layer_activations


@pytest.fixture(scope="module")
def models():
    from workbench.core.modelio.loaded_model import LoadedModel

    model, ds = trained_cnn()
    plain = LoadedModel.from_keras(model, ds.class_names, dataset_id="builtin")
    outer = LoadedModel.from_keras(nested(model), ds.class_names, dataset_id="builtin")
    return plain, outer, model, ds


def _direct(model, name, image):
    """The layer's output by a plain Keras sub-model (possible for the un-nested model only)."""
    import keras

    sub = keras.Model(model.inputs, model.get_layer(name).output)
    return np.asarray(sub(image[None].astype("float32"), training=False))[0]


def test_plain_model_maps_order_and_dead_share_match_a_direct_computation(models):
    plain, _outer, model, ds = models
    image = ds.x_test[7]
    got = image_layers(plain, image)
    names = [layer.name for layer in got.layers]
    assert {"conv1", "pool1", "conv2", "conv3"} <= set(names)
    assert names.index("conv1") < names.index("conv2") < names.index("conv3")
    assert got.layers[0].class_name == "Rescaling" and got.layers[0].dead_share is None  # scales pixels: no units
    for name in ("conv1", "conv2", "conv3"):
        layer = got.layer(name)
        act = _direct(model, name, image)
        means = act.reshape(-1, act.shape[-1]).mean(axis=0)
        assert layer.output_shape == act.shape
        assert np.all(np.diff(layer.channel_means) <= 1e-6)  # largest mean activation first
        np.testing.assert_allclose(layer.channel_means, means[layer.channels], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(layer.maps[0], act[..., layer.channels[0]], rtol=1e-4, atol=1e-5)
        assert layer.channels[0] == int(np.argmax(means))
        dead = np.mean(act.reshape(-1, act.shape[-1]).max(axis=0) <= 0)
        assert layer.dead_share == pytest.approx(dead)  # ReLU outputs: never negative
        assert layer.mean_activation == pytest.approx(float(act.mean()), rel=1e-4, abs=1e-6)
    probs = plain.predict_proba(image[None])[0]
    np.testing.assert_allclose(got.probabilities, probs, rtol=1e-4, atol=1e-5)
    conv1 = model.get_layer("conv1").kernel.shape
    assert got.filters.shape == (conv1[3], conv1[0], conv1[1], 3) and got.filters.dtype == np.uint8
    assert got.filters_layer == "conv1"
    per_filter = got.filters.reshape(len(got.filters), -1)
    assert np.all(per_filter.min(axis=1) == 0) and np.all(per_filter.max(axis=1) == 255)  # each scaled alone


def test_nested_model_gives_the_same_maps_under_paths(models):
    plain, outer, _model, ds = models
    image = ds.x_test[3]
    a = image_layers(plain, image)
    b = image_layers(outer, image)
    inner = {layer.name.split("/", 1)[-1]: layer for layer in b.layers}
    assert all("/" in layer.name for layer in b.layers)
    for layer in a.layers:
        np.testing.assert_allclose(inner[layer.name].maps, layer.maps, rtol=1e-4, atol=1e-5)
    assert b.filters is not None and b.filters_layer.endswith("conv1")


def test_caps_keep_the_most_active_channels_and_mark_signed_outputs():
    rng = np.random.default_rng(0)
    act = rng.normal(size=(5, 5, 10)).astype(np.float32)
    layer = layer_activations("x", "Conv2D", act, keep=3)
    assert len(layer.maps) == 3 and layer.total_channels == 10
    assert layer.dead_share is None  # negative values: not a ReLU output
    relu = np.maximum(act, 0)
    relu[..., 4] = 0
    layer = layer_activations("y", "ReLU", relu, keep=10)
    assert layer.dead_share == pytest.approx(np.mean(relu.reshape(-1, 10).max(axis=0) <= 0))
    assert layer.channels[-1] == 4 or layer.channel_means[-1] == 0


def test_a_model_without_convolutions_says_so(models):
    from workbench.core.modelio.loaded_model import LoadedModel

    *_, ds = models
    flat = LoadedModel.from_keras(dense_only(ds), ds.class_names)
    got = image_layers(flat, ds.x_test[0])
    assert [layer.class_name for layer in got.layers] == ["Rescaling"]  # its only layer with height × width
    assert got.filters is None and "no convolution" in got.notes[0]
