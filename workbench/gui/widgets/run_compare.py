"""The selected runs' validation curves on one plot, against epoch or wall time."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from workbench.gui.widgets.plots import OVERLAY_COLORS, TRAIN_COLOR

METRIC = "val_top1"


def curve_xy(history: list[dict[str, float]], x_axis: str) -> tuple[np.ndarray, np.ndarray]:
    """Epoch numbers (1-based) or cumulative seconds against validation top-1 in percent."""
    rows = [r for r in history if METRIC in r]
    y = np.array([100.0 * r[METRIC] for r in rows], dtype=float)
    if x_axis == "time":
        x = np.cumsum([r.get("seconds", 0.0) for r in history])[[i for i, r in enumerate(history) if METRIC in r]]
    else:
        x = np.array([r["epoch"] + 1 for r in rows], dtype=float)
    return np.asarray(x, dtype=float), y


class RunComparePlot(pg.PlotWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.x_axis = "epoch"
        self._runs: list[tuple[str, list[dict[str, float]]]] = []
        self.curves: list[pg.PlotDataItem] = []
        self.setLabel("left", "val top-1 (%)")
        self.showGrid(x=True, y=True, alpha=0.3)
        self.legend = self.addLegend(offset=(-10, -10))  # bottom right: curves rise to the top
        self._label_x()

    def _label_x(self) -> None:
        self.setLabel("bottom", "wall time (s)" if self.x_axis == "time" else "epoch")

    def set_runs(self, runs: list[tuple[str, list[dict[str, float]]]]) -> None:
        """(label, history rows) per run; replaces what is shown."""
        self._runs = list(runs)
        self._draw()

    def set_x_axis(self, x_axis: str) -> None:
        self.x_axis = x_axis
        self._label_x()
        self._draw()

    def _draw(self) -> None:
        for curve in self.curves:
            self.removeItem(curve)
        self.legend.clear()
        self.curves = []
        colors = [TRAIN_COLOR, *OVERLAY_COLORS]
        for i, (label, history) in enumerate(self._runs):
            x, y = curve_xy(history, self.x_axis)
            pen = pg.mkPen(colors[i % len(colors)], width=2)
            self.curves.append(self.plot(x, y, pen=pen, name=label, symbol="o", symbolSize=4,
                                         symbolBrush=colors[i % len(colors)], symbolPen=None))
        self.enableAutoRange()
