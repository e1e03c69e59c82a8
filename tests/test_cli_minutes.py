"""Time budgets: nan, inf, 0 and negative minutes are refused in one sentence naming the flag given
(`--sweep-minutes` for the sweep's budget, `--minutes` for each run's), and nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ("--dataset", "builtin", "--arch", "simple_cnn", "--limit", "64")


def run_cli(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT), WORKBENCH_HOME=str(tmp_path / "home"),
               WORKBENCH_CACHE=str(tmp_path / "cache"), TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)


@pytest.mark.parametrize("command, flag", [
    (("sweep", *TINY, "--grid", "lr=0.1,0.2"), "--sweep-minutes"),
    (("sweep", *TINY, "--grid", "lr=0.1,0.2"), "--minutes"),
    (("train", *TINY), "--minutes"),
])
@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_bad_minutes_name_their_flag_in_one_sentence(tmp_path, command, flag, value):
    root = tmp_path / "runs"
    proc = run_cli(tmp_path, *command, flag, value, "--runs-root" if command[0] == "sweep" else "--out", root)
    lines = [line for line in proc.stderr.splitlines() if "cuda" not in line.lower()]
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert lines == [f"error: {flag} must be a number of minutes above 0 (got {float(value):g})."]
    assert not root.exists() and not (tmp_path / "home").exists()
