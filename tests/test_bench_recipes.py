"""benchmarks/bench_recipes.py --quick runs end to end on the built-in set, so the benchmark cannot rot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_recipes_quick_runs_and_reports_every_column(tmp_path):
    out = tmp_path / "rows.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_recipes.py"), "--quick", "--recipes", "fast",
         "--networks", "simple_cnn", "--json", str(out), "--set", "label_smoothing=0.05", "--keep", str(tmp_path)],
        capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert [(r["recipe"], r["arch"]) for r in rows] == [("fast", "airnet"), ("report_tuned", "simple_cnn")]
    for row in rows:
        assert 0 <= row["holdout_top1"] <= 1 and row["holdout_images"] == 64 and row["train_images"] == 160
        assert row["images_per_sec"] > 0 and row["ceiling_images_per_sec"] > 0 and row["train_seconds"] > 0
        assert row["pipeline_share"] == row["images_per_sec"] / row["ceiling_images_per_sec"]
        assert row["precision"] in ("float32", "mixed_bfloat16", "mixed_float16")
        assert 0 <= row["test_top1"] <= 1 and row["test_images"] == 64  # no real test set in --quick: the held-out
        assert 0 < row["epochs_trained"] <= 1.01
    assert rows[0]["tta_flip"] is True and rows[0]["tta_shift"] == 1
    # --set changed every run (an ablation), and the table names the change
    for row in rows:
        assert row["settings"] == ["label_smoothing=0.05"]
        assert json.loads((Path(row["run_dir"]) / "config.json").read_text())["config"]["label_smoothing"] == 0.05
    assert "| fast label_smoothing=0.05 | airnet |" in proc.stdout
    assert "| report_tuned label_smoothing=0.05 | simple_cnn |" in proc.stdout


def test_a_bad_set_is_refused_in_one_sentence_before_any_image_is_loaded(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    for bad, words in ((["--set", "flip=sideways"], "Flip must be one of random, alternate"),
                       (["--set", "option.dirac=maybe"], "Option 'dirac' of airnet needs a bool"),
                       (["--set", "colour"], "must look like NAME=VALUE")):
        proc = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "bench_recipes.py"), "--quick", "--recipes", "fast",
             "--networks", "", "--json", str(tmp_path / "rows.json"), *bad],
            capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
        assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr
        assert not (tmp_path / "rows.json").exists()


def test_a_network_runs_with_its_best_recipe_or_the_one_named_after_it():
    import argparse
    import importlib.util

    import pytest

    spec = importlib.util.spec_from_file_location("bench_recipes", ROOT / "benchmarks" / "bench_recipes.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    args = argparse.Namespace(recipes="", networks="all_conv,all_conv:report_tuned,toy_resnet")
    assert bench.plan(args) == [("report_fit", "all_conv"), ("report_tuned", "all_conv"),
                                ("report_tuned", "toy_resnet")]
    with pytest.raises(SystemExit, match="Unknown recipe 'nope' for all_conv"):
        bench.plan(argparse.Namespace(recipes="", networks="all_conv:nope"))
