"""scripts/run.sh installs once (and after pyproject.toml changes), then starts without the network."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OFFLINE = {"PIP_NO_INDEX": "1", "PIP_INDEX_URL": "http://127.0.0.1:9/simple"}  # any pip call would fail


def _fake_python(path: Path, log: Path, refuse: str = "") -> Path:
    """A python that logs its arguments, fails `-m pip` (no network) and any call mentioning ``refuse``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    refuse_line = f'case "$*" in *{refuse}*) exit 1;; esac\n' if refuse else ""
    path.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{log}"\n'
        f"{refuse_line}"
        'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "pip: network unreachable" >&2; exit 3; fi\n'
        f'exec "{sys.executable}" "$@"\n'
    )
    path.chmod(0o755)
    return path


def _run(script: str, venv: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    full = dict(os.environ, PYTHONPATH=str(REPO), VENV=str(venv), **OFFLINE, **env)
    return subprocess.run(["bash", str(REPO / "scripts" / script), *args], capture_output=True, text=True,
                          timeout=120, env=full, cwd=REPO)


def _stamp(venv: Path, kind: str, digest: str | None = None) -> None:
    installed_from = (REPO / "pyproject.toml").read_bytes() + (REPO / "setup.py").read_bytes()
    digest = digest or hashlib.sha256(installed_from).hexdigest()
    (venv / f".workbench-installed-{kind}").write_text(digest + "\n")


@pytest.mark.parametrize("kind", ["app", "test"])
def test_installed_run_starts_offline_without_pip(tmp_path, kind):
    venv, log = tmp_path / "venv", tmp_path / "calls.log"
    _fake_python(venv / "bin" / "python", log)
    _stamp(venv, kind)  # the test extra includes the app
    proc = _run("run.sh", venv, "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("workbench ")
    assert "-m pip" not in log.read_text()


def test_a_changed_pyproject_reinstalls(tmp_path):
    venv, log = tmp_path / "venv", tmp_path / "calls.log"
    _fake_python(venv / "bin" / "python", log)
    _stamp(venv, "app", digest="0" * 64)
    proc = _run("run.sh", venv, "--version")
    assert proc.returncode != 0 and "-m pip install" in log.read_text()
    assert (venv / ".workbench-installed-app").read_text().strip() == "0" * 64  # no stamp for a failed install


def test_test_script_needs_the_test_extra(tmp_path):
    venv, log = tmp_path / "venv", tmp_path / "calls.log"
    _fake_python(venv / "bin" / "python", log)
    _stamp(venv, "app")
    proc = _run("test.sh", venv, "--co", "-q", "tests/test_scripts.py")
    assert proc.returncode != 0 and "-m pip" in log.read_text() and "-m pytest" not in log.read_text()


def test_python_without_ensurepip_is_one_sentence_naming_python3_venv(tmp_path):
    python = _fake_python(tmp_path / "py" / "python3", tmp_path / "calls.log", refuse="ensurepip")
    proc = _run("run.sh", tmp_path / "venv", "--version", PYTHON=str(python))
    assert proc.returncode == 1 and not (tmp_path / "venv").exists()
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "sudo apt install python3-venv" in proc.stderr


def test_unsupported_python_is_refused_before_creating_anything(tmp_path):
    python = _fake_python(tmp_path / "py" / "python3", tmp_path / "calls.log", refuse="version_info")
    proc = _run("run.sh", tmp_path / "venv", "--version", PYTHON=str(python))
    assert proc.returncode == 1 and not (tmp_path / "venv").exists()
    assert "needs Python 3.11 to 3.13" in proc.stderr
