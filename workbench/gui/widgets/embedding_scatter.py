"""The embedding map's scatter (pyqtgraph): one point per image, coloured by its true class, a mistake
drawn as a cross instead of a dot; hovering and clicking find the nearest point, and in lasso mode a
drag draws a shape that picks a group.

Points are drawn as one ScatterPlotItem per class and kind (dot / cross), each with one brush: 10,000
points redraw in milliseconds, where per-point brushes cost a pen and a brush object each.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor

# Matplotlib's "tab10": ten colours told apart also by most colour-blind readers.
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
         "#bcbd22", "#17becf")
DOT_SIZE = 5
CROSS_SIZE = 8
MISTAKE_SYMBOL = "x"
CORRECT_SYMBOL = "o"
PICK_PIXELS = 8  # a point within this many pixels of the mouse is the one hovered or clicked
CLICK_SLOP = 4  # a press and release further apart than this (pixels) is a drag, not a click


def class_colours(n: int) -> list[QColor]:
    """One colour per class: tab10 up to 10 classes, evenly spaced hues beyond."""
    if n <= len(TAB10):
        return [QColor(c) for c in TAB10[:n]]
    return [pg.intColor(i, hues=n, values=1, minValue=200, maxValue=230) for i in range(n)]


class LassoViewBox(pg.ViewBox):
    """A ViewBox that, in lasso mode, turns a left-button drag into a closed shape (view coordinates)
    instead of panning; `lasso_finished(np.ndarray M × 2)` at the release."""

    lasso_finished = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.lasso_enabled = False
        self._path: list[tuple[float, float]] = []
        self.trace = pg.PlotCurveItem(pen=pg.mkPen(30, 30, 30, 200, width=1.5, style=Qt.PenStyle.DashLine))
        self.trace.setZValue(20)
        self.addItem(self.trace, ignoreBounds=True)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph override)
        if not self.lasso_enabled or ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        p = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            start = self.mapSceneToView(ev.buttonDownScenePos())
            self._path = [(start.x(), start.y())]
        self._path.append((p.x(), p.y()))
        xy = np.array(self._path + self._path[:1])
        self.trace.setData(xy[:, 0], xy[:, 1])
        if ev.isFinish():
            shape = np.array(self._path)
            self._path = []
            self.trace.setData([], [])
            self.lasso_finished.emit(shape)


class EmbeddingScatter(pg.PlotWidget):
    """``set_map(coords, y_true, y_pred, colours)`` draws; signals ``point_hovered(int)`` (-1: none),
    ``point_clicked(int)`` and ``lasso_finished(np.ndarray)`` (the shape, for the caller to pick points)."""

    point_hovered = Signal(int)
    point_clicked = Signal(int)
    lasso_finished = Signal(object)

    def __init__(self, parent=None) -> None:
        self.box = LassoViewBox()
        super().__init__(parent, viewBox=self.box, background="w")
        self.setMinimumSize(240, 200)
        self.plotItem.hideAxis("left")  # map coordinates mean nothing by themselves (t-SNE above all)
        self.plotItem.hideAxis("bottom")
        self.plotItem.setMenuEnabled(False)
        self.box.lasso_finished.connect(self.lasso_finished)
        self.coords = np.zeros((0, 2), np.float32)
        self.items: list[pg.ScatterPlotItem] = []  # per class: dots, then crosses
        self.hover_ring = pg.ScatterPlotItem(size=15, brush=pg.mkBrush(None), pen=pg.mkPen(0, 0, 0, width=2))
        self.group_rings = pg.ScatterPlotItem(size=10, brush=pg.mkBrush(None), pen=pg.mkPen(20, 20, 20, 170))
        for ring, z in ((self.group_rings, 5), (self.hover_ring, 10)):
            ring.setZValue(z)
            self.addItem(ring)
        self.hovered = -1
        self._press: QPointF | None = None
        self.setMouseTracking(True)

    # ---- drawing -------------------------------------------------------------------------------
    def set_map(self, coords: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, colours: list[QColor]) -> None:
        for item in self.items:
            self.removeItem(item)
        self.items = []
        self.coords = np.asarray(coords, dtype=np.float64)
        wrong = y_pred != y_true
        for k, colour in enumerate(colours):
            for kind in (False, True):
                idx = np.flatnonzero((y_true == k) & (wrong == kind))
                if not len(idx):
                    continue
                item = pg.ScatterPlotItem(
                    x=self.coords[idx, 0], y=self.coords[idx, 1], pxMode=True,
                    symbol=MISTAKE_SYMBOL if kind else CORRECT_SYMBOL, size=CROSS_SIZE if kind else DOT_SIZE,
                    brush=pg.mkBrush(colour), pen=pg.mkPen(40, 40, 40, 160, width=0.8) if kind else None)
                item.setZValue(2 if kind else 1)  # crosses over dots: a mistake is never hidden
                item.class_index, item.is_mistake, item.indices = k, bool(kind), idx  # which images it draws
                self.addItem(item)
                self.items.append(item)
        self.set_hovered(-1)
        self.set_group(np.zeros(0, np.int64))
        if len(self.coords):  # an empty map keeps its range (empty items have no bounds)
            self.box.autoRange(padding=0.03)

    def set_group(self, indices: np.ndarray) -> None:
        """Rings around a picked group's points (none for an empty array)."""
        idx = np.asarray(indices, dtype=np.int64)
        self.group_rings.setData(x=self.coords[idx, 0], y=self.coords[idx, 1]) if len(idx) else self.group_rings.clear()

    def set_hovered(self, index: int) -> None:
        self.hovered = int(index)
        if index >= 0:
            self.hover_ring.setData(x=[self.coords[index, 0]], y=[self.coords[index, 1]])
        else:
            self.hover_ring.clear()

    def set_lasso(self, on: bool) -> None:
        self.box.lasso_enabled = bool(on)
        self.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)

    # ---- what the mouse is on --------------------------------------------------------------------
    def point_count(self) -> int:
        return int(sum(len(item.indices) for item in self.items))

    def index_at(self, view_point: QPointF) -> int:
        """The nearest point within PICK_PIXELS of a point in view coordinates, or -1."""
        if not len(self.coords):
            return -1
        px = self.box.viewPixelSize()  # view units per pixel, along x and y
        if not px[0] or not px[1]:
            return -1
        dx = (self.coords[:, 0] - view_point.x()) / px[0]
        dy = (self.coords[:, 1] - view_point.y()) / px[1]
        d2 = dx * dx + dy * dy
        i = int(d2.argmin())
        return i if d2[i] <= PICK_PIXELS ** 2 else -1

    def view_point(self, widget_pos: QPointF) -> QPointF:
        return self.box.mapSceneToView(self.mapToScene(widget_pos.toPoint()))

    def widget_point(self, index: int) -> QPointF:
        """Where point `index` is drawn, in this widget's coordinates (tests move the mouse there)."""
        scene = self.box.mapViewToScene(QPointF(*self.coords[index]))
        return QPointF(self.mapFromScene(scene))

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802 - Qt name
        super().mouseMoveEvent(ev)
        if ev.buttons() == Qt.MouseButton.NoButton:
            index = self.index_at(self.view_point(ev.position()))
            if index != self.hovered:
                self.set_hovered(index)
                self.point_hovered.emit(index)

    def leaveEvent(self, ev) -> None:  # noqa: N802 - Qt name
        super().leaveEvent(ev)
        if self.hovered >= 0:
            self.set_hovered(-1)
            self.point_hovered.emit(-1)

    def mousePressEvent(self, ev) -> None:  # noqa: N802 - Qt name
        self._press = ev.position() if ev.button() == Qt.MouseButton.LeftButton else None
        super().mousePressEvent(ev)

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802 - Qt name
        super().mouseReleaseEvent(ev)
        press, self._press = self._press, None
        if press is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        moved = ev.position() - press
        if abs(moved.x()) + abs(moved.y()) <= CLICK_SLOP:
            index = self.index_at(self.view_point(ev.position()))
            if index >= 0:
                self.point_clicked.emit(index)
