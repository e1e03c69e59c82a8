"""The model's layer graph drawn with Qt: boxes top-to-bottom, arrows between them.

Edges that skip levels (residual connections into an Add) bend out to the right, so joins stay visible.
Rows that say they are a nested model (`group`, e.g. a keras.applications base inside a Sequential) are
drawn as one box, collapsed; a click on it expands it (its layers inside a frame) and a click collapses it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

BOX_W, BOX_H = 230.0, 54.0
GAP_Y, GAP_X = 26.0, 40.0

_FILL = {
    "InputLayer": "#e8eef7",
    "Conv2D": "#dbeafe",
    "SeparableConv2D": "#dbeafe",
    "Dense": "#fde2c8",
    "Add": "#d9f2d9",
    "Concatenate": "#d9f2d9",
    "BatchNormalization": "#f1e8fb",
    "Dropout": "#f2f2f2",
    "MaxPooling2D": "#fff5cc",
    "AveragePooling2D": "#fff5cc",
    "GlobalAveragePooling2D": "#fff5cc",
}


def shape_text(shape: Sequence[Any]) -> str:
    parts = ["None" if s is None else str(s) for s in (shape or ())]
    return "(" + ", ".join(parts) + ")"


def layout_levels(rows: Sequence[Any]) -> dict[str, int]:
    """Level (row) of every layer: 1 + the deepest of its inputs (longest path from the input)."""
    level: dict[str, int] = {}
    for row in rows:
        ins = [level[n] for n in row.inbound if n in level]
        level[row.name] = (max(ins) + 1) if ins else 0
    return level


@dataclass(frozen=True)
class ShownRow:
    """A box to draw: a layer, or a nested model (`group`) drawn collapsed or as the header of its frame."""

    name: str
    class_name: str
    output_shape: tuple
    params: int
    inbound: tuple
    group: bool = False
    expanded: bool = False
    size: int = 0


def shown_rows(rows: Sequence[Any], expanded: set[str] | frozenset[str]) -> list[ShownRow]:
    """The boxes for `rows` with only the groups in `expanded` open: a closed group stands for everything
    inside it (edges into and out of it join at its box); an open group's box heads its layers."""
    groups = {r.name for r in rows if getattr(r, "group", False)}
    parent = {r.name: getattr(r, "parent", "") for r in rows}

    def ancestors(name: str) -> list[str]:
        out, p = [], parent.get(name, "")
        while p:
            out.append(p)
            p = parent.get(p, "")
        return out  # innermost first

    def rep(name: str) -> str:
        closed = [a for a in ancestors(name) if a in groups and a not in expanded]
        return closed[-1] if closed else name  # the outermost closed group hides everything under it

    def feeds(name: str) -> list[str]:
        # A group's inputs are those of its layers that come from outside it.
        inside = [r for r in rows if r.name.startswith(name + "/") and not getattr(r, "group", False)]
        return [p for r in inside for p in r.inbound if not p.startswith(name + "/")]

    shown = []
    for r in rows:
        if rep(r.name) != r.name:
            continue
        is_group = r.name in groups
        sources = feeds(r.name) if is_group else list(r.inbound)
        inbound = []
        for p in sources:
            q = rep(p)
            # Fed from outside its open group, a box hangs below that group's box (the innermost such group).
            outer = [a for a in ancestors(r.name) if a in expanded and not p.startswith(a + "/")]
            if outer:
                q = outer[0]
            if q != r.name and q not in inbound:
                inbound.append(q)
        shown.append(ShownRow(r.name, r.class_name, tuple(r.output_shape), r.params, tuple(inbound), is_group,
                              is_group and r.name in expanded, getattr(r, "size", 0)))
    return shown


