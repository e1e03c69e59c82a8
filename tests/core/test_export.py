"""Exports of real tiny models to SavedModel, LiteRT and ONNX, run in their own runtimes on raw pixels."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytest.importorskip("tensorflow")
from workbench.core.export import ExportError, Runner, export_model, read_artefact_metadata  # noqa: E402
from workbench.core.export import api as export_api  # noqa: E402
from workbench.core.modelio import open_model  # noqa: E402

from .export_fixtures import builtin_data, logits_model, tf_keras_file, train_ours  # noqa: E402

NAMES = {"savedmodel": "net", "litert": "net.tflite", "onnx": "net.onnx"}


def _needs(fmt: str) -> None:
    # Each runtime is in the `export` extra (wheels for cp311-cp313); skipped with the reason where missing.
    if fmt == "litert":
        pytest.importorskip("ai_edge_litert", reason="ai-edge-litert (the export extra) is not installed")
    if fmt == "onnx":
        pytest.importorskip("onnxruntime", reason="onnxruntime (the export extra) is not installed")
        pytest.importorskip("tf2onnx", reason="tf2onnx (the export extra) is not installed")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export-models")
    ours = open_model(train_ours(folder, "ours.h5")).loaded
    mixed = open_model(train_ours(folder, "mixed.h5", policy="mixed_bfloat16")).loaded
    pytest.importorskip("tf_keras")
    third = open_model(tf_keras_file(folder)).loaded
    return {"ours": ours, "mixed": mixed, "logits": logits_model(), "tf_keras": third}


@pytest.fixture(scope="module")
def pixels():
    data, _x, _y = builtin_data()
    return np.asarray(data.x_test[:100]), np.asarray(data.y_test[:100])


@pytest.mark.parametrize("fmt", ["savedmodel", "litert", "onnx"])
@pytest.mark.parametrize("which", ["ours", "mixed", "logits", "tf_keras"])
def test_export_runs_in_its_runtime_on_raw_pixels(models, pixels, tmp_path, fmt, which):
    _needs(fmt)
    loaded = models[which]
    x, y = pixels
    check = None if which == "ours" else x  # ours: the builtin test split named in the file's metadata
    report = export_model(loaded, fmt, tmp_path / NAMES[fmt], check_images=check, check_labels=None if check is None else y)
    assert report.check is not None and report.check.agreement >= 0.99, report.check
    if check is None:
        assert "builtin" in report.check_source
    # Fed raw uint8-valued pixels by the artefact's own runtime, it gives what Keras gives.
    probs = Runner(report.path, fmt)(x)
    want = loaded.predict_proba(x)
    assert np.mean(probs.argmax(1) == want.argmax(1)) >= 0.99
    assert np.allclose(probs.sum(1), 1.0, atol=1e-4) and probs.min() >= 0  # probabilities, softmax added for logits
    meta = read_artefact_metadata(report.path, fmt)
    assert meta["class_names"] == list(loaded.class_names)
    assert meta["input"]["shape"] == [32, 32, 3]
    assert meta["preprocessing"]["kind"] == loaded.preprocessing.kind
    assert meta["softmax_added"] is (which == "logits")
    assert meta["preprocessing"]["guessed"] is (which == "tf_keras")
    card = json.loads(open(report.card_json, encoding="utf-8").read())
    assert card["artefact_sha256"] and card["check"]["agreement"] == report.check.agreement
    assert os.path.isfile(report.card_md) and "raw RGB pixels 0-255" in open(report.card_md, encoding="utf-8").read()
    if which == "mixed":
        assert any("mixed precision" in n for n in report.notes)
    if loaded.path:
        assert len(meta["source"]["sha256"]) == 64
    # The README's examples call these names.
    if fmt == "litert":
        from ai_edge_litert.interpreter import Interpreter

        signature = Interpreter(model_path=report.path).get_signature_list()["serving_default"]
        assert signature == {"inputs": ["pixels"], "outputs": ["probabilities"]}
    if fmt == "onnx":
        import onnxruntime

        assert [i.name for i in onnxruntime.InferenceSession(report.path).get_inputs()] == ["pixels"]


def test_a_guessed_preprocessing_is_built_in_and_said(models, pixels, tmp_path):
    _needs("onnx")
    third = models["tf_keras"]
    assert third.preprocessing_guessed and third.preprocessing.kind == "scale_0_1"
    report = export_model(third, "onnx", tmp_path / "t.onnx", check_images=pixels[0][:20])
    assert any("guess" in n for n in report.notes)
    assert "guessed" in open(report.card_md, encoding="utf-8").read()


def test_stored_temperature_is_built_in(models, pixels, tmp_path):
    _needs("onnx")
    from workbench.core.calibration import StoredTemperature

    record = StoredTemperature.from_json({"value": 2.5, "dataset": "builtin", "split": "test", "images": 100,
                                          "ece_before": 0.2, "ece_after": 0.1, "preprocessing": "raw pixels 0..255"})
    hot = models["ours"].with_temperature(record)
    x, _y = pixels
    report = export_model(hot, "onnx", tmp_path / "hot.onnx", check_images=x)
    got, plain = Runner(report.path, "onnx")(x), models["ours"].predict_proba(x)
    assert np.abs(got - hot.predict_proba(x)).max() < 1e-3
    assert np.abs(got - plain).max() > 1e-2  # the temperature did change the probabilities
    assert read_artefact_metadata(report.path, "onnx")["temperature"] == 2.5


def test_failed_check_leaves_nothing(models, pixels, tmp_path, monkeypatch):
    _needs("onnx")
    monkeypatch.setattr(export_api, "MIN_AGREEMENT", 1.01)  # no export can agree on more than every image
    with pytest.raises(ExportError, match=r"agrees with Keras on only .* nothing was written"):
        export_model(models["ours"], "onnx", tmp_path / "bad.onnx", check_images=pixels[0])
    assert os.listdir(tmp_path) == []


def test_int8_reports_its_top1_drop(models, pixels, tmp_path):
    _needs("litert")
    data, x_train, _ = builtin_data()
    x, y = pixels
    report = export_model(models["ours"], "litert", tmp_path / "q.tflite", quantize="int8",
                          calibration_images=x_train[:50], check_images=x, check_labels=y)
    assert report.top1_drop is not None and report.check.top1 is not None
    floats = export_model(models["ours"], "litert", tmp_path / "f.tflite", check_images=x[:10])
    assert report.size_bytes < floats.size_bytes / 2  # int8 weights
    assert read_artefact_metadata(report.path, "litert")["quantize"] == "int8"


@pytest.mark.parametrize("fmt, out, quantize, says", [
    ("pdf", "x.pdf", "none", "Unknown format"),
    ("onnx", "x.tflite", "none", "ending in .onnx"),
    ("onnx", "x.onnx", "int8", "LiteRT only"),
    ("litert", "missing/x.tflite", "none", "does not exist"),
])
def test_bad_requests_are_one_sentence_and_write_nothing(models, tmp_path, fmt, out, quantize, says):
    with pytest.raises(ExportError, match=says):
        export_model(models["ours"], fmt, tmp_path / out, quantize=quantize)
    assert os.listdir(tmp_path) == []


def test_existing_output_is_not_replaced(models, tmp_path):
    (tmp_path / "x.onnx").write_bytes(b"mine")
    with pytest.raises(ExportError, match="already exists"):
        export_model(models["ours"], "onnx", tmp_path / "x.onnx")
    assert (tmp_path / "x.onnx").read_bytes() == b"mine"


@pytest.mark.parametrize("fmt", ["savedmodel", "litert", "onnx"])
def test_a_bgr_preprocessing_reverses_the_channels_in_the_export(tmp_path, fmt):
    """caffe-mode bases (ResNet, VGG) want BGR: a model that answers "is channel 0 brighter than channel 2?"
    must give the same answers exported as in Keras, where a forgotten reversal flips every one of them."""
    _needs(fmt)
    import keras

    from workbench.core.modelio import LoadedModel

    inp = keras.Input((8, 8, 3))
    h = keras.layers.GlobalAveragePooling2D()(inp)
    dense = keras.layers.Dense(2, activation="softmax")
    model = keras.Model(inp, dense(h))
    dense.set_weights([np.array([[0.1, -0.1], [0.0, 0.0], [-0.1, 0.1]], np.float32), np.zeros(2, np.float32)])
    loaded = LoadedModel.from_keras(model, ("first", "third"), preprocessing="imagenet_caffe")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 8, 8, 3)).astype(np.uint8)
    x[:20, ..., 0], x[20:, ..., 2] = 255, 255  # red-heavy halves and blue-heavy halves
    want = loaded.predict_proba(x).argmax(1)
    assert 5 <= want.sum() <= 35  # both answers occur, so a reversal would show
    report = export_model(loaded, fmt, tmp_path / NAMES[fmt], check_images=x)
    assert report.check.agreement == 1.0
    assert (Runner(report.path, fmt)(x).argmax(1) == want).all()


def test_an_onnx_export_leaves_the_process_environment_alone(models, pixels, tmp_path, monkeypatch):
    """tf2onnx sets TF_CPP_MIN_LOG_LEVEL=3 when imported: a training process started after an export in the
    window inherited it and lost TensorFlow's lines from its log (a suite-order failure found it)."""
    _needs("onnx")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    export_model(models["ours"], "onnx", tmp_path / "env.onnx", check_images=pixels[0][:10])
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"
