"""The queue's overhead between runs: N tiny runs through the queue against the same N back to back.

Both in one process, after one warm-up run (TensorFlow loaded, first graph traced), alternating which
goes first per repeat so machine load hits both alike. The "gap" is the time from one run's final
event to the next run's TrainingStarted, as the user sees it; the queue's extra per run is its total
minus the back-to-back total, divided by N. Target: overhead between runs <= 2 s.

    python benchmarks/bench_queue.py [--runs 5] [--repeats 2] [--arch embedded_cnn] [--limit 256]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from workbench.core.runs.queue import RunQueue  # noqa: E402
from workbench.core.runs.queue_runner import QueueRunner  # noqa: E402
from workbench.core.training import TrainConfig, TrainingStarted, train  # noqa: E402

FINAL = ("TrainingFinished", "TrainingStopped", "TrainingFailed")


class Clock:
    """Records the gaps between one run's final event and the next run's start."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._ended: float | None = None

    def __call__(self, event: object) -> None:
        now = time.perf_counter()
        if isinstance(event, TrainingStarted) and self._ended is not None:
            self.gaps.append(now - self._ended)
        elif type(event).__name__ in FINAL:
            self._ended = now


def configs(args: argparse.Namespace, root: Path) -> list[TrainConfig]:
    return [TrainConfig(dataset="builtin", arch=args.arch, epochs=1, batch_size=64, limit=args.limit,
                        test_limit=64, seed=n, runs_root=str(root)) for n in range(args.runs)]


def back_to_back(args: argparse.Namespace, root: Path) -> tuple[float, list[float]]:
    clock = Clock()
    t0 = time.perf_counter()
    for config in configs(args, root):
        final = train(config, clock)
        assert type(final).__name__ == "TrainingFinished", final
    return time.perf_counter() - t0, clock.gaps


def queued(args: argparse.Namespace, root: Path) -> tuple[float, list[float]]:
    queue = RunQueue(root / "queue.json")
    clock = Clock()
    t0 = time.perf_counter()
    for config in configs(args, root):  # adding is part of the queue's cost
        queue.add(config)
    ran = QueueRunner(queue, on_event=clock).run()
    elapsed = time.perf_counter() - t0
    assert [i.status for i in ran] == ["done"] * args.runs, ran
    return elapsed, clock.gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per batch")
    parser.add_argument("--repeats", type=int, default=2, help="batches of each kind")
    parser.add_argument("--arch", default="embedded_cnn", help="network")
    parser.add_argument("--limit", type=int, default=256, help="training images per run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        tmp = Path(tmp)
        train(configs(args, tmp / "warm")[0])  # TensorFlow imported, the first graph traced
        totals: dict[str, list[float]] = {"back to back": [], "queue": []}
        gaps: dict[str, list[float]] = {"back to back": [], "queue": []}
        for r in range(args.repeats):
            order = [("back to back", back_to_back), ("queue", queued)]
            for name, fn in order if r % 2 == 0 else order[::-1]:
                total, g = fn(args, tmp / f"{name.replace(' ', '_')}-{r}")
                totals[name].append(total)
                gaps[name].extend(g)
        print(f"{args.runs} tiny runs ({args.arch}, {args.limit} images, 1 epoch), {args.repeats} repeats")
        for name in totals:
            print(f"  {name:<13} total median {statistics.median(totals[name]):6.2f} s   "
                  f"gap between runs median {statistics.median(gaps[name]):.3f} s, max {max(gaps[name]):.3f} s")
        extra = (statistics.median(totals["queue"]) - statistics.median(totals["back to back"])) / args.runs
        worst = max(gaps["queue"])
        print(f"  queue overhead per run: {extra:+.3f} s; worst gap between queued runs {worst:.3f} s "
              f"(target <= 2 s): {'OK' if max(extra, worst) <= 2.0 else 'OVER'}")


if __name__ == "__main__":
    main()
