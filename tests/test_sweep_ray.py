"""A sweep through a local Ray instance (Ray Tune trials), results collected into the same sweep folder.

Skipped where Ray is not installed (it is the optional `cluster` extra)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray.tune", reason="Ray Tune is the optional 'cluster' extra")

ROOT = Path(__file__).resolve().parents[1]


def test_grid_sweep_as_ray_tune_trials_with_asha(tmp_path):
    path = os.pathsep.join([str(ROOT), *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]])
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=path, RAY_USAGE_STATS_ENABLED="0")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "sweep", "--dataset", "builtin", "--arch", "simple_cnn",
         "--epochs", "2", "--asha", "--asha-eta", "2", "--batch-size", "64", "--limit", "192", "--test-limit", "64",
         "--grid", "lr=0.001,0.01", "--ray", "local", "--runs-root", str(tmp_path), "--name", "onray", "--json"],
        capture_output=True, text=True, timeout=540, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    folder = tmp_path / "onray"
    assert out["backend"] == "ray local"
    stored = json.loads((folder / "sweep.json").read_text())
    first, second = stored["trials"]
    # Alone at the rung, the first goes on and reaches the last epoch: Tune must not cut it off there.
    assert first["status"] == "finished" and first["epochs"] == 2 and first["test_top1"] is not None
    assert second["status"] in ("finished", "pruned")
    if second["status"] == "pruned":  # Ray's ASHA stopped it at the rung after epoch 1
        assert second["pruned_at_epoch"] == 1 and second["best_val_top1"] <= first["best_val_top1"]
    for trial in stored["trials"]:  # each Tune trial trained into its trial folder of the sweep
        run = folder / trial["run_dir"]
        assert (run / "history.csv").is_file() and (run / "logs").is_dir()
        assert (run / "model.h5").is_file() == (trial["status"] == "finished")  # Tune ends a pruned trial's process
    assert (folder / "ray").is_dir()  # Tune's own results and logs: storage_path is the sweep folder
    scores = [t["best_val_top1"] for t in out["trials"]]
    assert scores == sorted(scores, reverse=True)
