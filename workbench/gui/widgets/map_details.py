"""What the embedding map shows beside and above its points: the class legend, the card of the point
under the mouse, one image opened with its prediction and Grad-CAM, and a group's images and counts."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QScrollArea, QSlider, QVBoxLayout, QWidget

from workbench.gui.widgets.message_label import MessageLabel
from workbench.gui.widgets.qimage import array_to_pixmap
from workbench.gui.widgets.rich_text import html_text
from workbench.gui.widgets.sample_grid import SampleGrid

CARD_IMAGE = 96
DETAIL_IMAGE = 256
GROUP_SHOWN = 200  # images a group dialog shows (the group's counts cover all of them)


def point_text(index: int, names: Sequence[str], y_true: int, probs: np.ndarray) -> str:
    """"#12: true cat, predicted dog (87.0 %)" — one line for a tooltip, a card or a caption."""
    pred = int(np.argmax(probs))
    verdict = "" if pred == y_true else " ✗"
    return f"#{index}: true {names[y_true]}, predicted {names[pred]} ({100 * float(probs[pred]):.1f} %){verdict}"


def legend_html(names: Sequence[str], colours: Sequence[QColor], counts: np.ndarray, correct: np.ndarray) -> str:
    """One row per class: its colour, name, images and accuracy; then the key of the two symbols."""
    rows = []
    for name, colour, n, ok in zip(names, colours, counts, correct):
        acc = f"{100 * ok / n:.0f} %" if n else "—"
        rows.append(f"<span style='color:{colour.name()}'>●</span> {html_text(name)} "
                    f"<span style='color:#666'>{int(n)} · {acc}</span>")
    return "<br>".join(rows + ["<span style='color:#444'>● correct &nbsp; ✕ mistake (colour: true class)</span>"])


class HoverCard(QWidget):
    """The point under the mouse: its thumbnail and what the model said."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picture = QLabel()
        self.picture.setFixedSize(CARD_IMAGE, CARD_IMAGE)
        self.text = MessageLabel("Hover a point to see its image.")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.text, 1)

    def show_point(self, image: np.ndarray | None, text: str) -> None:
        if image is None:
            self.picture.clear()
        else:
            self.picture.setPixmap(array_to_pixmap(image, CARD_IMAGE))
        self.text.setText(text)


class PointDialog(QDialog):
    """One test image enlarged with its prediction (top classes) and, once computed, its Grad-CAM as an
    overlay whose opacity a slider sets. ``set_gradcam(overlay_fn, note)`` fills it; ``set_gradcam_failed``
    says why not."""

    opacity_changed = Signal(float)

    def __init__(self, image: np.ndarray, index: int, names: Sequence[str], y_true: int, probs: np.ndarray,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Test image #{index}")
        self.index = int(index)
        self.image = image
        self._overlay = None  # fn(opacity) -> uint8 image, once Grad-CAM has arrived
        self.picture = QLabel()
        self.picture.setPixmap(array_to_pixmap(image, DETAIL_IMAGE))
        self.heat = QLabel()
        self.heat.setFixedSize(DETAIL_IMAGE, DETAIL_IMAGE)
        self.heat.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.heat.setText("Grad-CAM: computing…")
        order = np.argsort(-probs)[:3]
        top = "<br>".join(f"{html_text(names[k])}: {100 * float(probs[k]):.1f} %" for k in order)
        self.caption = QLabel(f"<b>{html_text(point_text(index, names, y_true, probs))}</b><br>{top}")
        self.caption.setWordWrap(True)
        self.gradcam_note = MessageLabel("")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setEnabled(False)
        self.opacity.setToolTip("Opacity of the Grad-CAM map over the image")
        self.opacity.valueChanged.connect(self._redraw)
        pictures = QHBoxLayout()
        pictures.addWidget(self.picture)
        pictures.addWidget(self.heat)
        slider_row = QHBoxLayout()
        slider_row.addWidget(QLabel("Grad-CAM opacity"))
        slider_row.addWidget(self.opacity, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(pictures)
        layout.addLayout(slider_row)
        layout.addWidget(self.caption)
        layout.addWidget(self.gradcam_note)

    def set_gradcam(self, overlay_fn, note: str) -> None:
        """`overlay_fn(opacity in [0, 1])` gives the picture to show; `note` says what was explained."""
        self._overlay = overlay_fn
        self.opacity.setEnabled(True)
        self.gradcam_note.setText(note)
        self._redraw()

    def set_gradcam_failed(self, message: str) -> None:
        self.heat.setText("No Grad-CAM")
        self.gradcam_note.setText(message)

    @Slot()
    def _redraw(self) -> None:
        if self._overlay is None:
            return
        value = self.opacity.value() / 100.0
        self.heat.setPixmap(array_to_pixmap(self._overlay(value), DETAIL_IMAGE))
        self.opacity_changed.emit(value)


class GroupDialog(QDialog):
    """A group picked on the map: how many images of each true class (and mistakes), and the images."""

    def __init__(self, images: np.ndarray, indices: Sequence[int], captions: Sequence[str], summary: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Group on the map")
        shown = list(indices)[:GROUP_SHOWN]
        cols = 8
        rows = max(1, math.ceil(len(shown) / cols))
        self.grid = SampleGrid(rows, cols, 64)
        self.grid.set_samples(images[:len(shown)], list(captions)[:len(shown)], shown)
        more = f" (the first {GROUP_SHOWN} shown)" if len(indices) > GROUP_SHOWN else ""
        self.summary = MessageLabel(summary + more)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(scroll, 1)
        self.resize(cols * 88 + 60, min(640, rows * 100 + 100))
