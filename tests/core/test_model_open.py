"""The one way to open a model (`open_model`): pixels scaled once, every choice explained, and messages
a user can act on for files that need an answer or cannot be used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from workbench.core.modelio.inspect import inspect_model_file
from workbench.core.modelio.loaded_model import GUESSED_PREPROCESSING, ModelLoadError
from workbench.core.modelio.open import NEEDS_ARCHITECTURE, load_any_model, open_model

SIZE = 12  # tiny images keep every model here fast


def _pixels(n=40, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, SIZE, SIZE, 3), dtype=np.uint8)


def _classifier(front, name):
    """A random conv classifier whose first step is `front(inputs)` (the model's own pixel scaling)."""
    import keras

    keras.utils.set_random_seed(7)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, activation="relu")(front(inputs))
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x), name=name)


def _fronts():
    import keras

    pixels = _pixels(200, seed=5).astype("float32")
    norm = keras.layers.Normalization()
    norm.adapt(pixels)  # statistics of raw 0..255 pixels, as such a model is trained
    return {
        "rescaling": lambda t: keras.layers.Rescaling(1 / 255.0)(t),
        "divide_op": lambda t: t / 255.0,  # recorded by Keras 3 as a TrueDivide operation
        "multiply_op": lambda t: keras.ops.multiply(t, 1 / 255.0),
        "normalization": norm,
    }


FRONTS = ["rescaling", "divide_op", "multiply_op", "normalization"]


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
@pytest.mark.parametrize("front", FRONTS)
def test_models_that_scale_pixels_themselves_get_raw_pixels(tmp_path, front, suffix):
    import keras

    model = _classifier(_fronts()[front], front)
    path = tmp_path / f"{front}{suffix}"
    model.save(path)
    x = _pixels()
    plain = np.asarray(model(x.astype("float32")))  # the model itself, fed raw pixels
    if suffix == ".keras":  # plain Keras on the file agrees (its .h5 reader cannot rebuild ops layers)
        np.testing.assert_allclose(keras.models.load_model(path, compile=False)(x.astype("float32")), plain, atol=1e-6)
    loaded = load_any_model(path)
    ours = loaded.predict_proba(x)
    assert (ours.argmax(1) == plain.argmax(1)).mean() == 1.0
    np.testing.assert_allclose(ours, plain, atol=1e-5)
    assert loaded.preprocessing.kind == "raw_0_255" and not loaded.preprocessing_guessed
    assert "scales pixels itself" in loaded.preprocessing_reason
    assert loaded.warnings == ()
    # Forcing x/255 on such a model is allowed, and warned about.
    forced = load_any_model(path, preprocessing="scale_0_1")
    assert any("scaled twice" in w for w in forced.warnings)
    assert "scaled twice" in forced.describe()


def test_tf_keras_tfoplambda_division_is_found_in_the_config():
    config = {"class_name": "Functional", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [None, 32, 32, 3]},
         "inbound_nodes": []},
        {"class_name": "TFOpLambda", "config": {"name": "tf.math.truediv", "function": "math.truediv"},
         "inbound_nodes": [["in", 0, 0, {"y": 255.0, "name": None}]]},
        {"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3]},
         "inbound_nodes": [[["tf.math.truediv", 0, 0, {}]]]},
    ], "input_layers": [["in", 0, 0]], "output_layers": [["c", 0, 0]]}}
    from workbench.core.modelio.scaling import find_input_scaling

    assert "truediv" in find_input_scaling(config)
    mul = json.loads(json.dumps(config).replace("math.truediv", "__operators__.mul").replace("255.0", "0.00392"))
    assert find_input_scaling(mul)
    # Arithmetic after the first weighted layer is not pixel scaling.
    late = json.loads(json.dumps(config))
    late["config"]["layers"][1], late["config"]["layers"][2] = late["config"]["layers"][2], late["config"]["layers"][1]
    assert find_input_scaling(late) is None


