"""`lr-find` on the command line: a suggestion and a text curve; --json is strict; bad settings exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, timeout=300):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def _no_constants(name):
    raise ValueError(f"not strict JSON: {name}")


def test_lr_find_json_is_strict_and_names_the_suggestion(tmp_path):
    proc = run_cli("lr-find", "--dataset", "builtin", "--arch", "simple_cnn", "--batch-size", "32", "--limit", "512",
                   "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1], parse_constant=_no_constants)
    assert result["rule"] == "steepest descent"
    rates = [point["lr"] for point in result["curve"]]
    assert rates[0] <= result["suggestion"] <= rates[-1]
    assert f"suggested learning rate: {result['suggestion']:.3g}" in proc.stderr  # text goes to stderr with --json
    assert "<- suggested" in proc.stderr and proc.stdout.count("\n") == 1


def test_lr_find_refuses_bad_settings_with_exit_2():
    proc = run_cli("lr-find", "--dataset", "builtin", "--arch", "simple_cnn", "--steps", "5")
    assert proc.returncode == 2
    assert "--steps" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("lr-find", "--dataset", "builtin", "--arch", "embedded_cnn", "--limit", "40", "--batch-size", "64")
    assert proc.returncode == 2 and "only 40" in proc.stderr and "Traceback" not in proc.stderr
