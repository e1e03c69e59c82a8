"""What the CLI prints is valid UTF-8 even when a path holds bytes that are not (a file name with 0xFF):
such bytes are shown as the text ``\\xff``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.core.text import printable, sanitize

ROOT = Path(__file__).resolve().parents[1]


def run_cli(tmp_path, *args: bytes | str, locale: str = "C.UTF-8"):
    env = dict(os.environ, PYTHONPATH=str(ROOT), WORKBENCH_HOME=str(tmp_path / "home"), LC_ALL=locale,
               WORKBENCH_CACHE=str(tmp_path / "cache"), TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, timeout=300,
                          env=env, cwd=tmp_path)


def test_printable_escapes_bytes_that_are_not_utf8_and_keeps_real_text():
    assert printable(os.fsdecode(b"/data/caf\xc3\xa9/bad\xffname")) == "/data/café/bad\\xffname"
    assert printable(b"x\xfe") == "x\\xfe" and printable("\ud800") == "\\ud800"
    assert sanitize(os.fsdecode(b"a\xff\x1b[31m\n")) == "a\\xff "
    for value in (b"\xff" * 100, os.fsdecode(b"\x80abc\xc0")):
        printable(value).encode("utf-8")  # never raises


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_a_path_with_an_ff_byte_is_printed_escaped(tmp_path, locale):
    folder = os.fsencode(tmp_path) + b"/runs\xffhere"
    os.mkdir(folder)
    proc = run_cli(tmp_path, "runs", "--root", folder, locale=locale)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode("utf-8")  # strict: raises on a raw 0xFF
    assert "runs\\xffhere" in text


def test_an_error_naming_an_ff_path_is_valid_text(tmp_path):
    missing = os.fsencode(tmp_path) + b"/no\xffpicture.png"
    proc = run_cli(tmp_path, "classify", os.fsencode(tmp_path) + b"/model\xff.keras", missing)
    assert proc.returncode != 0
    proc.stderr.decode("utf-8")
    assert b"\xff" not in proc.stderr and b"Traceback" not in proc.stderr
