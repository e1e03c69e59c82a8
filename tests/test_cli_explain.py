"""`explain` end to end on real tiny .h5 files and image files: per-image overlay PNG and float32 map
named after the file stem, --json fields, --class/--layer, the saliency fallback said in a sentence, and
refusals (bad model, images, class, layer) that exit non-zero and write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.core.explain_fixtures import SIZE, squares_cnn, squares_data
from tests.test_cli import run_cli
from workbench.cli import main

NAMES = ["red", "green", "blue", "yellow"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    import keras

    from workbench.core.modelio import save_model

    d = tmp_path_factory.mktemp("models")
    keras.utils.set_random_seed(0)
    save_model(squares_cnn(), d / "cnn.h5", class_names=NAMES, dataset_id="squares")
    inp = keras.Input((SIZE, SIZE, 3))
    flat = keras.layers.Dense(4, activation="softmax", name="out")(keras.layers.Flatten(name="flat")(
        keras.layers.Rescaling(1 / 255.0)(inp)))
    save_model(keras.Model(inp, flat), d / "dense.h5", class_names=NAMES, dataset_id="squares")
    (d / "broken.h5").write_bytes(b"not a model at all")
    return d


@pytest.fixture
def images(tmp_path):
    """a/cat.png and b/cat.png (clashing stems), dog.jpg of another size, a text file, a broken .png."""
    x = squares_data(3, seed=9)[0]
    root = tmp_path / "imgs"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    Image.fromarray(x[0]).save(root / "a" / "cat.png")
    Image.fromarray(x[1]).save(root / "b" / "cat.png")
    Image.fromarray(np.repeat(np.repeat(x[2], 2, 0), 3, 1)).save(root / "dog.jpg")  # 64×96: cropped to fit
    (root / "notes.txt").write_text("not an image")
    (root / "broken.png").write_bytes(b"\x89PNG garbage")
    return root


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_files_named_after_stems(models, images, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, stderr = _run(capsys, "explain", models / "cnn.h5", images, "--out", out, "--json")
    assert code == 0, stderr
    doc = json.loads(stdout.strip().splitlines()[-1])
    rows = {Path(r["image"]).relative_to(images).as_posix(): r for r in doc["images"]}
    assert set(rows) == {"a/cat.png", "b/cat.png", "dog.jpg", "broken.png"}
    assert doc["skipped"] == 1  # notes.txt
    assert "error" in rows["broken.png"] and "broken.png" in rows["broken.png"]["error"]
    assert Path(rows["a/cat.png"]["map"]).name == "cat.npy" and Path(rows["b/cat.png"]["map"]).name == "cat-2.npy"
    assert sorted(p.name for p in out.iterdir()) == [
        "cat-2.npy", "cat-2.png", "cat.npy", "cat.png", "dog.npy", "dog.png"]
    for key in ("a/cat.png", "b/cat.png", "dog.jpg"):
        row = rows[key]
        assert row["method"] == "grad-cam" and row["layer"] == "relu2"
        assert row["class"] in NAMES and row["class_index"] == NAMES.index(row["class"])
        assert 0.0 <= row["probability"] <= 1.0
        cam = np.load(row["map"])
        assert cam.dtype == np.float32 and cam.shape == (SIZE, SIZE)
        assert cam.min() >= 0.0 and cam.max() <= 1.0 and np.isfinite(cam).all()
        with Image.open(row["overlay"]) as png:
            assert png.mode == "RGB" and png.size[0] >= 224 and png.size[0] % SIZE == 0
    assert any("cropped" in s or "crop" in s for s in rows["dog.jpg"]["steps"])


def test_class_by_name_and_index(models, images, tmp_path, capsys):
    code, stdout, _ = _run(capsys, "explain", models / "cnn.h5", images / "a" / "cat.png", "--out", tmp_path / "o1",
                           "--class", "Blue", "--json")
    assert code == 0
    (row,) = json.loads(stdout.strip().splitlines()[-1])["images"]
    assert row["class"] == "blue" and row["class_index"] == 2
    code, stdout, _ = _run(capsys, "explain", models / "cnn.h5", images / "a" / "cat.png", "--out", tmp_path / "o2",
                           "--class", "3", "--json")
    assert code == 0 and json.loads(stdout.strip().splitlines()[-1])["images"][0]["class"] == "yellow"


@pytest.mark.parametrize("args, words", [
    (["--class", "purple"], ["--class purple", "red, green, blue, yellow", "0 to 3"]),
    (["--class", "4"], ["--class 4", "0 to 3"]),
    (["--layer", "conv9"], ["'conv9'", "relu2", "conv1"]),
])
def test_bad_class_or_layer_is_one_sentence_and_writes_nothing(models, images, tmp_path, capsys, args, words):
    out = tmp_path / "out"
    code, stdout, stderr = _run(capsys, "explain", models / "cnn.h5", images, "--out", out, *args)
    assert code == 2 and not out.exists()
    assert stderr.startswith("error: ") and len(stderr.strip().splitlines()) == 1
    for word in words:
        assert word in stderr


def test_bad_model_or_images_write_nothing(models, images, tmp_path, capsys):
    out = tmp_path / "out"
    for args in ([models / "broken.h5", images], [models / "missing.h5", images],
                 [models / "cnn.h5", tmp_path / "nowhere"]):
        code, _, stderr = _run(capsys, "explain", *args, "--out", out)
        assert code != 0 and stderr.startswith("error: ") and len(stderr.strip().splitlines()) == 1
        assert not out.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("x")
    code, _, stderr = _run(capsys, "explain", models / "cnn.h5", empty, "--out", out)
    assert code == 2 and "No image files" in stderr and not out.exists()
    # --out that is a file
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, stderr = _run(capsys, "explain", models / "cnn.h5", images, "--out", blocker)
    assert code == 2 and "is a file" in stderr and blocker.read_text() == "x"


def test_non_spatial_layer_gives_saliency_and_a_sentence(models, images, tmp_path, capsys):
    code, stdout, stderr = _run(capsys, "explain", models / "cnn.h5", images / "a", "--out", tmp_path / "o",
                                "--layer", "gap")
    assert code == 0
    assert "saliency" in stdout and "note: Layer gap has no spatial extent" in stderr and "fallback" in stderr
    assert np.load(tmp_path / "o" / "cat.npy").shape == (SIZE, SIZE)


def test_model_without_spatial_layer_falls_back(models, images, tmp_path, capsys):
    code, stdout, _ = _run(capsys, "explain", models / "dense.h5", images / "a", "--out", tmp_path / "o", "--json")
    assert code == 0
    (row,) = json.loads(stdout.strip().splitlines()[-1])["images"]
    assert row["method"] == "saliency" and row["layer"] is None and "fallback" in row["note"]


def test_entry_point_in_a_fresh_process(models, images, tmp_path):
    proc = run_cli("explain", models / "cnn.h5", images / "a" / "cat.png", "--out", tmp_path / "o")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "grad-cam at relu2" in proc.stdout and (tmp_path / "o" / "cat.png").is_file()
