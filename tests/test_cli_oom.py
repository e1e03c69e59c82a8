"""`train` on the command line says when out of memory halved the batch, and finishes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cli_train_prints_the_batch_reduction_and_finishes(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT), WORKBENCH_SIMULATE_OOM="0:2:16")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "train", "--dataset", "builtin", "--arch", "embedded_cnn",
         "--epochs", "1", "--batch-size", "32", "--limit", "96", "--test-limit", "32", "--out", str(tmp_path / "r"),
         "--json"], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ran out of memory with batch size 32" in proc.stderr and "batch size 16" in proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "finished" and [e["epoch"] for e in result["epochs"]] == [1]
    assert result["batch_size_reductions"] == [{"from_epoch": 1, "batch_size": 16, "learning_rate": 5e-4}]
