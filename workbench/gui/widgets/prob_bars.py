"""Top-k class probabilities as labelled horizontal bars, and a strip of fixed probe images.

``ProbBars`` paints itself (no pyqtgraph scene per row), so a results list with many rows stays light.
``ProbeStrip`` shows 25 fixed test images with their current predicted label; a training view can
call ``set_predictions`` after every epoch.
"""

from __future__ import annotations

import html
import re
from typing import Sequence

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from workbench.gui.widgets.qimage import array_to_pixmap
from workbench.gui.widgets.rich_text import html_text

BAR_COLOR = QColor(31, 119, 180)
TOP_COLOR = QColor(44, 160, 44)
TRACK_COLOR = QColor(232, 236, 241)


class ProbBars(QWidget):
    """Rows of ``label  [bar]  97.1 %``; the first (most likely) bar is drawn in green."""

    ROW_HEIGHT = 20

    def __init__(self, parent: QWidget | None = None, *, highlight_first: bool = True, percent_suffix: str = " %",
                 min_width: int = 260) -> None:
        super().__init__(parent)
        self._items: list[tuple[str, float]] = []
        self.highlight_first = highlight_first
        self.percent_suffix = percent_suffix
        self.min_width = min_width
        self.setMinimumWidth(min_width)

    def set_probabilities(self, items: Sequence[tuple[str, float]]) -> None:
        """``items``: (label, probability in 0..1), most likely first."""
        self._items = [(str(label), float(p)) for label, p in items]
        self.setToolTip("\n".join(f"{label}: {p * 100:.2f} %" for label, p in self._items))
        self.setMinimumHeight(max(1, len(self._items)) * self.ROW_HEIGHT + 4)
        self.updateGeometry()
        self.update()

    def items(self) -> list[tuple[str, float]]:
        return list(self._items)

    def labels(self) -> list[str]:
        return [label for label, _ in self._items]

    def probabilities(self) -> list[float]:
        return [p for _, p in self._items]

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(340, max(1, len(self._items)) * self.ROW_HEIGHT + 4)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(self.min_width, max(1, len(self._items)) * self.ROW_HEIGHT + 4)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        if not self._items:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        fm = QFontMetrics(self.font())
        label_w = min(max(fm.horizontalAdvance(label) for label, _ in self._items) + 10, int(self.width() * 0.45))
        value_w = fm.horizontalAdvance("100.0 %") + 8
        bar_x = label_w
        bar_w = max(20, self.width() - label_w - value_w)
        text_color = self.palette().color(self.foregroundRole())
        for i, (label, p) in enumerate(self._items):
            y = 2 + i * self.ROW_HEIGHT
            h = self.ROW_HEIGHT - 5
            painter.setPen(text_color)
            shown = fm.elidedText(label, Qt.TextElideMode.ElideRight, label_w - 8)
            painter.drawText(QRectF(0, y, label_w - 6, h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shown)
            painter.fillRect(QRectF(bar_x, y + 1, bar_w, h - 2), TRACK_COLOR)
            fill = max(0.0, min(1.0, p)) * bar_w
            if fill > 0:
                painter.fillRect(QRectF(bar_x, y + 1, max(1.0, fill), h - 2), TOP_COLOR if i == 0 and self.highlight_first else BAR_COLOR)
            painter.setPen(text_color)
            painter.drawText(
                QRectF(bar_x + bar_w + 4, y, value_w, h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"{p * 100:.1f}{self.percent_suffix}",
            )
        painter.end()


class ProbeStrip(QWidget):
    """A fixed set of (usually 25) test images followed during training: each shows its predicted label,
    green when right and red when wrong. ``set_probes`` once, then ``set_predictions`` per epoch."""

    TEXT_PAD = 16  # a label is this much wider than its image ("triangle", "airplane" fit; longer names elide)

    def __init__(self, columns: int = 25, image_size: int = 48, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = max(1, columns)
        self.image_size = image_size
        self.class_names: tuple[str, ...] = ()
        self.true_labels: np.ndarray = np.zeros(0, np.int64)
        self.predicted: np.ndarray = np.zeros(0, np.int64)
        self._images: list[QLabel] = []
        self._texts: list[QLabel] = []
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(2)
        self._grid.setVerticalSpacing(1)
        self.caption = QLabel("")
        self.caption.setObjectName("probeCaption")

    def set_probes(self, images: np.ndarray, true_labels: Sequence[int], class_names: Sequence[str]) -> None:
        """The probe images (uint8 N x H x W x 3), their true labels and the class names."""
        for w in self._images + self._texts:
            self._grid.removeWidget(w)
            w.hide()
            w.deleteLater()
        self._images, self._texts = [], []
        self.class_names = tuple(str(c) for c in class_names)
        self.true_labels = np.asarray(true_labels, np.int64).ravel()
        self.predicted = np.full(len(self.true_labels), -1, np.int64)
        for i, image in enumerate(np.asarray(images)):
            row, col = 2 * (i // self.columns), i % self.columns
            pic = QLabel()
            pic.setPixmap(array_to_pixmap(image, self.image_size))
            pic.setFixedSize(self.image_size, self.image_size)
            pic.setToolTip(f"true: {self._name(int(self.true_labels[i]))}")
            text = QLabel("–")
            text.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            text.setFixedWidth(self.image_size + self.TEXT_PAD)
            font = text.font()
            font.setPointSizeF(max(6.0, font.pointSizeF() * 0.8))
            text.setFont(font)
            self._grid.addWidget(pic, row, col, Qt.AlignmentFlag.AlignHCenter)
            self._grid.addWidget(text, row + 1, col, Qt.AlignmentFlag.AlignHCenter)
            self._images.append(pic)
            self._texts.append(text)

    def set_predictions(self, predicted: Sequence[int], confidences: Sequence[float] | None = None) -> None:
        """Predicted class index per probe (same order as ``set_probes``); optional confidence 0..1."""
        self.predicted = np.asarray(predicted, np.int64).ravel()[: len(self._texts)]
        conf = None if confidences is None else np.asarray(confidences, float).ravel()
        for i, text in enumerate(self._texts):
            if i >= len(self.predicted):
                text.setText("–")
                continue
            p = int(self.predicted[i])
            right = i < len(self.true_labels) and p == int(self.true_labels[i])
            colour = "#2ca02c" if right else "#d62728"
            name = self._name(p)
            shown = QFontMetrics(text.font()).elidedText(name, Qt.TextElideMode.ElideRight, text.width() - 2)
            text.setText(f"<span style='color:{colour}'>{html_text(shown)}</span>")
            tip = f"true: {self._name(int(self.true_labels[i]))}\npredicted: {name}"
            if conf is not None and i < len(conf):
                tip += f" ({conf[i] * 100:.1f} %)"
            text.setToolTip(tip)
            self._images[i].setToolTip(tip)

    def full_width(self) -> int:
        """Width of a full row of probes (for a container that must not change size when they arrive)."""
        spacing = self._grid.horizontalSpacing()
        return self.columns * (self.image_size + self.TEXT_PAD) + (self.columns - 1) * spacing

    def accuracy(self) -> float | None:
        n = min(len(self.predicted), len(self.true_labels))
        if n == 0 or (self.predicted[:n] < 0).all():
            return None
        return float(np.mean(self.predicted[:n] == self.true_labels[:n]))

    def shown_texts(self) -> list[str]:
        """The labels as drawn (a long class name is elided to fit under its image)."""
        return [html.unescape(re.sub(r"<[^>]+>", "", t.text())) for t in self._texts]

    def predicted_names(self) -> list[str]:
        """The full predicted class name per probe ("" before the first ``set_predictions``)."""
        return [self._name(int(p)) if p >= 0 else "" for p in self.predicted]

    def _name(self, index: int) -> str:
        if 0 <= index < len(self.class_names):
            return self.class_names[index]
        return str(index)


def _demo() -> None:  # pragma: no cover - a quick look: python -m workbench.gui.widgets.prob_bars
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    w = QWidget()
    lay = QVBoxLayout(w)
    bars = ProbBars()
    bars.set_probabilities([("cat", 0.71), ("dog", 0.2), ("deer", 0.05), ("frog", 0.02), ("horse", 0.01)])
    lay.addWidget(bars)
    w.show()
    app.exec()


if __name__ == "__main__":  # pragma: no cover
    _demo()
