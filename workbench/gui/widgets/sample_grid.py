"""A page of sample images with their label names beneath, drawn crisp; click one to enlarge it."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QVBoxLayout, QWidget

from workbench.gui.widgets.qimage import array_to_pixmap


class SampleTile(QWidget):
    """One image plus its label; emits ``clicked`` with its position in the grid."""

    clicked = Signal(int)

    def __init__(self, position: int, image_size: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.position = position
        self.image_size = image_size
        self.image_label = QLabel()
        self.image_label.setFixedSize(image_size, image_size)
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setObjectName("sampleImage")
        policy = self.image_label.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # an empty tile keeps its place in the grid
        self.image_label.setSizePolicy(policy)
        self.text_label = QLabel()
        self.text_label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.text_label.setFixedWidth(image_size + 16)
        self.text_label.setObjectName("sampleLabel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.image_label, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.text_label, 0, Qt.AlignmentFlag.AlignHCenter)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_sample(self, image: np.ndarray | None, text: str, tooltip: str = "") -> None:
        if image is None:
            self.image_label.clear()
            self.image_label.hide()  # not a black square (the style sheet paints image frames black)
            self.text_label.setText("")
            self.setToolTip("")
            self.setEnabled(False)
            return
        self.setEnabled(True)
        self.image_label.show()
        self.image_label.setPixmap(array_to_pixmap(image, self.image_size))
        self.text_label.setText(text)
        self.setToolTip(tooltip or text)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.button() == Qt.MouseButton.LeftButton and self.isEnabled():
            self.clicked.emit(self.position)
        super().mouseReleaseEvent(event)


class SampleGrid(QWidget):
    """rows x cols tiles. ``set_samples`` fills them; ``sample_clicked`` gives the dataset index."""

    sample_clicked = Signal(int)  # dataset index of the clicked image

    def __init__(self, rows: int = 5, cols: int = 5, image_size: int = 96, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows, self.cols = rows, cols
        self.tiles: list[SampleTile] = []
        self.indices: list[int] = []
        self.labels: list[str] = []
        grid = QGridLayout(self)
        grid.setSpacing(4)
        for i in range(rows * cols):
            tile = SampleTile(i, image_size)
            tile.clicked.connect(self._on_tile_clicked)
            grid.addWidget(tile, i // cols, i % cols)
            self.tiles.append(tile)

    @property
    def capacity(self) -> int:
        return self.rows * self.cols

    def set_samples(self, images: np.ndarray, labels: Sequence[str], indices: Sequence[int]) -> None:
        """Show up to ``capacity`` images; extra tiles are cleared."""
        self.indices = [int(i) for i in indices][: self.capacity]
        self.labels = [str(s) for s in labels][: self.capacity]
        for i, tile in enumerate(self.tiles):
            if i < len(self.indices):
                tile.set_sample(images[i], self.labels[i], f"#{self.indices[i]}: {self.labels[i]}")
            else:
                tile.set_sample(None, "")

    def shown_labels(self) -> list[str]:
        return list(self.labels)

    @Slot(int)
    def _on_tile_clicked(self, position: int) -> None:
        if position < len(self.indices):
            self.sample_clicked.emit(self.indices[position])


class SampleDialog(QDialog):
    """One image enlarged (nearest-neighbour) with its index and label."""

    def __init__(self, image: np.ndarray, index: int, label: str, split: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{split} image #{index}")
        picture = QLabel()
        picture.setPixmap(array_to_pixmap(image, 320))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        caption = QLabel(f"<b>{label}</b> &nbsp; — &nbsp; {split} index {index}")
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addWidget(picture)
        layout.addWidget(caption)
