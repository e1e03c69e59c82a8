"""The command line end to end: real processes, real training on the built-in set, real files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, timeout=300):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT,
    )


def last_json(stdout: str):
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, "no output"
    return json.loads(lines[-1])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short real training run through the CLI, shared by the tests that need a model."""
    out = tmp_path_factory.mktemp("cli") / "run"
    proc = run_cli("train", "--dataset", "builtin", "--arch", "simple_cnn", "--epochs", "3",
                   "--batch-size", "64", "--limit", "1200", "--seed", "1", "--out", out, "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, last_json(proc.stdout)


def test_train_reports_json_and_epoch_lines(trained):
    proc, result = trained
    assert set(result) >= {"run_dir", "model_path", "test_top1", "test_top5", "epochs"}
    assert len(result["epochs"]) == 3
    assert [e["epoch"] for e in result["epochs"]] == [1, 2, 3]
    assert Path(result["model_path"]).is_file()
    assert Path(result["model_path"]).suffix == ".h5"
    assert 0.0 <= result["test_top1"] <= 1.0
    # 5 classes: top-5 is always 100 %, so it is null with the reason, not a meaningless 1.0
    assert result["test_top5"] is None and all(e["top5"] is None and e["val_top5"] is None for e in result["epochs"])
    assert result["top5_note"] == "top-5 is meaningless with 5 classes (every answer is among the top 5)"
    assert "top5" not in proc.stderr.splitlines()[-2]  # the epoch lines leave it out too
    assert result["test_top1"] > 0.5  # the built-in set is easy: a real network learns it
    assert sum("epoch" in line for line in proc.stderr.splitlines()) >= 3  # one line per epoch
    run_dir = Path(result["run_dir"])
    assert (run_dir / "config.json").is_file()
    assert len((run_dir / "history.csv").read_text().strip().splitlines()) == 1 + 3


def test_evaluate_matches_a_direct_computation(trained):
    _, result = trained
    proc = run_cli("evaluate", result["model_path"], "--dataset", "builtin", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    ev = last_json(proc.stdout)
    assert set(ev) >= {"top1", "top5", "n"}
    assert ev["top5"] is None and "meaningless with 5 classes" in ev["top5_note"]
    from workbench.core.datasets import load_dataset

    assert ev["n"] == len(load_dataset("builtin").y_test)
    assert ev["top1"] == pytest.approx(result["test_top1"], abs=1e-6)


def test_classify_images_with_the_saved_model_alone(trained, tmp_path):
    from PIL import Image

    from workbench.core.datasets import load_dataset

    data = load_dataset("builtin")
    paths = []
    for i in range(3):
        path = tmp_path / f"img{i}.png"
        Image.fromarray(np.asarray(data.x_test[i])).resize((64, 64)).save(path)
        paths.append(path)
    bogus = tmp_path / "notes.png"
    bogus.write_text("not an image")
    _, result = trained
    proc = run_cli("classify", result["model_path"], *paths, bogus, "--top", "3", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = last_json(proc.stdout)["images"]
    assert [Path(r["image"]).name for r in rows] == ["img0.png", "img1.png", "img2.png", "notes.png"]
    names = set(data.class_names)
    for row in rows[:3]:
        assert len(row["top"]) == 3
        assert {t["label"] for t in row["top"]} <= names
        assert sum(t["prob"] for t in row["top"]) <= 1.0 + 1e-6
        probs = [t["prob"] for t in row["top"]]
        assert probs == sorted(probs, reverse=True)
    assert "error" in rows[3] and rows[3]["top"] == []


def test_archs_json_lists_the_report_networks():
    proc = run_cli("archs", "--classes", "10", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {r["name"]: r["params"] for r in last_json(proc.stdout)}
    assert rows["toy_resnet"] == 223_242
    assert rows["embedded_cnn"] == 53_522
    assert rows["all_conv"] == 839_352
    assert rows["toy_resnet_deep"] == 328_714
    assert rows["simple_cnn"] == 258_762
    assert len(rows) >= 6  # plus at least one modern network


def test_archs_list_options_and_train_takes_them(tmp_path):
    proc = run_cli("archs", "--classes", "10", "--json")
    rows = {r["name"]: r for r in last_json(proc.stdout)}
    assert rows["simple_cnn"]["options"] == {"dropout": 0.5}
    assert rows["simple_cnn"]["ranges"] == {"dropout": [0.0, 0.99]}
    out = tmp_path / "run"
    proc = run_cli("train", "--dataset", "builtin", "--arch", "embedded_cnn", "--option", "conv1_filters=4",
                   "--option", "conv2_filters=3", "--epochs", "1", "--limit", "200", "--test-limit", "50",
                   "--out", out, "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["arch_options"] == {"conv1_filters": 4}  # only what differs from the default
    proc = run_cli("train", "--dataset", "builtin", "--arch", "simple_cnn", "--option", "dropout=2",
                   "--epochs", "1")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "between 0.0 and 0.99" in proc.stderr
    proc = run_cli("train", "--dataset", "builtin", "--arch", "simple_cnn", "--option", "width=3",
                   "--epochs", "1")
    assert proc.returncode != 0 and "its options are: dropout" in proc.stderr


def test_datasets_json(tmp_path):
    proc = run_cli("datasets", "--data-dir", tmp_path, "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in last_json(proc.stdout)}
    assert {"cifar10", "cifar100", "cifar100-coarse", "builtin"} <= set(rows)
    assert rows["cifar100"]["classes"] == 100 and rows["cifar100-coarse"]["classes"] == 20
    assert rows["builtin"]["available"] is True
    assert rows["cifar10"]["available"] is False  # KERAS_HOME points at an empty test folder


@pytest.mark.parametrize(
    "args, words",
    [
        (["train", "--dataset", "nope", "--arch", "simple_cnn", "--epochs", "1"], "nope"),
        (["train", "--dataset", "cifar10", "--arch", "simple_cnn", "--epochs", "1"], "cifar-10-batches-py"),
        (["train", "--dataset", "builtin", "--arch", "simple_cnn", "--epochs", "0"], "epochs"),
        (["classify", "missing.h5", "x.png"], "missing.h5"),
    ],
)
def test_bad_input_gets_one_sentence_not_a_traceback(args, words, tmp_path):
    proc = run_cli(*args, "--data-dir" if args[0] == "train" else "--json", *([tmp_path] if args[0] == "train" else []))
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert words.lower() in proc.stderr.lower()
