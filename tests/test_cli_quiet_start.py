"""A quiet start: TensorFlow's start-up lines (cuInit, absl, oneDNN) stay off the terminal unless --debug."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOISE = ("cuInit", "absl", "oneDNN", "cpu_feature_guard")


def _train(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "WORKBENCH_HOME": str(tmp_path / "home"),
           "WORKBENCH_CACHE": str(tmp_path / "cache")}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    env.pop("WORKBENCH_DEBUG", None)
    out = tmp_path / f"run{len(flags)}"
    return subprocess.run([sys.executable, str(REPO / "main.py"), *flags, "train", "--dataset", "builtin",
                           "--arch", "embedded_cnn", "--epochs", "1", "--limit", "256", "--test-limit", "64",
                           "--out", str(out)], capture_output=True, text=True, timeout=600, env=env)


def test_train_prints_no_tensorflow_start_lines_and_debug_shows_them(tmp_path):
    quiet = _train(tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "finished: test top-1" in quiet.stdout
    assert not [n for n in NOISE if n in quiet.stderr], quiet.stderr
    loud = _train(tmp_path, "--debug")
    assert loud.returncode == 0, loud.stderr
    assert [n for n in NOISE if n in loud.stderr], loud.stderr
