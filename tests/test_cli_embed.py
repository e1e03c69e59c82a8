"""`embed` end to end on a tiny model trained on the built-in shapes: Projector files the installed
TensorBoard plugin reads, a map.csv with one row per image, and bad input refused in one sentence with
nothing written."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from google.protobuf import text_format

from tests.core.embedding_fixtures import train_tiny_model
from tests.test_cli import run_cli
from workbench.cli import main as cli_main

N = 60


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_tiny_model(tmp_path_factory.mktemp("embed") / "tiny.h5")


def _projector(out):
    from tensorboard.plugins.projector import projector_config_pb2
    from tensorboard.plugins.projector.projector_plugin import _read_tensor_tsv_file, _rel_to_abs_asset_path

    config_path = out / "projector_config.pbtxt"
    config = text_format.Parse(config_path.read_text(), projector_config_pb2.ProjectorConfig())
    (emb,) = config.embeddings
    vectors = _read_tensor_tsv_file(_rel_to_abs_asset_path(emb.tensor_path, str(config_path)))
    rows = (out / emb.metadata_path).read_text().splitlines()
    assert (out / emb.sprite.image_path).is_file()
    return vectors, rows


def test_embed_writes_projector_files_and_the_map(trained, tmp_path):
    out = tmp_path / "map"
    proc = run_cli("embed", trained, "--dataset", "builtin", "--limit", N, "--out", out, "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["n"] == N and result["method"] == "pca" and result["dimensions"] == 16
    assert result["layer"].split("/")[-1].startswith("dense")  # the 16-unit layer the classifier reads (Keras
    # numbers layer names per process: "dense_95" after other tests built models)
    vectors, rows = _projector(out)
    assert vectors.shape == (N, 16) and len(rows) == N + 1
    table = list(csv.DictReader(open(out / "map.csv", encoding="utf-8")))
    assert len(table) == N and set(table[0]) == {"index", "x", "y", "true", "predicted", "correct", "confidence"}
    right = sum(r["correct"] == "yes" for r in table)
    assert right / N == pytest.approx(result["top1"])
    assert {r["true"] for r in table} <= {"circle", "square", "stripes", "cross", "triangle"}


def test_embed_tsne_in_text_says_how_to_open_it(trained, tmp_path, capsys):
    out = tmp_path / "t"
    assert cli_main(["embed", str(trained), "--dataset", "builtin", "--limit", "40", "--out", str(out),
                     "--method", "tsne"]) == 0
    text = capsys.readouterr().out
    assert "t-SNE" in text and f"tensorboard --logdir {out}" in text
    xy = np.array([[float(r["x"]), float(r["y"])] for r in csv.DictReader(open(out / "map.csv"))])
    assert xy.shape == (40, 2) and np.isfinite(xy).all() and xy.std(axis=0).min() > 0


@pytest.mark.parametrize("args, sentence", [
    (["--limit", "0"], "error: --limit must be at least 1 (got 0); leave it out to map the whole test split."),
    (["--dataset", "cifar100"], "has 5 outputs but cifar100 has 100 classes"),
    (["--dataset", "no-such-set"], "no-such-set"),
    (["--out", "FILE"], "is a file; give a folder for the Projector files."),
    (["--method", "umap"], "invalid choice: 'umap'"),
])
def test_bad_input_is_one_sentence_and_writes_nothing(trained, tmp_path, capsys, args, sentence):
    out = tmp_path / "out"
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("keep me")
    argv = ["embed", str(trained), "--dataset", "builtin", "--out", str(out)]
    argv += [str(a_file) if a == "FILE" else a for a in args]
    try:
        code = cli_main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and sentence in err and "Traceback" not in err
    assert len([line for line in err.strip().splitlines() if "error:" in line]) == 1
    assert not out.exists() and a_file.read_text() == "keep me"


def test_a_missing_model_is_a_sentence(tmp_path, capsys):
    assert cli_main(["embed", str(tmp_path / "none.h5"), "--dataset", "builtin", "--out", str(tmp_path / "o")]) == 2
    assert "There is no model file at" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
