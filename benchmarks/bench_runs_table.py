"""Runs table speed: open 1,000 generated run folders, then sort and filter them.

    python benchmarks/bench_runs_table.py [--runs 1000] [--repeats 5]

Targets (absolute): open (load_table) <= 1 s; each sort or filter <= 100 ms. The runs are written by
tests/core/run_fixtures.py (config.json, history.csv of 10-30 epochs, result.json), as a real run
lays them out. The median of the repeats counts; the first open runs on a cold page cache only if
the files were just written, so it is reported separately.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.core.run_fixtures import write_many  # noqa: E402
from workbench.core.runs.filters import filter_rows, sort_rows  # noqa: E402
from workbench.core.runs.table import default_columns, load_table  # noqa: E402

OPEN_TARGET_S = 1.0
SORT_FILTER_TARGET_S = 0.1


def _timed(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="number of generated run folders")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats; the median counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as root:
        write_many(root, args.runs)
        first = time.perf_counter()
        load_table(root)
        first_s = time.perf_counter() - first
        open_s, table = _timed(lambda: load_table(root), args.repeats)
        rows = table.rows
        ops = {
            "sort test_top1 desc": lambda: sort_rows(rows, "test_top1", descending=True),
            "sort arch": lambda: sort_rows(rows, "arch"),
            "filter status=finished": lambda: filter_rows(rows, ["status=finished"]),
            "filter arch=resnet20 & test_top1>0.7": lambda: filter_rows(rows, ["arch=resnet20", "test_top1>0.7"]),
            "filter text 'cifar100'": lambda: filter_rows(rows, ["cifar100"]),
            "default columns (diff)": lambda: default_columns(table),
        }
        timings = {name: _timed(fn, args.repeats)[0] for name, fn in ops.items()}
    worst = max(timings.values())
    report = {
        "runs": len(rows), "open_first_s": round(first_s, 4), "open_median_s": round(open_s, 4),
        "ops_median_ms": {k: round(v * 1000, 2) for k, v in timings.items()},
        "open_ok": open_s <= OPEN_TARGET_S, "sort_filter_ok": worst <= SORT_FILTER_TARGET_S,
    }
    print(json.dumps(report, indent=2))
    return 0 if report["open_ok"] and report["sort_filter_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
