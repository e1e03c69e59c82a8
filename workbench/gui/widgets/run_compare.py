"""The selected runs' validation curves on one plot, against epoch or wall time."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from workbench.gui.widgets.plot_frame import LegendRow, keep_at_or_above_zero, plot_axes
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


class RunComparePlot(pg.GraphicsLayoutWidget):
    """One plot under a legend row (the legend never covers a curve)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.x_axis = "epoch"
        self._runs: list[tuple[str, list[dict[str, float]]]] = []
        self.curves: list[pg.PlotDataItem] = []
        self.legend = LegendRow(columns=2)
        self.addItem(self.legend, row=0, col=0)
        self.ci.layout.setAlignment(self.legend, Qt.AlignmentFlag.AlignHCenter)
        self.plot_item = self.addPlot(row=1, col=0, axisItems=plot_axes())
        self.plot_item.setLabel("left", "val top-1 (%)")
        self.plot_item.showGrid(x=True, y=True, alpha=0.3)
        keep_at_or_above_zero(self.plot_item)

    def set_runs(self, runs: list[tuple[str, list[dict[str, float]]]]) -> None:
        """(label, history rows) per run; replaces what is shown."""
        self._runs = list(runs)
        self._draw()

    def set_x_axis(self, x_axis: str) -> None:
        """"epoch" or "time" (cumulative seconds, written in s, min or h)."""
        self.x_axis = x_axis
        self.plot_item.getAxis("bottom").set_kind("wall" if x_axis == "time" else "epoch")
        self._draw()

    def _draw(self) -> None:
        for curve in self.curves:
            self.plot_item.removeItem(curve)
        self.legend.clear()
        self.curves = []
        colors = [TRAIN_COLOR, *OVERLAY_COLORS]
        for i, (label, history) in enumerate(self._runs):
            x, y = curve_xy(history, self.x_axis)
            color = colors[i % len(colors)]
            curve = self.plot_item.plot(x, y, pen=pg.mkPen(color, width=2), symbol="o", symbolSize=4,
                                        symbolBrush=color, symbolPen=None)
            self.legend.addItem(curve, label)
            self.curves.append(curve)
        self.plot_item.enableAutoRange()
