"""Live-plot redraw cost: the steady, step-growing y axis used while training vs pyqtgraph's
auto-range on every redraw (what the plots did before), in the same process, alternating.

    python benchmarks/bench_plots.py [--rounds 5] [--redraws 60] [--width 1300] [--height 500]

One redraw = ``refresh()`` (setData) plus a synchronous repaint of the plot viewport, after four new
batch points; an epoch's points every 16 redraws. Offscreen Qt; prints median ms and the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def one_round(steady: bool, redraws: int, size: tuple[int, int]) -> float:
    import numpy as np

    from workbench.gui.app import application
    from workbench.gui.widgets.plots import TrainingPlots

    app = application()
    plots = TrainingPlots()
    plots.resize(*size)
    plots.show()
    app.processEvents()
    plots.set_epoch_span(30)
    if not steady:
        for p in plots.plots.values():
            p.follow_y()  # auto-range y on every redraw
    rng = np.random.default_rng(0)
    costs, x = [], 0.0
    for i in range(redraws):
        for _ in range(4):
            x += 1 / 64
            plots.add_batch(x, 2.3 * np.exp(-x / 3) + 0.3 + rng.normal() * 0.05,
                            0.1 + 0.6 * (1 - np.exp(-x / 3)) + rng.normal() * 0.02,
                            0.5 + 0.45 * (1 - np.exp(-x / 2)) + rng.normal() * 0.01)
        if i % 16 == 15:
            plots.add_epoch(round(x), {"top1": 0.4, "top5": 0.8, "loss": 1.5},
                            {"top1": 0.38, "top5": 0.78, "loss": 1.6}, True)
        t0 = time.perf_counter()
        plots.refresh()
        plots.viewport().repaint()
        costs.append(time.perf_counter() - t0)
    plots.close()
    plots.deleteLater()
    app.processEvents()
    return statistics.median(costs[5:]) * 1000  # the first redraws lay the widget out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redraws", type=int, default=60)
    parser.add_argument("--width", type=int, default=1300)
    parser.add_argument("--height", type=int, default=500)
    args = parser.parse_args()
    steady, auto = [], []
    for r in range(args.rounds):
        for kind in (("steady", "auto") if r % 2 == 0 else ("auto", "steady")):
            ms = one_round(kind == "steady", args.redraws, (args.width, args.height))
            (steady if kind == "steady" else auto).append(ms)
            print(f"round {r + 1}: {kind:<6} {ms:6.2f} ms per redraw", flush=True)
    s, a = statistics.median(steady), statistics.median(auto)
    print(f"redraw cost, steady y axis / auto-range: {s / a:.3f} (medians {s:.2f} vs {a:.2f} ms over "
          f"{args.rounds} rounds of {args.redraws} redraws)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
