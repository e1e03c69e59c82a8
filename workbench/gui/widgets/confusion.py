"""Confusion-matrix heatmap: rows are true classes, columns predicted; click a cell to see its images.

Painted directly (one nearest-neighbour-scaled image of the colours plus labels), so 10 classes get
names and counts in every cell and 100 classes stay a sharp heatmap with tooltips. The colour of a
cell is its share of the true class (row-normalised), so a rare class's diagonal still stands out;
the text is the count.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QToolTip, QWidget

# White to dark blue: counts stay readable on the pale cells, and 0 is plain white.
COLOR_MAP = pg.ColorMap(
    pos=np.array([0.0, 0.25, 0.6, 1.0]),
    color=np.array([(255, 255, 255), (198, 219, 239), (66, 146, 198), (8, 48, 107)], dtype=np.ubyte),
)


def row_fractions(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its total (rows with no images stay 0)."""
    m = np.asarray(matrix, np.float64)
    totals = m.sum(axis=1, keepdims=True)
    return np.divide(m, totals, out=np.zeros_like(m), where=totals > 0)


class ConfusionMatrixView(QWidget):
    """``set_matrix(matrix, class_names)``; ``cell_clicked(true, predicted)`` on a left click."""

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix = np.zeros((0, 0), np.int64)
        self.class_names: tuple[str, ...] = ()
        self.title = ""
        self._fractions = np.zeros((0, 0))
        self._image: QImage | None = None
        self._hover: tuple[int, int] | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(280, 220)  # with the tab beside the form on a 1280×720 screen

    # ---- data ---------------------------------------------------------------------------------
    def set_matrix(self, matrix: np.ndarray, class_names: Sequence[str], title: str = "") -> None:
        m = np.asarray(matrix, np.int64)
        if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(class_names):
            raise ValueError(f"A confusion matrix must be C x C for {len(class_names)} class names; got {m.shape}.")
        self.matrix = m.copy()
        self.class_names = tuple(str(c) for c in class_names)
        self.title = title
        self._fractions = row_fractions(m)
        rgba = COLOR_MAP.map(self._fractions.ravel(), mode="byte").reshape(m.shape[0], m.shape[1], -1)
        rgb = np.ascontiguousarray(rgba[..., :3], dtype=np.uint8)
        h, w = rgb.shape[:2]
        self._image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self._hover = None
        self.update()

    def clear(self) -> None:
        self.matrix = np.zeros((0, 0), np.int64)
        self.class_names = ()
        self._image = None
        self.update()

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def count(self, true: int, predicted: int) -> int:
        return int(self.matrix[true, predicted])

    # ---- geometry -----------------------------------------------------------------------------
    def _label_font(self) -> QFont:
        font = QFont(self.font())
        if self.num_classes > 20:
            font.setPointSizeF(max(6.0, font.pointSizeF() * 0.8))
        return font

    def _label_step(self, cell: float, fm: QFontMetrics) -> int:
        return max(1, math.ceil((fm.height() + 1) / max(cell, 1e-6)))

    def _layout(self) -> tuple[QRectF, float, int]:
        """(the matrix area, the cell size, the label step)."""
        n = max(1, self.num_classes)
        fm = QFontMetrics(self._label_font())
        name_w = max((fm.horizontalAdvance(s) for s in self.class_names), default=0)
        name_w = min(name_w, 140) + 8
        title_h = fm.height() + 6 if self.title else 0
        axis_h = fm.height() + 4  # "predicted" / "true" captions
        left = axis_h + name_w
        top = title_h + axis_h + name_w  # column names are drawn vertically
        avail_w = self.width() - left - 8
        avail_h = self.height() - top - 8
        cell = max(1.0, min(avail_w, avail_h) / n)
        if self.num_classes <= 20:
            cell = float(int(cell))  # whole pixels keep the grid lines crisp
        return QRectF(left, top, cell * n, cell * n), cell, self._label_step(cell, fm)

    def cell_rect(self, true: int, predicted: int) -> QRect:
        area, cell, _ = self._layout()
        return QRectF(area.left() + predicted * cell, area.top() + true * cell, cell, cell).toRect()

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        if not self.num_classes:
            return None
        area, cell, _ = self._layout()
        if not area.contains(pos.x(), pos.y()):
            return None
        col = int((pos.x() - area.left()) // cell)
        row = int((pos.y() - area.top()) // cell)
        if 0 <= row < self.num_classes and 0 <= col < self.num_classes:
            return row, col
        return None

    def cell_text(self, true: int, predicted: int) -> str:
        count = self.count(true, predicted)
        total = int(self.matrix[true].sum())
        share = f" ({count / total * 100:.1f} % of {self.class_names[true]})" if total else ""
        verdict = "correct" if true == predicted else "mistakes"
        return (
            f"true: {self.class_names[true]}\npredicted: {self.class_names[predicted]}\n"
            f"{count} images{share} — {verdict}\nclick to see them"
        )

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(620, 560)

    # ---- drawing ------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(self.backgroundRole()))
        text_color = self.palette().color(self.foregroundRole())
        if self._image is None or not self.num_classes:
            painter.setPen(QColor(120, 120, 120))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No evaluation yet")
            painter.end()
            return
        n = self.num_classes
        area, cell, step = self._layout()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(area, self._image)
        font = self._label_font()
        painter.setFont(font)
        fm = QFontMetrics(font)
        name_w = min(max(fm.horizontalAdvance(s) for s in self.class_names), 140) + 8
        axis_h = fm.height() + 4
        title_h = fm.height() + 6 if self.title else 0

        if n <= 20:  # grid lines and counts
            painter.setPen(QPen(QColor(210, 214, 220), 1))
            for i in range(n + 1):
                x = area.left() + i * cell
                y = area.top() + i * cell
                painter.drawLine(int(x), int(area.top()), int(x), int(area.bottom()))
                painter.drawLine(int(area.left()), int(y), int(area.right()), int(y))
            count_font = QFont(self.font())
            count_font.setPointSizeF(max(6.0, min(self.font().pointSizeF(), cell / 3.2)))
            painter.setFont(count_font)
            cfm = QFontMetrics(count_font)
            for r in range(n):
                for c in range(n):
                    value = int(self.matrix[r, c])
                    if value == 0:
                        continue
                    text = str(value)
                    if cfm.horizontalAdvance(text) > cell - 2:
                        continue  # too narrow: the tooltip tells the number
                    painter.setPen(QColor(255, 255, 255) if self._fractions[r, c] > 0.45 else QColor(20, 20, 20))
                    painter.drawText(
                        QRectF(area.left() + c * cell, area.top() + r * cell, cell, cell),
                        Qt.AlignmentFlag.AlignCenter, text,
                    )
            painter.setFont(font)
        painter.setPen(QPen(QColor(120, 120, 120), 1))
        painter.drawRect(area)

        # Row names (true) on the left, column names (predicted) vertical above.
        painter.setPen(text_color)
        for i in range(0, n, step):
            name = fm.elidedText(self.class_names[i], Qt.TextElideMode.ElideRight, name_w - 4)
            y = area.top() + i * cell
            painter.drawText(
                QRectF(area.left() - name_w - 2, y + cell / 2 - fm.height() / 2, name_w, fm.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name,
            )
            painter.save()
            painter.translate(area.left() + i * cell + cell / 2 + fm.ascent() / 2 - 1, area.top() - 4)
            painter.rotate(-90)
            painter.drawText(QRectF(0, -fm.ascent(), name_w, fm.height()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
            painter.restore()
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(QRectF(area.left(), title_h, area.width(), axis_h), Qt.AlignmentFlag.AlignCenter, "predicted")
        painter.save()
        painter.translate(2, area.top() + area.height() / 2)
        painter.rotate(-90)
        painter.drawText(QRectF(-area.height() / 2, 0, area.height(), axis_h), Qt.AlignmentFlag.AlignCenter, "true")
        painter.restore()
        if self.title:
            painter.drawText(QRectF(0, 0, self.width(), title_h), Qt.AlignmentFlag.AlignCenter, self.title)

        if self._hover is not None:
            r, c = self._hover
            painter.setPen(QPen(QColor(255, 127, 14), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(area.left() + c * cell, area.top() + r * cell, cell, cell))
        painter.end()

    # ---- mouse --------------------------------------------------------------------------------
    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt name
        pos = event.position().toPoint()
        cell = self.cell_at(pos)
        if cell != self._hover:
            self._hover = cell
            self.update()
        if cell is None:
            QToolTip.hideText()
            self.unsetCursor()
        else:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
            QToolTip.showText(event.globalPosition().toPoint(), self.cell_text(*cell), self)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt name
        self._hover = None
        self.update()
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.button() == Qt.MouseButton.LeftButton:
            cell = self.cell_at(event.position().toPoint())
            if cell is not None:
                self.cell_clicked.emit(*cell)
        super().mouseReleaseEvent(event)
