"""`runs --csv/--markdown FILE` through the real CLI: a link is written through, a 644 file stays 644, and a
FIFO or a device is refused in one sentence with nothing replaced."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.test_atomic_write import char_device

ROOT = Path(__file__).resolve().parents[1]


def export(tmp_path, flag, target):
    runs = tmp_path / "runs"
    runs.mkdir(exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT), WORKBENCH_HOME=str(tmp_path / "home"),
               WORKBENCH_CACHE=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "runs", flag, str(target), "--root", str(runs)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)


@pytest.mark.parametrize("flag", ["--csv", "--markdown"])
def test_export_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path, flag):
    real = tmp_path / "kept" / "table.txt"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o644)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    proc = export(tmp_path, flag, link)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and real.read_text() != "old"
    assert stat.S_IMODE(real.stat().st_mode) == 0o644


def test_export_over_a_644_file_keeps_644(tmp_path):
    out = tmp_path / "table.csv"
    out.write_text("old")
    out.chmod(0o644)
    proc = export(tmp_path, "--csv", out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().startswith("name,") and stat.S_IMODE(out.stat().st_mode) == 0o644


def test_export_to_a_fifo_is_refused_in_one_sentence(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    proc = export(tmp_path, "--csv", fifo)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and len(proc.stderr.strip().splitlines()) == 1
    assert "FIFO" in proc.stderr and stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("name", ["full", "null"])
def test_export_to_a_device_is_refused_and_the_device_stays(tmp_path, name):
    device = char_device(tmp_path, name)  # as root a private node like /dev/full: the system's is never at risk
    before = os.lstat(device)
    proc = export(tmp_path, "--markdown", device)
    after = os.lstat(device)
    assert proc.returncode != 0 and proc.stderr.startswith("error: ") and "device" in proc.stderr
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino and after.st_rdev == before.st_rdev
