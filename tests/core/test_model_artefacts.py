"""Exported artefacts (SavedModel folder, .tflite, .onnx) opened by `open_model` for evaluate and classify:
the same answers as the source model, the inference-only note said, layer work refused with a sentence,
hostile artefacts refused with one sentence."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")
pytest.importorskip("onnxruntime")
pytest.importorskip("tf2onnx")
from workbench.core.export import export_model  # noqa: E402
from workbench.core.modelio import open_model  # noqa: E402

from tests.test_cli import run_cli  # noqa: E402

from .export_fixtures import builtin_data, train_ours  # noqa: E402

NAMES = {"savedmodel": "net", "litert": "net.tflite", "onnx": "net.onnx"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("artefacts")
    source = train_ours(folder, "ours.h5")
    loaded = open_model(source).loaded
    data, _x, _y = builtin_data()
    check = np.asarray(data.x_test[:20])
    paths = {fmt: Path(export_model(loaded, fmt, folder / name, check_images=check).path) for fmt, name in NAMES.items()}
    return {"source": source, "loaded": loaded, "folder": folder, **paths}


@pytest.fixture(scope="module")
def pixels():
    data, _x, _y = builtin_data()
    return np.asarray(data.x_test[:100])


@pytest.mark.parametrize("fmt", list(NAMES))
def test_an_artefact_opens_and_agrees_with_its_source(exported, pixels, fmt):
    opening = open_model(exported[fmt])
    assert opening.ok, opening.message
    loaded = opening.loaded
    # Our export records class names and raw-pixel input: nothing is guessed.
    assert loaded.class_names == exported["loaded"].class_names and loaded.class_names_source == "saved in the file"
    assert loaded.preprocessing.kind == "raw_0_255" and not loaded.preprocessing_guessed
    assert "recorded in the artefact" in loaded.preprocessing_reason
    assert loaded.input_shape == (32, 32, 3) and not loaded.outputs_logits
    assert any(n.startswith("Inference only: layers, Grad-CAM and calibration are not available") for n in loaded.notes)
    want = exported["loaded"].predict_proba(pixels)
    got = loaded.predict_proba(pixels, batch_size=32)
    assert np.mean(got.argmax(1) == want.argmax(1)) >= 0.99
    np.testing.assert_allclose(got, want, atol=1e-3)  # the same probabilities, not just the same argmax
    np.testing.assert_allclose(loaded.predict_proba(pixels[0])[0], got[0], atol=1e-4)  # one image: the direct path


def test_an_artefact_describes_itself_as_exported(exported):
    info = open_model(exported["litert"]).loaded.info
    text = info.describe()
    assert text.startswith("net.tflite: an exported LiteRT model, exported by cifar-workbench ")
    assert "run in ai-edge-litert" in text and "Keras version" not in text


def test_saved_model_pb_picked_opens_its_folder(exported):
    opening = open_model(exported["savedmodel"] / "saved_model.pb")
    assert opening.ok, opening.message
    assert opening.loaded.path == str(exported["savedmodel"])


def test_layer_work_is_refused_with_a_sentence(exported, pixels):
    from workbench.core.calibrate_model import CalibrationRefused, calibrate_model
    from workbench.core.explain import graph
    from workbench.core.explain.activations import image_layers
    from workbench.core.explain.gradcam import ExplainError, explain

    loaded = open_model(exported["onnx"]).loaded
    with pytest.raises(ExplainError, match=r"^Grad-CAM is not available for an exported ONNX model \(net.onnx\)"):
        explain(loaded, pixels[:2])
    from workbench.core.explain.layer_tree import layer_tree

    with pytest.raises(graph.LayerNotFound, match="not available for an exported ONNX model"):
        graph.layers(loaded.model)
    with pytest.raises(graph.LayerNotFound, match="^Layer-by-layer work .* not available for an exported ONNX"):
        layer_tree(loaded.model)  # the Model tab's graph says this sentence instead of drawing
    with pytest.raises(ValueError, match="^The layers view is not available for an exported ONNX model"):
        image_layers(loaded, pixels[0])
    with pytest.raises(CalibrationRefused, match="^Calibration is not available for an exported ONNX model"):
        calibrate_model(loaded, "builtin", store=False)


def test_an_artefact_without_our_metadata_gets_the_guesses_with_reasons(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(10)])  # logits, no metadata
    model.export(str(tmp_path / "plain"), format="tf_saved_model", verbose=False)
    loaded = open_model(tmp_path / "plain").require()
    assert loaded.preprocessing_guessed and loaded.preprocessing_reason.startswith("guessed")
    assert loaded.outputs_logits  # found by running it: rows do not sum to 1
    assert loaded.class_names_source.startswith("assumed CIFAR-10")
    probs = loaded.predict_proba(np.zeros((3, 32, 32, 3), np.uint8))
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)


def _sentence(message: str) -> bool:
    return bool(message) and "\n" not in message and "Traceback" not in message and message.endswith(".")


def test_hostile_artefacts_are_one_sentence_quickly(exported, tmp_path):
    empty_folder = tmp_path / "notsaved"
    empty_folder.mkdir()
    (empty_folder / "variables").mkdir()
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "saved_model.pb").write_bytes(os.urandom(4096))
    cases = {empty_folder: "folder without saved_model.pb", garbage: "cannot be read as a SavedModel model"}
    for fmt in ("litert", "onnx"):
        whole = exported[fmt].read_bytes()
        cut = tmp_path / f"cut{exported[fmt].suffix}"
        cut.write_bytes(whole[: len(whole) // 3])
        cases[cut] = "truncated or damaged"
        huge = tmp_path / f"huge{exported[fmt].suffix}"
        with open(huge, "wb") as fh:  # sparse: 3 GiB declared, nothing stored
            fh.truncate(3 * 2**30)
        cases[huge] = "more than the 1 GiB the workbench opens"
        empty = tmp_path / f"empty{exported[fmt].suffix}"
        empty.write_bytes(b"")
        cases[empty] = "is empty"
    for path, says in cases.items():
        start = time.monotonic()
        opening = open_model(path)
        assert not opening.ok and says in opening.message, (path, opening.message)
        assert _sentence(opening.message), opening.message
        assert time.monotonic() - start < 10


def test_metadata_linked_to_a_device_is_ignored_not_read(exported, tmp_path):
    import shutil

    copy = tmp_path / "linked"
    shutil.copytree(exported["savedmodel"], copy)
    (copy / "assets" / "workbench.json").unlink()
    (copy / "assets" / "workbench.json").symlink_to("/dev/zero")  # reading it would never end
    start = time.monotonic()
    loaded = open_model(copy).require()
    assert time.monotonic() - start < 20
    assert loaded.preprocessing_guessed  # no metadata read: the usual guesses, said as guesses
    assert loaded.info.describe().endswith("No workbench metadata: class names and preprocessing are guessed and can be changed.")


def _picture_folder(folder, images):
    folder.mkdir()
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{i:03d}.png")
    return folder


def test_evaluate_and_classify_cli_give_the_sources_answers(exported, pixels, tmp_path):
    def evaluate(model):
        proc = run_cli("evaluate", model, "--dataset", "builtin", "--limit", "200", "--json", "--tta", "off")
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout.splitlines()[-1])

    want = evaluate(exported["source"])
    for fmt in ("savedmodel", "onnx"):
        got = evaluate(exported[fmt])
        assert abs(got["top1"] - want["top1"]) <= 0.01, (fmt, got["top1"], want["top1"])
        assert abs(got["ece"] - want["ece"]) <= 1e-3, (fmt, got["ece"], want["ece"])  # same confidences too
        assert got["model"]["inference_only"].startswith("Inference only")
    folder = _picture_folder(tmp_path / "pictures", pixels[:40])
    rows = {}
    for key in ("source", "litert"):
        proc = run_cli("classify", exported[key], folder, "--top", "1", "--json")
        assert proc.returncode == 0, proc.stderr[-2000:]
        rows[key] = [r["top"][0] for r in json.loads(proc.stdout.splitlines()[-1])["images"]]
    agree = np.mean([a["label"] == b["label"] for a, b in zip(rows["source"], rows["litert"])])
    assert len(rows["litert"]) == 40 and agree >= 0.99
    assert max(abs(a["prob"] - b["prob"]) for a, b in zip(rows["source"], rows["litert"])) <= 1e-3
    text = run_cli("classify", exported["litert"], folder / "000.png")
    assert "note: Inference only: layers, Grad-CAM and calibration are not available for an exported LiteRT model." in text.stdout


def test_explain_cli_refuses_an_artefact_in_one_sentence_and_writes_nothing(exported, pixels, tmp_path):
    picture = _picture_folder(tmp_path / "one", pixels[:1]) / "000.png"
    proc = run_cli("explain", exported["savedmodel"], picture, "--out", tmp_path / "maps")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip() == ("error: Grad-CAM is not available for an exported SavedModel model (net): "
                                   "it runs inference only.")
    assert not (tmp_path / "maps").exists()


def test_cli_refuses_a_folder_that_is_not_a_saved_model(tmp_path):
    proc = run_cli("evaluate", tmp_path, "--dataset", "builtin", timeout=60)
    assert proc.returncode == 2 and "is a folder without saved_model.pb" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
