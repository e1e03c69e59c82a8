"""Per-class image counts as a horizontal pyqtgraph bar chart."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

import workbench.gui.widgets.plots  # noqa: F401 - shared pyqtgraph options (white background, row-major)


class ClassBarChart(pg.PlotWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars: pg.BarGraphItem | None = None
        self.counts = np.zeros(0, int)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.setLabel("bottom", "images")
        item.showGrid(x=True, alpha=0.25)
        item.getViewBox().invertY(True)
        self.setMinimumWidth(220)

    def set_counts(self, class_names: Sequence[str], counts: Sequence[int], title: str = "",
                   highlight: int | None = None) -> None:
        """Draw one bar per class; ``highlight`` (a class index) is drawn in the accent colour."""
        item = self.getPlotItem()
        if self.bars is not None:
            item.removeItem(self.bars)
        self.counts = np.asarray(counts, int)
        n = len(class_names)
        y = np.arange(n)
        brushes = [pg.mkBrush(255, 127, 14) if i == highlight else pg.mkBrush(31, 119, 180) for i in range(n)]
        self.bars = pg.BarGraphItem(x0=0, y=y, height=0.7, width=self.counts, brushes=brushes, pen=None)
        item.addItem(self.bars)
        step = 1 if n <= 25 else max(1, n // 20)
        ticks = [(i, class_names[i]) for i in range(0, n, step)]
        item.getAxis("left").setTicks([ticks, []])
        item.setTitle(title)
        top = max(1, int(self.counts.max()) if n else 1)
        item.setXRange(0, top * 1.05, padding=0)
        item.setYRange(-0.6, n - 0.4, padding=0)
