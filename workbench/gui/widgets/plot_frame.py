"""What surrounds a plot's data: axes whose tick labels are in the unit their label names (no SI-prefix
"(x0.001)"), wall time in seconds, minutes or hours as the range needs, ranges that never go below zero,
and a legend row laid out beside the plots instead of over their curves."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QSizeF, Qt

from workbench.gui.setting_values import PLOT_X_AXES

X_LABELS = dict(zip(PLOT_X_AXES, ("epoch", "wall time")))  # x-axis choice -> axis label
# (a range ending below this many seconds, its unit, seconds per unit): a short run reads in seconds
WALL_UNITS = ((120.0, "s", 1.0), (5 * 3600.0, "min", 60.0), (math.inf, "h", 3600.0))
IDLE_X = {"epoch": 1.0, "wall": 60.0}  # where an empty x axis ends (one epoch, one minute)
PERCENT_RANGE = (0.0, 100.0)
IDLE_LOSS_RANGE = (0.0, 1.0)


def wall_unit(end_seconds: float) -> tuple[str, float]:
    """(unit, seconds per unit) for a wall-time axis ending at ``end_seconds``."""
    for below, unit, seconds in WALL_UNITS:
        if end_seconds < below:
            return unit, seconds
    return WALL_UNITS[-1][1], WALL_UNITS[-1][2]


class PlotAxis(pg.AxisItem):
    """An axis whose tick labels are the values in its label's unit: pyqtgraph's automatic SI prefix
    wrote "(x0.001)" beside a unit and ticks 80-110 for 0.08-0.11 minutes."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)
        # major ticks and grid lines only: minor grid lines doubled the cost of every redraw
        self.setStyle(maxTickLevel=0)


class XAxis(PlotAxis):
    """The bottom axis: epochs, or wall time (data in seconds) written in s, min or h as the range shown
    needs, the label naming the unit of the ticks."""

    def __init__(self) -> None:
        self.kind = "epoch"  # before the base class, which sets the first range
        self.unit = ""
        super().__init__("bottom")
        self.setLabel(X_LABELS["epoch"])

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        self.unit = ""
        if kind == "wall":
            self._fit_unit(self.range[1])
        else:
            self.setScale(1.0)
            self.setLabel(X_LABELS["epoch"])

    def setRange(self, mn: float, mx: float) -> None:  # noqa: N802 (pyqtgraph override)
        super().setRange(mn, mx)
        if self.kind == "wall":
            self._fit_unit(mx)

    def _fit_unit(self, end_seconds: float) -> None:
        unit, seconds = wall_unit(end_seconds)
        if unit != self.unit:  # only when the unit changes: a new label lays the plot out again
            self.unit = unit
            self.setScale(1.0 / seconds)
            self.setLabel(f"{X_LABELS['wall']} ({unit})")


def plot_axes() -> dict[str, PlotAxis]:
    """Axis items for a new PlotItem (``axisItems=``)."""
    return {"bottom": XAxis(), "left": PlotAxis("left")}


def keep_at_or_above_zero(plot: pg.PlotItem) -> None:
    """Epochs, seconds, accuracies and cross-entropy are never negative: the view does not go below
    zero (an auto range around one point went to -0.5)."""
    plot.getViewBox().setLimits(xMin=0.0, yMin=0.0)


def show_idle_range(plot: pg.PlotItem, percent: bool, x_kind: str) -> None:
    """An empty plot's range in its units: 0-100 % for accuracies (not pyqtgraph's 0-1)."""
    plot.getViewBox().setRange(xRange=(0.0, IDLE_X.get(x_kind, 1.0)),
                               yRange=PERCENT_RANGE if percent else IDLE_LOSS_RANGE,
                               padding=0.02, disableAutoRange=False)  # room for the top tick's label


class LegendRow(pg.LegendItem):
    """A legend that is an ordinary item of a GraphicsLayout (a row above the plots), so it never covers
    a curve. pyqtgraph's legend floats over the view box and sizes itself by moving to (0, 0)."""

    def __init__(self, columns: int = 4) -> None:
        super().__init__(offset=None, colCount=columns, labelTextSize="8pt", verSpacing=-6, horSpacing=12,
                         brush=pg.mkBrush(255, 255, 255, 0), pen=pg.mkPen(255, 255, 255, 0))

    def updateSize(self) -> None:  # noqa: N802 (pyqtgraph override)
        # the entries' own layout gives the size; the row's layout gives the place
        hint = self.layout.effectiveSizeHint(Qt.SizeHint.PreferredSize)
        self.setMinimumSize(hint)
        self.setMaximumSize(QSizeF(hint.width(), hint.height()))
        self.updateGeometry()