class LayerGraph(QGraphicsView):
    group_toggled = Signal(str, bool)  # a nested model's path, expanded now

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setBackgroundBrush(QBrush(QColor("white")))
        self.node_rects: dict[str, QRectF] = {}
        self.edges: list[tuple[str, str]] = []
        self.rows: tuple = ()
        self.expanded: set[str] = set()
        self.groups: set[str] = set()

    def clear(self) -> None:
        self.scene().clear()
        self.node_rects = {}
        self.edges = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        """Draw the graph of ``rows`` (LayerRow-like: name, class_name, output_shape, params, inbound; rows
        with `group` and `parent`, as core.explain.layer_tree gives, are nested models, drawn collapsed)."""
        self.rows = tuple(rows)
        self.groups = {r.name for r in self.rows if getattr(r, "group", False)}
        self.expanded = set()
        self._draw()

    def toggle(self, name: str) -> None:
        """Expand a collapsed nested model, or collapse an expanded one (with the groups inside it)."""
        if name not in self.groups:
            return
        if name in self.expanded:
            self.expanded = {g for g in self.expanded if g != name and not g.startswith(name + "/")}
        else:
            self.expanded.add(name)
        self._draw()
        self.centerOn(self.node_rects[name].center().x(), self.node_rects[name].top())
        self.group_toggled.emit(name, name in self.expanded)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt name
        point = self.mapToScene(event.position().toPoint())
        hit = next((n for n in self.groups if n in self.node_rects and self.node_rects[n].contains(point)), None)
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.toggle(hit)
            event.accept()
            return
        super().mousePressEvent(event)

    def _draw(self) -> None:
        rows = shown_rows(self.rows, self.expanded) if self.groups else self.rows
        self.clear()
        scene = self.scene()
        levels = layout_levels(rows)
        by_level: dict[int, list[Any]] = {}
        for row in rows:
            by_level.setdefault(levels[row.name], []).append(row)
        widest = max((len(v) for v in by_level.values()), default=1)
        total_w = widest * BOX_W + (widest - 1) * GAP_X
        name_font = QFont()
        name_font.setBold(True)
        name_font.setPointSize(9)
        info_font = QFont()
        info_font.setPointSize(8)
        for lvl, members in by_level.items():
            row_w = len(members) * BOX_W + (len(members) - 1) * GAP_X
            x0 = (total_w - row_w) / 2
            for i, row in enumerate(members):
                rect = QRectF(x0 + i * (BOX_W + GAP_X), lvl * (BOX_H + GAP_Y), BOX_W, BOX_H)
                self.node_rects[row.name] = rect
                box = QGraphicsRectItem(rect)
                group = getattr(row, "group", False)
                box.setBrush(QBrush(QColor("#ede7f6" if group else _FILL.get(row.class_name, "#ffffff"))))
                box.setPen(QPen(QColor("#5e35b1" if group else "#555555"), 2 if group else 1))
                box.setToolTip(
                    f"{row.name}\n{row.class_name}\noutput {shape_text(row.output_shape)}\n{row.params:,} params"
                    + (f"\nclick to {'collapse' if row.expanded else 'expand'} its {row.size} layers" if group else "")
                )
                if group:
                    box.setCursor(Qt.CursorShape.PointingHandCursor)
                scene.addItem(box)
                title = row.class_name
                if group:  # the marker and count say it opens
                    title = f"{'▾' if row.expanded else '▸'} {row.class_name}, {row.size} layers"
                # Type, name, then shape and parameters, each on its own line: "type · name" on one was cut.
                short = row.name.rsplit("/", 1)[-1]  # inside a nested model's frame; the tooltip has the path
                lines = ((title, name_font, "#000000"), (short, info_font, "#333333"),
                         (f"{shape_text(row.output_shape)}{f'   {row.params:,} params' if row.params else ''}",
                          info_font, "#333333"))
                y = rect.y() + 3
                for text, font, colour in lines:
                    item = QGraphicsSimpleTextItem(text)
                    item.setFont(font)
                    item.setBrush(QBrush(QColor(colour)))
                    _fit(item, rect.width() - 10)  # only names longer than any Keras gives
                    item.setPos(rect.x() + 5, y)
                    scene.addItem(item)
                    y += item.boundingRect().height()
        skip_index = 0
        for row in rows:
            for src in row.inbound:
                if src not in self.node_rects:
                    continue
                self.edges.append((src, row.name))
                a, b = self.node_rects[src], self.node_rects[row.name]
                skip = levels[row.name] - levels[src] > 1
                if skip:
                    skip_index += 1
                self._add_edge(a, b, skip, skip_index)
        for name in self.expanded:
            self._add_frame(name)
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-20, -20, 20, 20))
        self.fit_width()

    def _add_frame(self, group: str) -> None:
        """A tinted frame behind an open nested model's box and its layers, so its extent is visible."""
        inside = [r for n, r in self.node_rects.items() if n == group or n.startswith(group + "/")]
        if not inside:
            return
        area = inside[0]
        for r in inside[1:]:
            area = area.united(r)
        depth = group.count("/")
        frame = QGraphicsRectItem(area.adjusted(-10 + 4 * depth, -6, 10 - 4 * depth, 8))
        frame.setBrush(QBrush(QColor(94, 53, 177, 18)))
        frame.setPen(QPen(QColor("#5e35b1"), 1, Qt.PenStyle.DashLine))
        frame.setZValue(-1)
        self.scene().addItem(frame)

    def fit_width(self) -> None:
        """Scale so the graph's width fits the view (never enlarge); scroll vertically for deep nets."""
        rect = self.scene().sceneRect()
        if rect.width() <= 0:
            return
        scale = min(1.0, max(0.2, (self.viewport().width() - 4) / rect.width()))
        self.resetTransform()
        self.scale(scale, scale)
        self.centerOn(rect.center().x(), rect.top())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self.fit_width()

    def _add_edge(self, a: QRectF, b: QRectF, skip: bool, k: int) -> None:
        pen = QPen(QColor("#2c7a2c" if skip else "#444444"), 1.6 if skip else 1.2)
        path = QPainterPath()
        if skip:
            start = QPointF(a.right(), a.center().y())
            end = QPointF(b.right(), b.center().y())
            bulge = 40.0 + 12.0 * (k % 3)
            path.moveTo(start)
            path.cubicTo(QPointF(start.x() + bulge, start.y()), QPointF(end.x() + bulge, end.y()), end)
            tip, angle = end, math.pi  # arrow points left into the box's right side
        else:
            start = QPointF(a.center().x(), a.bottom())
            end = QPointF(b.center().x(), b.top())
            path.moveTo(start)
            mid = (start.y() + end.y()) / 2
            path.cubicTo(QPointF(start.x(), mid), QPointF(end.x(), mid), end)
            tip, angle = end, math.pi / 2  # pointing down
        item = QGraphicsPathItem(path)
        item.setPen(pen)
        self.scene().addItem(item)
        size = 7.0
        left = QPointF(tip.x() - size * math.cos(angle - 0.4), tip.y() - size * math.sin(angle - 0.4))
        right = QPointF(tip.x() - size * math.cos(angle + 0.4), tip.y() - size * math.sin(angle + 0.4))
        head = QGraphicsPolygonItem(QPolygonF([tip, left, right]))
        head.setBrush(QBrush(pen.color()))
        head.setPen(QPen(Qt.PenStyle.NoPen))
        self.scene().addItem(head)


def _fit(item: QGraphicsSimpleTextItem, width: float) -> None:
    text = item.text()
    while item.boundingRect().width() > width and len(text) > 4:
        text = text[:-2]
        item.setText(text + "…")
