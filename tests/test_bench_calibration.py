"""benchmarks/bench_calibration.py runs end to end on the built-in set, so the benchmark cannot rot."""

from __future__ import annotations

from benchmarks.bench_calibration import main


def test_bench_calibration_reports_the_paired_ratio_and_the_added_share(capsys):
    assert main(["--repeats", "1", "--limit", "200"]) == 0
    out = capsys.readouterr().out
    assert "paired ratio B/A: " in out and "calibration adds " in out and "200 images" in out