def test_every_choice_says_why(tmp_path):
    import keras

    plain = _classifier(lambda t: t, "foreign")
    plain.save(tmp_path / "foreign.h5")
    loaded = load_any_model(tmp_path / "foreign.h5")
    assert loaded.preprocessing.kind == "scale_0_1" and loaded.preprocessing_guessed
    assert loaded.preprocessing_reason == GUESSED_PREPROCESSING
    assert loaded.class_names_source.startswith("assumed CIFAR-10 because the model has 10 outputs")
    chosen = open_model(tmp_path / "foreign.h5", preprocessing="raw_0_255",
                        preprocessing_reason="chosen with --preprocessing",
                        class_names=[f"n{i}" for i in range(10)], class_names_source="--labels names.txt").require()
    assert chosen.preprocessing_reason == "chosen with --preprocessing" and not chosen.preprocessing_guessed
    assert chosen.class_names_source == "--labels names.txt"
    text = chosen.describe()
    assert "chosen with --preprocessing" in text and "--labels names.txt" in text
    seven = keras.Sequential([keras.Input((SIZE, SIZE, 3)), keras.layers.Flatten(), keras.layers.Dense(7)])
    seven.save(tmp_path / "seven.keras")
    assert load_any_model(tmp_path / "seven.keras").class_names_source.startswith("invented names")


def _two_inputs():
    import keras

    a, b = keras.Input((SIZE, SIZE, 3)), keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Flatten()(keras.layers.Add()([a, b]))
    return keras.Model([a, b], keras.layers.Dense(10, activation="softmax")(x))


def _two_outputs():
    import keras

    a = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Flatten()(a)
    return keras.Model(a, [keras.layers.Dense(10)(x), keras.layers.Dense(3)(x)])


def _time_distributed():
    import keras

    a = keras.Input((5, SIZE, SIZE, 3))
    x = keras.layers.TimeDistributed(keras.layers.Conv2D(32, 3))(a)
    x = keras.layers.Flatten()(x)
    return keras.Model(a, keras.layers.Dense(10, activation="softmax")(x))


def _grid_input():
    import keras

    return keras.Sequential([keras.Input((SIZE, SIZE, 32)), keras.layers.Flatten(), keras.layers.Dense(10)])


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
@pytest.mark.parametrize("build, sentence", [
    (_two_inputs, r"takes 2 inputs; only single-input image classifiers"),
    (_two_outputs, r"has 2 outputs; only single-output classifiers"),
    (_time_distributed, r"takes sequences of 5 images of 12×12×3 .*not an image classifier"),
    (_grid_input, r"takes 12×12 grids of 32 values each .*not an image classifier"),
])
def test_models_that_are_not_image_classifiers_are_refused_with_a_sentence(tmp_path, build, sentence, suffix):
    path = tmp_path / f"m{suffix}"
    build().save(path)
    with pytest.raises(ModelLoadError, match=f"m{suffix} " + sentence):
        load_any_model(path)


