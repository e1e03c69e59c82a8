"""Loading model files of every kind: ours, Keras 2 (tf_keras), TF-1.x era configs, weights-only files,
logits models, Lambda layers; and the readable errors when a file does not fit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

from workbench.core.modelio.inspect import FULL_MODEL, KERAS3_WEIGHTS, WEIGHTS_ONLY, inspect_model_file
from workbench.core.modelio.loaded_model import LoadedModel, ModelInputError, ModelLoadError, detect_logits
from workbench.core.modelio.open import load_any_model, load_weights_into
from workbench.core.modelio.preprocessing import (
    PRESETS,
    PreprocessingSpec,
    remember_preprocessing,
    remembered_preprocessing,
)

# Written by tf_keras (Keras 2) in a child process: tf_keras and Keras 3 do not share one process well.
KERAS2_WRITER = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tf_keras as k
    out = sys.argv[1]
    k.utils.set_random_seed(0)
    inp = k.Input((32, 32, 3))
    x = k.layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    x = k.layers.BatchNormalization()(x)
    x = k.layers.MaxPooling2D()(x)
    x = k.layers.Flatten()(x)
    m = k.Model(inp, k.layers.Dense(10, activation="softmax")(x))
    bn = m.layers[2]
    rng = np.random.default_rng(1)
    bn.set_weights([w + rng.random(w.shape).astype("float32") for w in bn.get_weights()])
    m.save(os.path.join(out, "func.h5"))
    s = k.Sequential([
        k.layers.Conv2D(4, 3, input_shape=(32, 32, 3), activation="relu"),
        k.layers.GlobalAveragePooling2D(),
        k.layers.Dense(10),
    ])
    s.save(os.path.join(out, "seq.h5"))
    s.save_weights(os.path.join(out, "seq_weights.h5"))
    open(os.path.join(out, "seq.json"), "w").write(s.to_json())
    lam = k.Sequential([k.layers.Lambda(lambda t: t * 2.0, input_shape=(32, 32, 3)),
                        k.layers.Flatten(), k.layers.Dense(10, activation="softmax")])
    lam.save(os.path.join(out, "lambda.h5"))
    # Transfer-learning shape: a nested model (BatchNorm inside) and a frozen layer change weight order.
    base = k.Sequential([k.layers.Conv2D(3, 3, input_shape=(32, 32, 3)), k.layers.BatchNormalization()], name="base")
    for layer in base.layers:
        layer.set_weights([w + rng.random(w.shape).astype("float32") for w in layer.get_weights()])
    base.layers[0].trainable = False
    inp2 = k.Input((32, 32, 3))
    head = k.layers.Dense(10, activation="softmax")(k.layers.GlobalAveragePooling2D()(base(inp2)))
    nested = k.Model(inp2, head)
    nested.save(os.path.join(out, "nested.h5"))
    # tf.* calls in a functional model become TFOpLambda layers in the file.
    import tensorflow as tf
    inp3 = k.Input((32, 32, 3))
    t = k.layers.Conv2D(4, 3)(inp3 / 255.0 * 2.0 - 1.0)
    t = k.layers.Flatten()(tf.nn.relu(t))
    tfop = k.Model(inp3, tf.nn.softmax(k.layers.Dense(10)(t) + k.layers.Dense(10)(t)))
    tfop.save(os.path.join(out, "tfop.h5"))
    x = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3)).astype("uint8")
    np.save(os.path.join(out, "x.npy"), x)
    for name, model in [("func", m), ("seq", s), ("lambda", lam), ("nested", nested)]:
        np.save(os.path.join(out, name + "_pred.npy"), model.predict(x.astype("float32") / 255.0, verbose=0))
    np.save(os.path.join(out, "tfop_pred.npy"), tfop.predict(x.astype("float32"), verbose=0))
    """
)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def keras2(tmp_path_factory):
    pytest.importorskip("tf_keras")
    out = tmp_path_factory.mktemp("keras2")
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, "-c", KERAS2_WRITER, str(out)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def _rewrite_config(src: Path, dst: Path, edit, version: str) -> Path:
    shutil.copy(src, dst)
    with h5py.File(dst, "a") as f:
        config = json.loads(f.attrs["model_config"])
        edit(config)
        f.attrs["model_config"] = json.dumps(config)
        f.attrs["keras_version"] = version
        f["model_weights"].attrs["keras_version"] = version
    return dst


def _walk(obj, fn):
    if isinstance(obj, dict):
        fn(obj)
        for v in list(obj.values()):
            _walk(v, fn)
    elif isinstance(obj, list):
        for v in obj:
            _walk(v, fn)


