"""`export` end to end on a real tiny model in a run folder: each format written, checked and carded; bad
requests refused with one sentence and nothing written."""

from __future__ import annotations

import json
import os

import pytest

from tests.core.export_fixtures import train_ours
from workbench.cli import main
from workbench.core.export import read_artefact_metadata


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    path = train_ours(run, "model.h5")
    # The run folder the model sits in: its metrics go into the model card.
    (run / "config.json").write_text(json.dumps({"config": {"recipe": "fast", "arch": "simple_cnn"}}))
    (run / "result.json").write_text(json.dumps({"status": "finished", "test_top1": 0.61, "test_top5": 1.0}))
    return path


def _cli(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_onnx_export_with_json(model_file, tmp_path, capsys):
    pytest.importorskip("onnxruntime", reason="onnxruntime (the export extra) is not installed")
    pytest.importorskip("tf2onnx", reason="tf2onnx (the export extra) is not installed")
    out = tmp_path / "net.onnx"
    code, text, err = _cli(capsys, "export", model_file, "--format", "onnx", "--out", out, "--dataset", "builtin",
                           "--limit", 100, "--json")
    assert code == 0, err
    report = json.loads(text.strip().splitlines()[-1])
    assert report["check"]["images"] == 100 and report["check"]["agreement"] >= 0.99
    assert "first 100 test images of builtin" in report["check_source"]
    assert read_artefact_metadata(out, "onnx")["dataset"] == "builtin"
    card = json.loads((tmp_path / "net.onnx.model.json").read_text())
    assert card["run"]["metrics"]["test_top1"] == 0.61 and card["run"]["recipe"] == "fast"
    assert "61.00 %" in (tmp_path / "net.onnx.MODEL.md").read_text()


def test_litert_and_savedmodel_check_on_the_models_own_dataset(model_file, tmp_path, capsys):
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert (the export extra) is not installed")
    for fmt, name in (("litert", "net.tflite"), ("savedmodel", "net")):
        code, text, err = _cli(capsys, "export", model_file, "--format", fmt, "--out", tmp_path / name)
        assert code == 0, err
        assert "agreement with Keras" in text and "builtin" in text
    assert (tmp_path / "net" / "MODEL.md").is_file() and (tmp_path / "net" / "assets" / "workbench.json").is_file()


@pytest.mark.parametrize("extra, says", [
    (["--format", "onnx", "--out", "{d}/x.tflite"], "ending in .onnx"),
    (["--format", "onnx", "--out", "{d}/x.onnx", "--quantize", "float16"], "LiteRT only"),
    (["--format", "litert", "--out", "{d}/x.tflite", "--calibration-dataset", "builtin"], "int8 only"),
    (["--format", "litert", "--out", "{d}/x.tflite", "--dataset", "cifar10"], "10 classes"),
    (["--format", "litert", "--out", "{d}/no/x.tflite"], "does not exist"),
])
def test_bad_requests_write_nothing(model_file, tmp_path, capsys, extra, says):
    args = [a.format(d=tmp_path) for a in extra]
    code, _text, err = _cli(capsys, "export", model_file, *args)
    assert code == 2 and says in err and err.count("\n") == 1, err
    assert os.listdir(tmp_path) == []


def test_a_missing_model_is_one_sentence(tmp_path, capsys):
    code, _text, err = _cli(capsys, "export", tmp_path / "none.h5", "--format", "onnx", "--out", tmp_path / "x.onnx")
    assert code == 2 and err.startswith("error:") and os.listdir(tmp_path) == []
