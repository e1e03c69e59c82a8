"""The queue-in-the-window benchmark end to end with tiny settings: two built-in runs through the real
Queue tab, lateness ticks counted in both phases, one gap between the runs, strict JSON out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_queue_gui_benchmark_runs_two_tiny_queued_runs_and_reports_its_figures(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("WORKBENCH_SHARED_DATA", None)
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_queue_gui.py"), "--runs", "2", "--limit", "128",
         "--test-limit", "64", "--epochs", "1", "--batch", "64", "--shared", str(tmp_path / "no-shared-data"),
         "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["data"] == "builtin"  # no shared sample: the built-in set
    assert r["statuses"] == ["done", "done"] and r["runs_started"] == 2
    assert r["lateness"]["ticks"] == r["lateness_training"]["ticks"] + r["lateness_other"]["ticks"]
    assert r["lateness_training"]["ticks"] > 0 and r["lateness_other"]["ticks"] > 0
    assert 0 <= r["lateness"]["p50_ms"] <= r["lateness"]["p99_ms"] <= r["lateness"]["max_ms"]
    assert len(r["gap_to_next_start_s"]) == 1 and len(r["gap_to_next_first_batch_s"]) == 1
    assert 0 <= r["gap_to_next_start_s"][0] <= r["gap_to_next_first_batch_s"][0] < 60