# ---- Keras 2 files ---------------------------------------------------------------------------------

def test_keras2_functional_h5_predicts_like_tf_keras(keras2):
    loaded = load_any_model(keras2 / "func.h5")
    x = np.load(keras2 / "x.npy")
    assert not loaded.outputs_logits
    assert loaded.input_shape == (32, 32, 3)
    assert loaded.class_names[0] == "airplane" and loaded.dataset_id == "cifar10"
    np.testing.assert_allclose(loaded.predict_proba(x), np.load(keras2 / "func_pred.npy"), atol=1e-5)
    np.testing.assert_allclose(loaded.predict_proba(x[0]), np.load(keras2 / "func_pred.npy")[:1], atol=1e-5)


def test_keras2_sequential_with_input_shape_on_first_layer(keras2):
    loaded = load_any_model(keras2 / "seq.h5")
    x = np.load(keras2 / "x.npy")
    assert loaded.outputs_logits  # the last Dense has no activation
    np.testing.assert_allclose(loaded.predict_proba(x), softmax(np.load(keras2 / "seq_pred.npy")), atol=1e-5)


def test_keras2_nested_model_with_frozen_layer(keras2):
    loaded = load_any_model(keras2 / "nested.h5")
    np.testing.assert_allclose(loaded.predict_proba(np.load(keras2 / "x.npy")), np.load(keras2 / "nested_pred.npy"),
                               atol=1e-5)


def test_keras2_tf_op_layers_become_keras_layers(keras2):
    # `inputs / 255.0` recorded by tf.keras as a TFOpLambda: found in the config, so raw pixels by default.
    loaded = load_any_model(keras2 / "tfop.h5")
    assert loaded.preprocessing.kind == "raw_0_255" and "math.truediv" in loaded.preprocessing_reason
    assert not loaded.outputs_logits  # tf.nn.softmax at the end
    np.testing.assert_allclose(loaded.predict_proba(np.load(keras2 / "x.npy")), np.load(keras2 / "tfop_pred.npy"),
                               atol=1e-5)


def test_standalone_keras2_sequential_without_input_layer(keras2, tmp_path):
    # Standalone Keras 2.x recorded the input only as batch_input_shape on the first real layer.
    def edit(config):
        layers = config["config"]["layers"]
        assert layers[0]["class_name"] == "InputLayer"
        del layers[0]
        _walk(config, lambda d: (d.pop("module", None), d.pop("registered_name", None)))

    path = _rewrite_config(keras2 / "seq.h5", tmp_path / "standalone.h5", edit, "2.2.4")
    loaded = load_any_model(path)
    x = np.load(keras2 / "x.npy")
    assert loaded.input_shape == (32, 32, 3)
    np.testing.assert_allclose(loaded.predict_proba(x), softmax(np.load(keras2 / "seq_pred.npy")), atol=1e-5)


def test_tf1_era_config_with_dtype_in_initializers(keras2, tmp_path):
    def edit(config):
        def fix(d):
            d.pop("module", None)
            d.pop("registered_name", None)
            cfg = d.get("config")
            if isinstance(cfg, dict):
                for key, value in cfg.items():
                    if key.endswith("_initializer") and isinstance(value, dict):
                        value["config"]["dtype"] = "float32"  # the TypeError GlorotUniform ... 'dtype'
                if d.get("class_name") == "Dense":
                    cfg["dtype"] = {"class_name": "Policy", "config": {"name": "float32"}}
                cfg.pop("groups", None)
                cfg.pop("optional", None)
        _walk(config, fix)
        config["class_name"] = "Model"

    path = _rewrite_config(keras2 / "func.h5", tmp_path / "tf1.h5", edit, "2.1.6-tf")
    info = inspect_model_file(path)
    assert info.keras_version == "2.1.6-tf" and info.kind == FULL_MODEL
    loaded = load_any_model(path)
    assert any("2.1.6-tf" in note for note in loaded.notes)
    np.testing.assert_allclose(loaded.predict_proba(np.load(keras2 / "x.npy")), np.load(keras2 / "func_pred.npy"),
                               atol=1e-5)
    # The user's file is never edited.
    with h5py.File(path, "r") as f:
        assert '"dtype": "float32"}' in f.attrs["model_config"]


