"""graph.py reaches every layer of every model shape the workbench opens: the tapped output equals
model(x), each activation equals a sub-model computed directly, and gradients reach the activations."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.tf_import import ensure_tensorflow

ensure_tensorflow()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from workbench.core.explain import graph  # noqa: E402

SHAPE = (16, 16, 3)


def _x(n=3, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, *SHAPE)).astype(np.float32)


def _base(name="base", softmax=True, dtype=None):
    inp = keras.Input(SHAPE, name="pix")
    x = keras.layers.Rescaling(1 / 255.0, name="rescale")(inp)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv1", dtype=dtype)(x)
    x = keras.layers.BatchNormalization(name="bn", dtype=dtype)(x)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv2", dtype=dtype)(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap", dtype=dtype)(x)
    x = keras.layers.Dropout(0.3, name="drop")(x)
    out = keras.layers.Dense(5, activation="softmax" if softmax else None, name="head", dtype="float32")(x)
    return keras.Model(inp, out, name=name)


def _warm_bn(model):
    # Moving statistics away from 0/1, so a tap that ran batch norm in training mode would differ.
    bn = model.get_layer("bn") if "bn" in [l.name for l in model.layers] else None
    if bn is not None:
        bn.moving_mean.assign(np.full(bn.moving_mean.shape, 0.3, np.float32))
        bn.moving_variance.assign(np.full(bn.moving_variance.shape, 2.0, np.float32))
    return model


def _sequential():
    return keras.Sequential([
        keras.Input(SHAPE), keras.layers.Conv2D(4, 3, activation="relu", name="c1"),
        keras.layers.MaxPooling2D(name="pool"), keras.layers.Flatten(name="flat"),
        keras.layers.Dense(3, activation="softmax", name="out")], name="seq")


def _nested_in_sequential():
    base = _warm_bn(_base())
    return keras.Sequential([keras.Input(SHAPE), base], name="wrapper"), base


def _nested_in_functional():
    base = _warm_bn(_base())
    inp = keras.Input(SHAPE)
    return keras.Model(inp, base(inp), name="outer"), base


def _nested_feature_base():
    """The keras.io transfer-learning shape: a feature base (no head) nested, a new head outside."""
    inp = keras.Input(SHAPE)
    x = keras.layers.Conv2D(6, 3, activation="relu", name="fconv1")(inp)
    x = keras.layers.Conv2D(6, 3, activation="relu", name="fconv2")(x)
    feat = keras.Model(inp, x, name="features")
    outer_in = keras.Input(SHAPE)
    y = feat(outer_in)
    y = keras.layers.GlobalAveragePooling2D(name="pool")(y)
    y = keras.layers.Dense(4, name="logits")(y)
    y = keras.layers.Activation("softmax", name="probs")(y)
    return keras.Model(outer_in, y, name="transfer"), feat


def _assert_output_equal(model, t, x):
    acts, out = t(x)
    np.testing.assert_allclose(np.asarray(out), np.asarray(model(x, training=False), np.float32), rtol=1e-5, atol=1e-6)
    return acts


def test_plain_functional_cnn():
    model = _warm_bn(_base())
    names = [i.name for i in graph.layers(model)]
    assert names == ["rescale", "conv1", "bn", "conv2", "gap", "drop", "head"]
    info = {i.name: i for i in graph.layers(model)}
    assert info["conv2"].output_shape == (14, 14, 8) and info["conv2"].spatial and info["conv2"].class_name == "Conv2D"
    assert not info["gap"].spatial
    assert graph.last_spatial_layer(model) == "conv2"
    assert graph.penultimate_layer(model) == "gap"  # the dropout before the head is skipped
    x = _x()
    acts = _assert_output_equal(model, graph.tap(model, ["conv1", "bn", "conv2"]), x)
    for name, act in zip(["conv1", "bn", "conv2"], acts):
        sub = keras.Model(model.inputs, model.get_layer(name).output)
        np.testing.assert_allclose(np.asarray(act), np.asarray(sub(x, training=False)), rtol=1e-5, atol=1e-6)


def test_sequential():
    model = _sequential()
    assert [i.name for i in graph.layers(model)] == ["c1", "pool", "flat", "out"]
    assert graph.last_spatial_layer(model) == "pool"
    assert graph.penultimate_layer(model) == "flat"
    x = _x()
    (act,) = _assert_output_equal(model, graph.tap(model, ["c1"]), x)
    np.testing.assert_allclose(np.asarray(act), np.asarray(model.layers[0](x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [_nested_in_sequential, _nested_in_functional])
def test_nested_base(make):
    model, base = make()
    names = [i.name for i in graph.layers(model)]
    assert names == ["base/rescale", "base/conv1", "base/bn", "base/conv2", "base/gap", "base/drop", "base/head"]
    assert graph.last_spatial_layer(model) == "base/conv2"
    assert graph.penultimate_layer(model) == "base/gap"
    x = _x()
    # A path, a unique bare name and the nested model's own name (its output) all resolve.
    t = graph.tap(model, ["base/conv2", "bn", "base"])
    assert t.names == ("base/conv2", "base/bn", "base/head")
    acts = _assert_output_equal(model, t, x)
    sub = keras.Model(base.inputs, base.get_layer("conv2").output)
    np.testing.assert_allclose(np.asarray(acts[0]), np.asarray(sub(x, training=False)), rtol=1e-5, atol=1e-6)
    # Gradients of the class score reach the nested activation (keras.io's snippet: "Graph disconnected").
    with tf.GradientTape() as tape:
        acts, out = t(x)
        score = tf.reduce_sum(out[:, 1])
    grad = tape.gradient(score, acts[0])
    assert grad is not None and float(tf.reduce_sum(tf.abs(grad))) > 0


def test_feature_base_nested_in_functional():
    model, feat = _nested_feature_base()
    assert graph.last_spatial_layer(model) == "features/fconv2"
    assert graph.penultimate_layer(model) == "pool"
    x = _x()
    t = graph.tap(model, ["features/fconv2"])
    (act,) = _assert_output_equal(model, t, x)
    np.testing.assert_allclose(np.asarray(act), np.asarray(feat(x)), rtol=1e-5, atol=1e-6)
    r = t.forward(tf.constant(x))
    assert r.scores_are_logits  # the input of the final softmax layer
    np.testing.assert_allclose(tf.nn.softmax(r.scores).numpy(), np.asarray(r.output), rtol=1e-5, atol=1e-6)


def test_dense_softmax_scores_are_its_pre_activation():
    model = _base()
    r = graph.tap(model, ["conv2"]).forward(tf.constant(_x()))
    assert r.scores_are_logits
    np.testing.assert_allclose(tf.nn.softmax(r.scores).numpy(), np.asarray(r.output), rtol=1e-5, atol=1e-6)


def test_logits_model():
    model = _base(softmax=False)
    t = graph.tap(model, ["conv2"])
    x = _x()
    _assert_output_equal(model, t, x)
    r = t.forward(tf.constant(x))
    assert not r.scores_are_logits  # no softmax in the model: the output itself is the score
    np.testing.assert_allclose(np.asarray(r.scores), np.asarray(r.output))


def test_mixed_precision_activations_are_float32_and_differentiable():
    model = _base(dtype="mixed_float16")
    t = graph.tap(model, ["conv2"])
    x = _x()
    acts, out = t(x)
    assert acts[0].dtype == tf.float32 and out.dtype == tf.float32
    np.testing.assert_allclose(np.asarray(out), np.asarray(model(x), np.float32), rtol=1e-3, atol=1e-3)
    with tf.GradientTape() as tape:
        acts, out = t(x)
        score = tf.reduce_sum(out[:, 0])
    grad = tape.gradient(score, acts[0])
    assert grad is not None and np.all(np.isfinite(grad.numpy()))


def test_compiled_once_for_any_batch_size():
    model = _base()
    t = graph.tap(model, ["conv2"])
    for n in (1, 4, 7):
        acts, out = t(_x(n))
        assert acts[0].shape[0] == n and out.shape[0] == n
    assert t._compiled.experimental_get_tracing_count() == 1


def test_unknown_layer_is_a_sentence_naming_the_spatial_layers():
    model, _ = _nested_in_sequential()
    with pytest.raises(graph.LayerNotFound) as err:
        graph.tap(model, ["conv9"])
    text = str(err.value)
    assert isinstance(err.value, ValueError) and "'conv9'" in text and "base/conv2" in text
    assert "base/gap" not in text  # only the layers with spatial extent are offered
    assert text.endswith(".") and "\n" not in text


def test_dropout_is_not_the_default_layer():
    inp = keras.Input(SHAPE)
    y = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inp)
    y = keras.layers.MaxPooling2D(name="pool")(y)
    y = keras.layers.Dropout(0.25, name="drop")(y)  # as in many downloaded CIFAR models
    y = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(y))
    assert graph.last_spatial_layer(keras.Model(inp, y)) == "pool"


def test_dense_only_model_has_no_spatial_layer():
    inp = keras.Input(SHAPE)
    y = keras.layers.Flatten(name="flat")(inp)
    y = keras.layers.Dense(3, activation="softmax", name="out")(y)
    model = keras.Model(inp, y)
    assert graph.last_spatial_layer(model) is None
    assert graph.penultimate_layer(model) == "flat"
    with pytest.raises(graph.LayerNotFound, match="none of its layers has spatial extent"):
        graph.tap(model, ["nope"])


@pytest.mark.parametrize("arch", ["airnet", "resnet20", "toy_resnet", "all_conv"])
def test_workbench_architectures(arch):
    from workbench.core.architectures import build_model

    model = build_model(arch, 10, input_shape=(32, 32, 3))
    last = graph.last_spatial_layer(model)
    assert last is not None
    pen = graph.penultimate_layer(model)
    info = {i.name: i for i in graph.layers(model)}
    assert info[last].spatial and pen in info
    x = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    t = graph.tap(model, [last, pen])
    acts, out = t(x)
    np.testing.assert_allclose(np.asarray(out), np.asarray(model(x, training=False)), rtol=1e-4, atol=1e-6)
    sub = keras.Model(model.inputs, [model.get_layer(last).output, model.get_layer(pen).output])
    for got, want in zip(acts, sub(x, training=False)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-4, atol=1e-5)
    assert t.forward(tf.constant(x)).scores_are_logits  # every one of ours ends in a float32 softmax
