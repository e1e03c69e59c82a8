"""A sweep through a local Ray instance (Ray Tune trials), results collected into the same sweep folder.

Skipped where Ray is not installed (it is the optional `cluster` extra)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("ray.tune", reason="Ray Tune is the optional 'cluster' extra")

ROOT = Path(__file__).resolve().parents[1]


def _ray_tmp() -> set[str]:
    return set(os.listdir("/tmp/ray")) if os.path.isdir("/tmp/ray") else set()


@pytest.fixture
def ray_env(tmp_path):
    """The sweep's environment with a fresh HOME (no ~/.ray) and a short temp folder of its own, both checked
    after the run: a local Ray instance must leave nothing behind there or in /tmp/ray."""
    path = os.pathsep.join([str(ROOT), *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]])
    home = tmp_path / "home"
    home.mkdir()
    temp = Path(tempfile.mkdtemp(prefix="wbt-", dir="/tmp"))  # short: Ray's socket paths live under it
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=path, RAY_USAGE_STATS_ENABLED="0", HOME=str(home),
               TMPDIR=str(temp))
    # TensorFlow's autograph imports generated modules from TMPDIR: their bytecode cache is its, not Ray's,
    # and appears only where the user's shell writes bytecode (a new user's does).
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for key in ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_MODE"):
        env.pop(key, None)
    before = _ray_tmp()
    try:
        yield env
        assert list(home.iterdir()) == [], "the sweep left files in HOME (~/.ray)"
        assert list(temp.iterdir()) == [], "the sweep left its Ray temp folder behind"
        assert _ray_tmp() <= before, "the sweep left a session in /tmp/ray"
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def test_grid_sweep_as_ray_tune_trials_with_asha(tmp_path, ray_env):
    env = ray_env
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


def test_a_sweep_refused_after_ray_started_leaves_no_ray_files(tmp_path, ray_env):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "sweep", "--dataset", "builtin", "--arch", "simple_cnn",
         "--grid", "lr=0.001,0.01", "--ray", "local", "--runs-root", str(tmp_path), "--name", "../bad"],
        capture_output=True, text=True, timeout=300, env=ray_env, cwd=ROOT)
    assert proc.returncode == 2 and "--name '../bad' must be a plain folder name" in proc.stderr, proc.stderr[-2000:]