def test_weights_only_file_detected_and_loaded_into_json_architecture(keras2):
    info = inspect_model_file(keras2 / "seq_weights.h5")
    assert info.kind == WEIGHTS_ONLY and info.num_classes == 10
    assert "weights only" in info.describe()
    with pytest.raises(ModelLoadError, match="weights only"):
        load_any_model(keras2 / "seq_weights.h5")
    loaded = load_weights_into(keras2 / "seq_weights.h5", keras2 / "seq.json", preprocessing="scale_0_1")
    x = np.load(keras2 / "x.npy")
    np.testing.assert_allclose(loaded.predict_proba(x), softmax(np.load(keras2 / "seq_pred.npy")), atol=1e-5)
    same = load_any_model(keras2 / "seq_weights.h5", architecture=str(keras2 / "seq.json"))
    np.testing.assert_allclose(same.predict_proba(x), loaded.predict_proba(x), atol=1e-6)


def test_weights_that_do_not_fit_name_the_layer(keras2, tmp_path):
    arch = json.loads((keras2 / "seq.json").read_text())
    for layer in arch["config"]["layers"]:
        if layer["class_name"] == "Dense":
            layer["config"]["units"] = 7
    (tmp_path / "other.json").write_text(json.dumps(arch))
    with pytest.raises(ModelLoadError, match=r"Layer 'dense.*\(4, 10\).*\(4, 7\)"):
        load_weights_into(keras2 / "seq_weights.h5", tmp_path / "other.json")


def test_lambda_with_code_refused_unless_trusted(keras2):
    info = inspect_model_file(keras2 / "lambda.h5")
    assert info.lambda_layers
    with pytest.raises(ModelLoadError, match="Lambda layer with Python code.*trust"):
        load_any_model(keras2 / "lambda.h5")
    loaded = load_any_model(keras2 / "lambda.h5", trust=True)
    np.testing.assert_allclose(loaded.predict_proba(np.load(keras2 / "x.npy")), np.load(keras2 / "lambda_pred.npy"),
                               atol=1e-5)


def test_lambda_refused_in_legacy_path_too(keras2, tmp_path):
    # An old-style config (no module keys) goes through the fixers; the refusal must still hold.
    path = _rewrite_config(keras2 / "lambda.h5", tmp_path / "old_lambda.h5",
                           lambda c: _walk(c, lambda d: d.pop("module", None)), "2.2.4")
    with pytest.raises(ModelLoadError, match="Lambda"):
        load_any_model(path)


# ---- our own files and Keras 3 ------------------------------------------------------------------------

def _tiny_model(logits: bool, name="tiny"):
    import keras

    keras.utils.set_random_seed(3)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(3, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(10, activation=None if logits else "softmax")(x)
    return keras.Model(inputs, out, name=name)


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_round_trip_of_our_files_with_metadata(tmp_path, suffix):
    from workbench.core.modelio.save import save_model

    model = _tiny_model(logits=False)
    names = [f"thing{i}" for i in range(10)]
    path = save_model(model, tmp_path / f"ours{suffix}", class_names=names, dataset_id="cifar10", arch="tiny")
    info = inspect_model_file(path)
    assert info.has_metadata and info.input_shape == (32, 32, 3) and info.num_classes == 10
    loaded = load_any_model(path)
    assert loaded.class_names == tuple(names)
    assert loaded.preprocessing.kind == "raw_0_255" and not loaded.outputs_logits
    x = np.random.default_rng(0).integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(loaded.predict_proba(x), model.predict(x.astype("float32"), verbose=0), atol=1e-5)


def test_logits_and_softmax_models_give_the_same_probabilities(tmp_path):
    import keras

    logit_model = _tiny_model(logits=True, name="logits")
    probs = keras.layers.Softmax()(logit_model.output)
    prob_model = keras.Model(logit_model.input, probs)
    logit_model.save(tmp_path / "logits.h5")
    prob_model.save(tmp_path / "probs.h5")
    a = load_any_model(tmp_path / "logits.h5", preprocessing="raw_0_255")
    b = load_any_model(tmp_path / "probs.h5", preprocessing="raw_0_255")
    assert a.outputs_logits and not b.outputs_logits
    x = np.random.default_rng(1).integers(0, 256, (9, 32, 32, 3), dtype=np.uint8)
    pa, pb = a.predict_proba(x), b.predict_proba(x)
    np.testing.assert_allclose(pa, pb, atol=1e-6)
    np.testing.assert_allclose(pa.sum(axis=1), 1.0, atol=1e-5)


def test_unclear_final_layer_is_probed():
    import keras

    base = _tiny_model(logits=True)
    hidden_softmax = keras.Model(base.input, keras.layers.Reshape((10,))(keras.layers.Softmax()(base.output)))
    hidden_linear = keras.Model(base.input, keras.layers.Reshape((10,))(base.output))
    raw = PRESETS["raw_0_255"]
    assert detect_logits(hidden_softmax, raw) is False
    assert detect_logits(hidden_linear, raw) is True


def test_keras3_lambda_refused(tmp_path):
    import keras

    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Lambda(lambda t: t / 255.0)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x)))
    model.save(tmp_path / "lam.keras")
    with pytest.raises(ModelLoadError, match="Lambda layer with Python code"):
        load_any_model(tmp_path / "lam.keras")
    assert load_any_model(tmp_path / "lam.keras", trust=True).num_classes == 10


