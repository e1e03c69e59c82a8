"""Setting -> result scatter of a sweep's trials (pyqtgraph): one point per trial, best trial ringed.

Numbers are placed by value (on a log axis when the sweep drew them on a log scale); words (optimizer,
architecture) sit at evenly spaced ticks named after them. Colour says how the trial ended.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg

STATUS_COLORS = {  # finished blue, stopped early grey, failed red; the rest (running, pending) light
    "finished": (31, 119, 180), "pruned": (150, 150, 150), "stopped": (150, 150, 150), "failed": (214, 39, 40),
}
OTHER_COLOR = (200, 200, 230)
RESULTS = {"best_val_top1": "best validation top-1", "test_top1": "test top-1", "final_val_top1": "final validation top-1"}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _log_ticks(low: float, high: float) -> list[list[tuple[float, str]]]:
    """1-2-5 ticks per decade at log10 positions: pyqtgraph's own crowd into each other below a decade."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    steps = (1, 2, 5) if last - first <= 3 else (1,)
    major = [(math.log10(m * 10.0**k), f"{m * 10.0**k:g}") for k in range(first, last + 1) for m in steps]
    return [[(p, t) for p, t in major if math.log10(low) - 0.3 <= p <= math.log10(high) + 0.3], []]


class SweepScatter(pg.PlotWidget):
    """``show_trials(trials, setting, result, log_x)`` draws one point per trial with a result."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        for side in ("left", "bottom"):
            axis = self.getAxis(side)
            axis.setPen("k"), axis.setTextPen("k")
            axis.enableAutoSIPrefix(False)  # learning rates read as 0.003, not "3 (x0.001)"
        self.getPlotItem().titleLabel.setAttr("color", "k")
        self.showGrid(x=True, y=True, alpha=0.25)
        self._points = pg.ScatterPlotItem(size=11, pen=pg.mkPen(60, 60, 60, 160))
        self._best = pg.ScatterPlotItem(size=22, brush=pg.mkBrush(None), pen=pg.mkPen(255, 127, 14, width=2.5))
        self.addItem(self._points)
        self.addItem(self._best)
        self.shown: list[tuple[float, float, str]] = []  # (x, y, trial id) as drawn, for tests and tooltips

    def show_trials(self, trials: list[dict[str, Any]], setting: str, result: str, log_x: bool) -> None:
        values = [t.get("settings", {}).get(setting) for t in trials]
        numeric = all(_number(v) is not None for v in values if v is not None)
        categories = [] if numeric else sorted({str(v) for v in values if v is not None})
        xs, ys, spots = [], [], []
        for trial, value in zip(trials, values):
            y = _number(trial.get(result))
            if value is None or y is None or (numeric and log_x and value <= 0):
                continue
            x = float(value) if numeric else float(categories.index(str(value)))
            xs.append(x), ys.append(100 * y)
            color = STATUS_COLORS.get(trial.get("status"), OTHER_COLOR)
            spots.append({"pos": (math.log10(x) if numeric and log_x else x, 100 * y), "brush": pg.mkBrush(*color),
                          "data": trial.get("id"), "symbol": "o" if trial.get("status") == "finished" else "t"})
        self._points.setData(spots=spots)
        self.shown = [(x, y, s["data"]) for x, y, s in zip(xs, ys, spots)]
        best = int(np.argmax(ys)) if ys else None
        self._best.setData(pos=[spots[best]["pos"]] if best is not None else [])
        self.setLogMode(x=bool(numeric and log_x), y=False)
        bottom = self.getAxis("bottom")
        if categories:
            bottom.setTicks([list(enumerate(categories))])
        elif numeric and log_x and xs:
            bottom.setTicks(_log_ticks(min(xs), max(xs)))
        else:
            bottom.setTicks(None)
        scale = " (log scale)" if numeric and log_x else ""
        self.setLabel("bottom", f"{setting}{scale}")
        self.setLabel("left", f"{RESULTS.get(result, result)} (%)")
        self.setTitle(f"{len(spots)} trial(s): {setting} \u2192 {RESULTS.get(result, result)}"
                      " \u2014 orange ring: best; triangles: stopped early or failed")
        self.enableAutoRange()
