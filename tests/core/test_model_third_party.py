"""Third-party files that used to load with silently wrong answers (issue 17, "In"): an adapted
Normalization in a tf.keras .h5, keras.applications bases, a Lambda that scales pixels."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from workbench.core.modelio.open import load_any_model

# Written by tf_keras (Keras 2) in a child process: tf_keras and Keras 3 do not share one process well.
TF_KERAS_WRITER = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tf_keras as k
    out = sys.argv[1]
    k.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (120, 16, 16, 3)).astype("float32")
    y = np.argmax(x.reshape(120, -1)[:, :10], axis=1)
    norm = k.layers.Normalization()
    norm.adapt(x)
    m = k.Sequential([k.Input((16, 16, 3)), norm, k.layers.Conv2D(8, 3, activation="relu"),
                      k.layers.Flatten(), k.layers.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy")
    m.fit(x, y, epochs=2, verbose=0)
    m.save(os.path.join(out, "norm.h5"))
    lam = k.Sequential([k.Input((16, 16, 3)), k.layers.Lambda(lambda t: t / 255.0),
                        k.layers.Conv2D(8, 3, activation="relu"), k.layers.Flatten(),
                        k.layers.Dense(10, activation="softmax")])
    lam.compile("adam", "sparse_categorical_crossentropy")
    lam.fit(x, y, epochs=2, verbose=0)
    lam.save(os.path.join(out, "lambda255.h5"))
    # tf.keras allowed '/' in layer names (DenseNet's "conv1/conv"); Keras 3 refuses them.
    inp = k.Input((16, 16, 3))
    t = k.layers.Conv2D(8, 3, activation="relu", name="conv1/conv")(k.layers.Rescaling(1 / 255.0)(inp))
    t = k.layers.BatchNormalization(name="conv1/bn")(t)
    slash = k.Model(inp, k.layers.Dense(10, activation="softmax", name="head/dense")(k.layers.Flatten()(t)))
    slash.compile("adam", "sparse_categorical_crossentropy")
    slash.fit(x, y, epochs=1, verbose=0)
    slash.save(os.path.join(out, "slash.h5"))
    np.save(os.path.join(out, "slash_pred.npy"), slash.predict(x, verbose=0))
    np.save(os.path.join(out, "x.npy"), x.astype("uint8"))
    np.save(os.path.join(out, "norm_pred.npy"), m.predict(x, verbose=0))
    np.save(os.path.join(out, "lambda255_pred.npy"), lam.predict(x, verbose=0))
    """
)


@pytest.fixture(scope="module")
def tf_keras_files(tmp_path_factory):
    pytest.importorskip("tf_keras")
    out = tmp_path_factory.mktemp("tf_keras")
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, "-c", TF_KERAS_WRITER, str(out)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def _agreement(ours, theirs):
    return float((ours.argmax(1) == theirs.argmax(1)).mean())


def test_tf_keras_adapted_normalization_computes_with_its_statistics(tf_keras_files):
    loaded = load_any_model(tf_keras_files / "norm.h5")
    x, theirs = np.load(tf_keras_files / "x.npy"), np.load(tf_keras_files / "norm_pred.npy")
    ours = loaded.predict_proba(x)
    assert loaded.preprocessing.kind == "raw_0_255" and "scales pixels itself" in loaded.preprocessing_reason
    assert _agreement(ours, theirs) >= 0.99
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_tf_keras_layer_names_with_slashes_load(tf_keras_files):
    loaded = load_any_model(tf_keras_files / "slash.h5")
    x, theirs = np.load(tf_keras_files / "x.npy"), np.load(tf_keras_files / "slash_pred.npy")
    np.testing.assert_allclose(loaded.predict_proba(x), theirs, atol=1e-4)
    assert any("'/'" in note for note in loaded.notes)