def test_weights_only_into_our_architecture(tmp_path):
    from workbench.core.architectures import build_model

    model = build_model("embedded_cnn", 10)
    model.save_weights(tmp_path / "ours.weights.h5")
    info = inspect_model_file(tmp_path / "ours.weights.h5")
    assert info.kind == KERAS3_WEIGHTS
    loaded = load_weights_into(tmp_path / "ours.weights.h5", "embedded_cnn", class_names=[str(i) for i in range(10)])
    assert loaded.preprocessing.kind == "raw_0_255"
    x = np.random.default_rng(2).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(loaded.predict_proba(x), model.predict(x.astype("float32"), verbose=0), atol=1e-5)
    with pytest.raises(ModelLoadError, match="Unknown architecture"):
        load_weights_into(tmp_path / "ours.weights.h5", "no_such_net")


# ---- input shapes, class names, preprocessing memory -------------------------------------------------

def test_input_shape_mismatch_is_a_sentence_and_grayscale_is_converted(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.save(tmp_path / "mnist.h5")
    loaded = load_any_model(tmp_path / "mnist.h5")
    assert loaded.input_shape == (28, 28, 1)
    with pytest.raises(ModelInputError, match=r"mnist.h5 takes 28×28×1 images but these are 32×32×3; they must be resized") as err:
        loaded.predict_proba(np.zeros((2, 32, 32, 3), np.uint8))
    assert "fit_to_input" not in str(err.value)  # user terms, not a Python function
    # Same size, colour vs grayscale: converted to luma instead of refused.
    assert loaded.predict_proba(np.zeros((2, 28, 28, 3), np.uint8)).shape == (2, 10)


def test_class_names_guessed_by_count_and_changeable(tmp_path):
    import keras

    for classes, first in [(100, "apple"), (20, "aquatic_mammals"), (7, "class 0")]:
        model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                                  keras.layers.Dense(classes, activation="softmax")])
        model.save(tmp_path / f"m{classes}.h5")
        loaded = load_any_model(tmp_path / f"m{classes}.h5")
        assert loaded.class_names[0] == first and loaded.num_classes == classes
    renamed = loaded.with_class_names([f"c{i}" for i in range(7)])
    assert renamed.class_names[6] == "c6"
    with pytest.raises(ModelLoadError, match="7 outputs but 2"):
        loaded.with_class_names(["a", "b"])


