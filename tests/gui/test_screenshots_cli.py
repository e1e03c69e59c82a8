"""`screenshots --dataset` refuses what it cannot show (it once showed CIFAR-10 instead, silently)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("args, says", [
    (["--dataset", "cifar11"], "There is no dataset called 'cifar11'; use --dataset with one of"),
    (["--dataset", "cifar10", "--data-dir", "{tmp}/no-such-folder"], "The --data-dir {tmp}/no-such-folder does not exist"),
    (["--dataset", "cifar100", "--data-dir", "{tmp}"], "is not on this computer in {tmp}"),
])
def test_screenshots_refuses_a_dataset_it_cannot_show(args, says, tmp_path):
    out_dir = tmp_path / "shots"
    args = [a.format(tmp=tmp_path) for a in args]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "screenshots", "--out", str(out_dir), *args],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and says.format(tmp=tmp_path) in lines[0] and lines[0].endswith(".")
    assert not out_dir.exists()  # refused before anything was written