# ---- keras.applications bases ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def mobilenet_files(tmp_path_factory):
    """A MobileNetV2 base nested in a Sequential, trained briefly on `mobilenet_v2.preprocess_input` data."""
    import keras

    keras.utils.set_random_seed(3)
    out = tmp_path_factory.mktemp("mobilenet")
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (64, 32, 32, 3)).astype("uint8")
    y = (x[..., 0].mean(axis=(1, 2)) > x[..., 2].mean(axis=(1, 2))).astype("int32")
    base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights=None)
    model = keras.Sequential([keras.Input((32, 32, 3)), base, keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(10, activation="softmax")])
    for layer in base.layers:  # moving statistics = the last batch's: one short epoch gives answers that vary
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.0
    model.compile("adam", "sparse_categorical_crossentropy")
    fed = keras.applications.mobilenet_v2.preprocess_input(x.astype("float32"))
    model.fit(fed, y, epochs=1, batch_size=32, verbose=0)
    model.save(out / "mnv2.h5")
    model.save(out / "mnv2.keras")
    return out, x, np.asarray(model.predict(fed, verbose=0))


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_nested_mobilenetv2_gets_keras_applications_tf_preprocessing(mobilenet_files, suffix):
    out, x, theirs = mobilenet_files
    loaded = load_any_model(out / f"mnv2{suffix}")
    assert loaded.preprocessing.kind == "scale_-1_1" and not loaded.preprocessing_guessed
    assert "recognised MobileNetV2 base" in loaded.preprocessing_reason and "'tf'" in loaded.preprocessing_reason
    ours = loaded.predict_proba(x)
    assert _agreement(ours, theirs) >= 0.99
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_resnet_base_gets_caffe_preprocessing_bgr_and_mean(tmp_path):
    import keras

    keras.utils.set_random_seed(4)
    base = keras.applications.ResNet50(input_shape=(32, 32, 3), include_top=False, weights=None)
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(
        keras.layers.GlobalAveragePooling2D()(base(inputs))))
    model.save(tmp_path / "resnet.keras")
    x = np.random.default_rng(4).integers(0, 256, (8, 32, 32, 3)).astype("uint8")
    theirs = np.asarray(model.predict(keras.applications.resnet.preprocess_input(x.astype("float32")), verbose=0))
    loaded = load_any_model(tmp_path / "resnet.keras")
    assert loaded.preprocessing.bgr and "recognised ResNet base" in loaded.preprocessing_reason
    assert "'caffe'" in loaded.preprocessing_reason
    np.testing.assert_allclose(loaded.predict_proba(x), theirs, atol=1e-4)


def test_applications_are_recognised_from_their_configs():
    import keras

    from workbench.core.modelio.applications import recognise_application

    apps = keras.applications
    cases = [
        (apps.DenseNet121, {}, "DenseNet", "mean_std", "'torch'"),
        (apps.EfficientNetB0, {}, "EfficientNet", "raw_0_255", "inside the model"),
        (apps.MobileNetV3Small, {"include_preprocessing": False}, "MobileNetV3", "scale_-1_1", "'tf'"),
        (apps.VGG16, {}, "VGG", "mean_std", "'caffe'"),
    ]
    for build, options, family, kind, phrase in cases:
        base = build(input_shape=(32, 32, 3), include_top=False, weights=None, **options)
        wrapper = {"class_name": "Sequential", "config": {"name": "mine", "layers": [
            {"class_name": "InputLayer", "config": {"name": "in"}},
            {"class_name": "Functional", "config": {**base.get_config(), "name": "renamed"}},
            {"class_name": "Dense", "config": {"name": "head", "units": 10}}]}}
        found = recognise_application(wrapper)
        assert found is not None and found.family == family, (build.__name__, found)
        assert found.spec.kind == kind and phrase in found.reason
    # Our own small CNN (Keras default names) is no application; a Dense first means nothing nested counts.
    plain = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    assert recognise_application({"class_name": "Sequential", "config": plain.get_config()}) is None


def test_bgr_spec_round_trips_and_its_transform_matches_apply():
    from workbench.core.modelio.preprocessing import IMAGENET_CAFFE, PreprocessingSpec, preprocessing_from

    x = np.random.default_rng(0).integers(0, 256, (2, 4, 4, 3)).astype("uint8")
    expected = x[..., ::-1].astype("float32") - np.array([103.939, 116.779, 123.68], "float32")
    np.testing.assert_allclose(IMAGENET_CAFFE.apply(x), expected, atol=1e-3)
    np.testing.assert_allclose(IMAGENET_CAFFE.transform(x.astype("float32")), expected, atol=1e-3)
    assert PreprocessingSpec.from_dict(IMAGENET_CAFFE.to_dict()) == IMAGENET_CAFFE
    assert preprocessing_from("imagenet_caffe") == IMAGENET_CAFFE
    assert "bgr" not in preprocessing_from("scale_0_1").to_dict()


# ---- a Lambda at the front -------------------------------------------------------------------------

