"""A WORKBENCH_HOME that cannot be written: one sentence naming the folder and what to do, never a raw errno,
and nothing written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def readonly_home(tmp_path):
    """A folder this process cannot write to: immutable as root (root ignores mode bits), else mode 555."""
    home = tmp_path / "home"
    home.mkdir()
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(home)]).returncode != 0:
            pytest.skip("no way to make a folder read-only for root here")
        undo = ["chattr", "-i", str(home)]
    else:
        home.chmod(0o555)
        undo = ["chmod", "755", str(home)]
    try:
        yield home
    finally:
        subprocess.run(undo)


def run_cli(tmp_path, home, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT), WORKBENCH_HOME=str(home), WORKBENCH_CACHE=str(tmp_path / "cache"),
               TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)


@pytest.mark.parametrize("args", [
    ("sweep", "--dataset", "builtin", "--arch", "simple_cnn", "--grid", "lr=0.1,0.2", "--limit", "64"),
])
def test_a_readonly_home_is_one_sentence_naming_the_folder(tmp_path, readonly_home, args):
    proc = run_cli(tmp_path, readonly_home, *args)
    lines = [line for line in proc.stderr.splitlines() if "cuda" not in line.lower()]  # TensorFlow's own notes
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and "[Errno" not in lines[0], proc.stderr
    assert str(readonly_home) in lines[0] and "WORKBENCH_HOME" in lines[0]
    assert list(readonly_home.iterdir()) == []


def test_os_error_sentence_names_the_file_and_what_to_do(tmp_path, monkeypatch):
    from workbench.paths import os_error_sentence

    home = tmp_path / "home"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    text = os_error_sentence(PermissionError(13, "Permission denied", str(home / "runs")))
    assert text.startswith(f"{home / 'runs'} cannot be written (Permission denied)") and "WORKBENCH_HOME" in text
    elsewhere = os_error_sentence(OSError(30, "Read-only file system", str(tmp_path / "out.csv")))
    assert "Read-only file system" in elsewhere and "WORKBENCH_HOME" not in elsewhere
    assert "[Errno" not in text + elsewhere and text.endswith(".") and elsewhere.endswith(".")
