"""`evaluate` and `classify` end to end on real tiny .h5 models: broken models refused, strict JSON,
usage errors exit 2, images fitted and the fitting told, folders searched, file text sanitised."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.test_cli import run_cli


def strict_json(stdout: str):
    """Every non-empty line parsed strictly (NaN/Infinity refused); the last one returned."""
    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, "no output"
    return [json.loads(line, parse_constant=refuse) for line in lines][-1]


def _save(path: Path, shape=(32, 32, 3), classes=5, nan=False) -> Path:
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape), keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(classes, activation="softmax")])
    if nan:
        model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    model.save(path)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    return {
        "ok": _save(d / "ok.h5"),
        "nan": _save(d / "diverged.h5", nan=True),
        "gray28": _save(d / "gray28.h5", shape=(28, 28, 1)),
        "seven": _save(d / "seven.h5", classes=7),
    }


def _picture(path: Path, w: int, h: int, mode: str = "RGB") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.random.default_rng(w * h).integers(0, 256, (h, w, 3) if mode == "RGB" else (h, w), dtype=np.uint8)
    Image.fromarray(arr, mode).save(path)
    return path


# ---- broken models -------------------------------------------------------------------------------

def test_classify_refuses_a_model_that_outputs_nan(models, tmp_path):
    proc = run_cli("classify", models["nan"], _picture(tmp_path / "a.png", 32, 32), "--json")
    assert proc.returncode == 1
    assert proc.stdout == ""  # a refused command writes nothing
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: diverged.h5 outputs NaN for these images: the model is broken (for example, its training "
        "diverged); retrain it, e.g. with a smaller learning rate.")


def test_evaluate_refuses_a_model_that_outputs_nan(models):
    proc = run_cli("evaluate", models["nan"], "--dataset", "builtin", "--json")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "error: diverged.h5 outputs NaN for these images" in proc.stderr and "Traceback" not in proc.stderr


# ---- evaluate -------------------------------------------------------------------------------------

@pytest.mark.parametrize("limit", ["0", "-5"])
def test_evaluate_limit_below_one_is_a_usage_error(models, limit):
    proc = run_cli("evaluate", models["ok"], "--dataset", "builtin", "--limit", limit)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == (f"error: --limit must be at least 1 (got {limit}); "
                                   "leave it out to evaluate the whole test split.")


def test_evaluate_json_is_strict_with_null_for_a_class_without_images(models):
    proc = run_cli("evaluate", models["ok"], "--dataset", "builtin", "--limit", "2", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    ev = strict_json(proc.stdout)
    assert ev["n"] == 2 and set(ev["per_class_accuracy"]) == {"circle", "square", "stripes", "cross", "triangle"}
    assert sum(v is None for v in ev["per_class_accuracy"].values()) >= 3  # two images cover at most two classes
    assert ev["steps"] == [] and ev["model"]["path"].endswith("ok.h5") and ev["model"]["classes"] == 5
    assert "evaluating" in proc.stderr  # the progress line


def test_evaluate_resizes_for_a_28x28_grayscale_model_and_says_so(models):
    proc = run_cli("evaluate", models["gray28"], "--dataset", "builtin", "--limit", "20")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "note: resized the 32×32 images to the model's 28×28 (--fit crop)." in proc.stdout
    assert "note: converted the images to grayscale (the model takes 1 channel)." in proc.stdout
    assert "fit_to_input" not in proc.stdout + proc.stderr
    assert "gray28.h5 on builtin test (20 images): top-1" in proc.stdout


def test_evaluate_checks_the_class_count_before_loading_the_dataset(models, tmp_path):
    # cifar10 is not in the (empty) data folder: the class check must come first.
    proc = run_cli("evaluate", models["seven"], "--dataset", "cifar10", "--data-dir", tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == ("error: seven.h5 has 7 outputs but cifar10 has 10 classes; "
                                   "pick a --dataset with 7 classes.")


# ---- classify --------------------------------------------------------------------------------------

def test_classify_a_folder_sorted_recursive_with_steps_and_skips(models, tmp_path):
    folder = tmp_path / "photos"
    _picture(folder / "b" / "wide.png", 64, 32)
    _picture(folder / "a_gray.png", 32, 32, "L")
    for i in range(9):
        _picture(folder / "c" / f"{i}.png", 32, 32)
    (folder / "b" / "notes.txt").write_text("not a picture")
    proc = run_cli("classify", models["ok"], folder, "--top", "2", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = strict_json(proc.stdout)
    names = [Path(r["image"]).relative_to(folder).as_posix() for r in out["images"]]
    assert names == ["a_gray.png", "b/wide.png"] + [f"c/{i}.png" for i in range(9)]
    assert out["skipped"] == 1
    assert out["images"][0]["steps"] == ["repeated the grayscale picture in 3 channels (the model takes RGB)"]
    assert out["images"][1]["steps"] == ["centre-cropped 64×32 to 32×32"] and out["images"][1]["size"] == [64, 32]
    assert all(len(r["top"]) == 2 for r in out["images"])
    assert "classifying" in proc.stderr  # eleven images: a progress line
    text = run_cli("classify", models["ok"], folder / "b", "--fit", "pad")
    assert text.returncode == 0, text.stderr[-2000:]
    assert "  (resized 64×32 to 32×16; padded with black bars to 32×32)" in text.stdout.splitlines()
    assert text.stdout.splitlines()[0].startswith("ok.h5: preprocessing ")
    assert "skipped 1 file(s) in the folders that are not images." in text.stderr


def test_classify_refuses_a_fifo_and_a_missing_path_at_once(models, tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    proc = run_cli("classify", models["ok"], fifo, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: {fifo} is not a regular file (a pipe, socket or device), "
                                   "so it cannot be read as an image.")
    proc = run_cli("classify", models["ok"], tmp_path / "nothing.png")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: There is no image or folder at {tmp_path / 'nothing.png'}."


def test_class_names_from_a_file_are_sanitised(models, tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(["\x1b[31mred\x1b[0m", "\x1b]0;title\x07two", "three", "four", "five"]))
    image = _picture(tmp_path / "x.png", 32, 32)
    proc = run_cli("classify", models["ok"], image, "--labels", labels, "--top", "5")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "red " in proc.stdout and "two " in proc.stdout


def test_every_evaluate_and_classify_option_has_help():
    from workbench.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name in ("evaluate", "classify"):
        for action in commands[name]._actions:
            assert action.help, f"{name} {action.dest} has no help text"
        # --fit defaults to the model's recorded resize rule; the help says so (newlines from wrapping aside).
        assert "trained with, else crop)" in " ".join(commands[name].format_help().split())


@pytest.mark.parametrize("args, message", [
    (["evaluate", "{ok}", "--dataset", "nope"], "error: Unknown dataset 'nope'; --dataset must be one of "),
    (["classify", "{ok}", "x.png", "--top", "0"], "error: --top must be at least 1 (got 0)."),
    (["classify", "{missing}", "x.png"], "error: There is no model file at "),
])
def test_usage_errors_exit_2_before_any_model_is_loaded(models, tmp_path, args, message):
    args = [a.format(ok=models["ok"], missing=tmp_path / "missing.h5") for a in args]
    proc = run_cli(*args, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith(message) and len(proc.stderr.strip().splitlines()) == 1  # TensorFlow never loaded


def test_evaluate_flips_as_the_models_run_did_unless_told_not_to(tmp_path):
    import keras

    from workbench.core.datasets import get_info
    from workbench.core.evaluation import FLIP_STEP
    from workbench.core.modelio import save_model

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                              keras.layers.Dense(5, activation="softmax")])
    path = tmp_path / "flipped.h5"
    save_model(model, path, class_names=get_info("builtin").class_names, dataset_id="builtin",
               extra={"tta_flip": True})
    auto = run_cli("evaluate", path, "--dataset", "builtin", "--limit", "20", "--json")
    assert auto.returncode == 0, auto.stderr[-2000:]
    auto = strict_json(auto.stdout)
    assert auto["tta_flip"] is True and FLIP_STEP in auto["steps"]
    off = strict_json(run_cli("evaluate", path, "--dataset", "builtin", "--limit", "20", "--json",
                              "--tta", "off").stdout)
    assert off["tta_flip"] is False and FLIP_STEP not in off["steps"]
    text = run_cli("evaluate", path, "--dataset", "builtin", "--limit", "20")
    assert f"note: {FLIP_STEP} (the model's run measured itself so; --tta off to skip)." in text.stdout
