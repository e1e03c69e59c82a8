"""A model trained on an imported folder keeps its resize rule: `classify` with no --fit applies it and
says so; a different --fit is warned about."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.core.folder_fixtures import class_tree, noise, save
from workbench.core.modelio import read_metadata

ROOT = Path(__file__).resolve().parents[1]


def run_cli(env, *args, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def test_classify_applies_the_padding_training_used(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT),
               WORKBENCH_HOME=str(tmp_path / "home"), WORKBENCH_CACHE=str(tmp_path / "cache"))
    root = class_tree(tmp_path / "wide", {"left": 12, "right": 12}, size=(48, 24))
    added = run_cli(env, "datasets", "add", "wide", root, "--size", "32", "--fit", "pad", "--json")
    assert added.returncode == 0, added.stderr[-2000:]
    run = tmp_path / "run"
    trained = run_cli(env, "train", "--dataset", "wide", "--arch", "simple_cnn", "--epochs", "1",
                      "--batch-size", "8", "--limit", "16", "--seed", "1", "--out", run, "--json")
    assert trained.returncode == 0, trained.stderr[-3000:]
    model = run / "model.h5"
    assert read_metadata(model)["fit"] == "pad"

    photo = save(tmp_path / "new photo.png", noise((90, 40), 9))
    proc = run_cli(env, "classify", model, photo, "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    facts = json.loads(proc.stdout)
    assert facts["model"]["fit"] == "pad"
    assert "padded with black bars to 32×32 as in training" in facts["images"][0]["steps"]
    assert not any("--fit" in w or "trained on images fitted" in w for w in facts["model"]["warnings"])

    text = run_cli(env, "classify", model, photo)
    assert text.returncode == 0 and "as in training" in text.stdout and "warning" not in text.stderr

    other = run_cli(env, "classify", model, photo, "--fit", "crop")
    assert other.returncode == 0, other.stderr[-2000:]
    assert "trained on images fitted by padding with black bars (pad), but crop" in other.stderr
    assert "centre-cropped 90×40 to 40×40" in other.stdout and "as in training" not in other.stdout