CUSTOM_WRITER = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import keras

    class MyFancyScale(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Flatten()(MyFancyScale()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    model.save(os.path.join(sys.argv[1], "custom.keras"))
    model.save(os.path.join(sys.argv[1], "custom.h5"))
    """
)


def test_missing_custom_layer_class_is_named_for_keras3_files(tmp_path):
    subprocess.run([sys.executable, "-c", CUSTOM_WRITER, str(tmp_path)], check=True, timeout=300,
                   capture_output=True)
    for name in ("custom.keras", "custom.h5"):
        with pytest.raises(ModelLoadError) as err:
            load_any_model(tmp_path / name)
        text = str(err.value)
        assert name in text and "MyFancyScale" in text, text
        assert "custom_object_scope" not in text and text.endswith(".")


def test_weights_only_hint_names_only_a_json_that_fits(tmp_path):
    import keras

    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((SIZE, SIZE, 3)), keras.layers.Conv2D(2, 3, name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(10, name="head")])
    model.save_weights(tmp_path / "net.weights.h5")
    # A Keras-2-style save_weights file: layer groups with weight_names at the root.
    import h5py

    with h5py.File(tmp_path / "old_weights.h5", "w") as f:
        f.attrs["layer_names"] = [b"conv", b"head"]
        for layer in model.layers:
            g = f.create_group(layer.name)
            names = [f"{layer.name}/{w.name}:0".encode() for w in layer.weights]
            g.attrs["weight_names"] = names
            for n, w in zip(names, layer.weights):
                g[n.decode()] = np.asarray(w)
    (tmp_path / "a_notes.json").write_text('{"hello": 1}')  # sorts first, not an architecture
    other = json.loads(model.to_json().replace('"conv"', '"other_conv"'))
    (tmp_path / "b_other.json").write_text(json.dumps(other))  # an architecture, but other layers
    opening = open_model(tmp_path / "old_weights.h5")
    assert opening.needs == NEEDS_ARCHITECTURE and opening.suggested_architecture is None
    assert "a_notes.json" not in opening.message and "embedded_cnn" in opening.message
    (tmp_path / "c_fits.json").write_text(model.to_json())
    opening = open_model(tmp_path / "old_weights.h5")
    assert opening.suggested_architecture == str(tmp_path / "c_fits.json")
    assert "c_fits.json" in opening.message
    # Following the suggestion works.
    loaded = open_model(tmp_path / "old_weights.h5", architecture=opening.suggested_architecture).require()
    x = _pixels(4)
    ref = keras.ops.softmax(model(loaded.preprocessing.apply(x))).numpy()
    np.testing.assert_allclose(loaded.predict_proba(x), ref, atol=1e-5)


def test_cli_weights_only_hint_and_whole_sentences(tmp_path, capsys):
    import keras

    from workbench.cli import main

    model = keras.Sequential([keras.Input((SIZE, SIZE, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.save_weights(tmp_path / "w.weights.h5")
    (tmp_path / "aaa.json").write_text("[]")
    from PIL import Image

    Image.fromarray(_pixels(1)[0]).save(tmp_path / "img.png")
    rc = main(["classify", str(tmp_path / "w.weights.h5"), str(tmp_path / "img.png")])
    err = capsys.readouterr().err
    assert rc == 2 and "aaa.json" not in err and "--architecture" in err, err
    assert err.strip().endswith(".") and err.count("\n") == 1
    rc = main(["classify", str(tmp_path / "w.weights.h5"), str(tmp_path / "img.png"), "--preprocessing", "bogus"])
    assert rc == 2 and "--preprocessing" in capsys.readouterr().err
    (tmp_path / "broken.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    rc = main(["classify", str(tmp_path / "broken.h5"), str(tmp_path / "img.png")])
    err = capsys.readouterr().err
    assert rc == 1 and "broken.h5" in err and err.strip().endswith(".") and not err.strip().endswith(":.")


def test_open_model_reports_instead_of_raising(tmp_path):
    opening = open_model(tmp_path / "missing.h5")
    assert not opening.ok and opening.needs == "" and "missing.h5" in opening.error
    with pytest.raises(ModelLoadError, match="missing.h5"):
        opening.require()


def test_inspect_describes_in_model_scaling(tmp_path):
    _classifier(_fronts()["rescaling"], "r").save(tmp_path / "r.keras")
    info = inspect_model_file(tmp_path / "r.keras")
    assert info.in_model_scaling.startswith("Rescaling layer 'rescaling")
    assert "scales pixels itself" in info.describe()
    assert os.path.exists(tmp_path / "r.keras")


def test_damaged_files_get_whole_sentences_naming_the_file(tmp_path):
    import keras

    keras.Sequential([keras.Input((SIZE, SIZE, 3)), keras.layers.Flatten(), keras.layers.Dense(10)]).save(
        tmp_path / "good.keras")
    data = (tmp_path / "good.keras").read_bytes()
    (tmp_path / "half.keras").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.h5").write_bytes(b"")
    messages = {name: open_model(tmp_path / name).message for name in ("half.keras", "empty.h5")}
    assert "truncated or damaged" in messages["half.keras"]
    assert "is empty" in messages["empty.h5"]
    for name, text in messages.items():
        assert name in text and text.endswith(".") and ":" not in text.replace(str(tmp_path), "")