def test_trusted_lambda_dividing_by_255_counts_as_in_model_scaling(tf_keras_files):
    path = tf_keras_files / "lambda255.h5"
    x, theirs = np.load(tf_keras_files / "x.npy"), np.load(tf_keras_files / "lambda255_pred.npy")
    loaded = load_any_model(path, trust=True)
    assert loaded.preprocessing.kind == "raw_0_255" and not loaded.preprocessing_guessed
    assert "Lambda layer" in loaded.preprocessing_reason and "scales pixels itself" in loaded.preprocessing_reason
    ours = loaded.predict_proba(x)
    assert _agreement(ours, theirs) >= 0.99
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_a_front_lambda_that_is_not_a_plain_scaling_is_named_as_a_possible_one(tmp_path):
    import keras

    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Lambda(lambda t: t[..., ::-1] / 255.0, name="swap"),
                              keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.save(tmp_path / "swap.keras")
    loaded = load_any_model(tmp_path / "swap.keras", trust=True)
    assert loaded.preprocessing_guessed and loaded.preprocessing.kind == "scale_0_1"
    assert "Lambda layer 'swap'" in loaded.preprocessing_reason and "may scale pixels" in loaded.preprocessing_reason
    assert any("Lambda layer 'swap'" in w and "raw_0_255" in w for w in loaded.warnings)


# ---- the weights-only hint -------------------------------------------------------------------------

def _net(filters):
    import keras

    keras.utils.set_random_seed(1)
    return keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(filters, 3, name="conv"),
                             keras.layers.Flatten(), keras.layers.Dense(10, name="head")])


def test_weights_only_hint_names_the_json_whose_shapes_fit_not_one_whose_names_collide(tmp_path):
    from workbench.core.modelio.open import NEEDS_ARCHITECTURE, open_model

    model = _net(4)
    model.save_weights(tmp_path / "net.weights.h5")
    # Same layer names, other shapes: sorts first and must not be named.
    (tmp_path / "a_same_names.json").write_text(_net(6).to_json())
    opening = open_model(tmp_path / "net.weights.h5")
    assert opening.needs == NEEDS_ARCHITECTURE and opening.suggested_architecture is None
    (tmp_path / "b_fits.json").write_text(model.to_json())
    opening = open_model(tmp_path / "net.weights.h5")  # a Keras 3 .weights.h5 gets its hint too
    assert opening.suggested_architecture == str(tmp_path / "b_fits.json") and "b_fits.json" in opening.message
    loaded = open_model(tmp_path / "net.weights.h5", architecture=opening.suggested_architecture).require()
    x = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3)).astype("uint8")
    import keras

    ref = keras.ops.softmax(model(loaded.preprocessing.apply(x))).numpy()
    np.testing.assert_allclose(loaded.predict_proba(x), ref, atol=1e-5)


def test_keras2_layout_weights_hint_skips_a_json_with_colliding_names(tmp_path):
    import h5py

    from workbench.core.modelio.open import open_model

    model = _net(4)
    with h5py.File(tmp_path / "old_weights.h5", "w") as f:  # Keras 2 save_weights layout
        f.attrs["layer_names"] = [b"conv", b"head"]
        for layer in model.layers:
            if not layer.weights:
                continue
            g = f.create_group(layer.name)
            names = [f"{layer.name}/{w.name}:0".encode() for w in layer.weights]
            g.attrs["weight_names"] = names
            for n, w in zip(names, layer.weights):
                g[n.decode()] = np.asarray(w)
    (tmp_path / "a_same_names.json").write_text(_net(6).to_json())
    assert open_model(tmp_path / "old_weights.h5").suggested_architecture is None
    (tmp_path / "b_fits.json").write_text(model.to_json())
    assert open_model(tmp_path / "old_weights.h5").suggested_architecture == str(tmp_path / "b_fits.json")


# ---- a custom layer class ----------------------------------------------------------------------------

# Written in a child process, so the class is not registered in the process that loads the files.
CUSTOM_WRITER = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import keras

    @keras.saving.register_keras_serializable(package="mypkg")
    class MyFancyScale(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Flatten()(MyFancyScale()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    model.save(os.path.join(sys.argv[1], "custom.keras"))
    model.save(os.path.join(sys.argv[1], "custom.h5"))
    """
)


def test_custom_layer_sentence_names_the_class_alike_for_keras_and_h5(tmp_path):
    from workbench.core.modelio.open import open_model

    subprocess.run([sys.executable, "-c", CUSTOM_WRITER, str(tmp_path)], check=True, timeout=300,
                   capture_output=True, env=dict(os.environ, CUDA_VISIBLE_DEVICES=""))
    sentences = [open_model(tmp_path / name).message.replace(name, "FILE") for name in ("custom.keras", "custom.h5")]
    assert sentences[0] == sentences[1], sentences
    assert "layer class MyFancyScale (registered as mypkg>MyFancyScale)" in sentences[0]