def test_preprocessing_is_remembered_per_file(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    path = tmp_path / "foreign.h5"
    model.save(path)
    assert load_any_model(path).preprocessing == PRESETS["scale_0_1"]  # the foreign default
    remember_preprocessing(path, "cifar100_zscore")
    loaded = load_any_model(path)
    assert loaded.preprocessing.kind == "mean_std" and len(loaded.preprocessing.mean) == 1
    os.utime(path, ns=(1, 1))  # a changed file forgets the choice
    assert remembered_preprocessing(path) is None


def test_preprocessing_specs_compute_the_documented_transforms():
    x = np.array([[[[0, 127, 255]]]], np.uint8)
    np.testing.assert_allclose(PRESETS["scale_-1_1"].apply(x), [[[[-1, 127 / 127.5 - 1, 1]]]], atol=1e-6)
    spec = PreprocessingSpec("mean_std", (0.5,), (0.25,))
    np.testing.assert_allclose(spec.apply(x), (x / 255.0 - 0.5) / 0.25, atol=1e-5)
    scale, offset = PRESETS["cifar10_mean_std"].affine(3)
    np.testing.assert_allclose(x * scale + offset, PRESETS["cifar10_mean_std"].apply(x), atol=1e-5)


# ---- files that are not loadable --------------------------------------------------------------------

def test_not_a_model_file(tmp_path):
    bad = tmp_path / "notes.h5"
    bad.write_text("hello")
    with pytest.raises(ModelLoadError, match="neither an HDF5"):
        load_any_model(bad)
    with pytest.raises(ModelLoadError, match="no model file"):
        load_any_model(tmp_path / "missing.h5")


def test_custom_layer_class_is_named(keras2, tmp_path):
    def edit(config):
        config["config"]["layers"][1]["class_name"] = "MyFancyConv"
        config["config"]["layers"][1].pop("module", None)

    path = _rewrite_config(keras2 / "seq.h5", tmp_path / "custom.h5", edit, "2.4.0")
    with pytest.raises(ModelLoadError, match="MyFancyConv"):
        load_any_model(path)


def test_importing_modelio_modules_does_not_import_tensorflow():
    code = ("import sys; import workbench.core.modelio.load, workbench.core.modelio.loaded_model, "
            "workbench.core.modelio.guesses, workbench.core.modelio.open, workbench.core.modelio.inspect, "
            "workbench.core.images.prepare, workbench.core.images.decode, workbench.core.classify, "
            "workbench.core.evaluation; "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False False", out.stderr[-1000:]


def test_loaded_model_wraps_in_memory_model():
    model = _tiny_model(logits=True)
    loaded = LoadedModel.from_keras(model, [str(i) for i in range(10)])
    assert loaded.outputs_logits and loaded.preprocessing.kind == "raw_0_255"


def test_fixers_handle_kinds_of_old_config():
    from workbench.core.modelio.legacy import fix_model_config
    from workbench.core.modelio.load import build_from_config

    init = {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "normal",
                                                         "seed": None, "dtype": "float32"}}
    layers = [  # Keras 2.0/2.1: a Sequential's config is the bare layer list
        {"class_name": "Convolution2D", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3],
                                                   "batch_input_shape": [None, 8, 8, 3], "kernel_initializer": init,
                                                   "activity_regularizer": {"class_name": "L1L2",
                                                                            "config": {"l1": 0.0, "l2": 0.0}},
                                                   "dtype": {"class_name": "Policy", "config": {"name": "mixed_float16"}}}},
        {"class_name": "BatchNormalizationV1", "config": {"name": "bn", "axis": [3], "fused": True,
                                                          "gamma_initializer": {"class_name": "Ones",
                                                                                "config": {"dtype": "float32"}}}},
        {"class_name": "LeakyReLU", "config": {"name": "lr", "alpha": 0.2}},
        {"class_name": "Reshape", "config": {"name": "r", "target_shape": [6, 12]}},
        {"class_name": "LSTM", "config": {"name": "l", "units": 4, "time_major": False, "implementation": 2}},
        {"class_name": "Dense", "config": {"name": "d", "units": 10, "activation": "softmax"}},
    ]
    fixed, notes = fix_model_config({"class_name": "Sequential", "config": layers})
    assert fixed["config"]["layers"][0]["class_name"] == "InputLayer"
    assert any("mixed_float16" in n for n in notes)
    assert not any("time_major" in n or "implementation" in n for n in notes)  # harmless: not worth a note
    model, _ = build_from_config({"class_name": "Sequential", "config": layers}, source="old.json")
    assert model.input_shape == (None, 8, 8, 3) and model.output_shape == (None, 10)
    assert model.get_layer("lr").negative_slope == pytest.approx(0.2)
    assert model.get_layer("bn").axis in (3, -1)


def test_time_major_rnn_is_refused_with_a_sentence():
    from workbench.core.modelio.load import build_from_config

    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "LSTM", "config": {"name": "rnn", "units": 2, "time_major": True,
                                          "batch_input_shape": [None, 5, 3]}}]}}
    with pytest.raises(ModelLoadError, match="'rnn'.*time_major=True"):
        build_from_config(config, source="old.json")


def test_unsupported_old_layer_is_named():
    from workbench.core.modelio.load import build_from_config

    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "Merge", "config": {"name": "merge_1", "mode": "concat"}}]}}
    with pytest.raises(ModelLoadError, match="'merge_1' is a Merge"):
        build_from_config(config, source="old.json")


def test_damaged_weights_give_a_sentence(keras2, tmp_path):
    damaged = tmp_path / "damaged.h5"
    shutil.copy(keras2 / "func.h5", damaged)
    with h5py.File(damaged, "a") as f:
        del f["model_weights/dense/dense/kernel:0"]
    with pytest.raises(ModelLoadError, match="damaged.h5"):
        load_any_model(damaged)
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes((keras2 / "func.h5").read_bytes()[:3000])
    with pytest.raises(ModelLoadError, match="truncated or damaged"):
        load_any_model(truncated)
