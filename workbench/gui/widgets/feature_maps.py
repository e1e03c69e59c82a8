"""Many small pictures as one mosaic: a layer's feature maps (coloured, each scaled on its own) or the
first layer's filters (RGB). One pixmap, not a widget per map: a 64-map layer draws in a millisecond."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from workbench.gui.widgets.qimage import array_to_qimage

GAP = 3  # pixels between tiles
BACKGROUND = 235  # light grey between tiles


def _viridis() -> np.ndarray:
    import pyqtgraph as pg

    return pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256)  # 256 x 3 uint8


_LUT: np.ndarray | None = None


def colour_maps(maps: np.ndarray) -> np.ndarray:
    """K x h x w floats -> K x h x w x 3 uint8, each map scaled on its own from its min to its max (a flat
    map is drawn at the bottom colour)."""
    global _LUT
    if _LUT is None:
        _LUT = _viridis()
    m = np.asarray(maps, dtype=np.float32)
    lo = m.min(axis=(1, 2), keepdims=True)
    span = m.max(axis=(1, 2), keepdims=True) - lo
    scaled = np.where(span > 0, (m - lo) / np.where(span > 0, span, 1), 0)
    return _LUT[np.clip(np.round(scaled * 255), 0, 255).astype(np.uint8)]


def mosaic(tiles: np.ndarray, columns: int, tile: int) -> np.ndarray:
    """K x h x w x c uint8 tiles enlarged (nearest neighbour) to ``tile`` pixels, ``columns`` to a row."""
    tiles = np.asarray(tiles, dtype=np.uint8)
    if tiles.ndim == 3:
        tiles = tiles[..., None]
    k, h, w, c = tiles.shape
    if c == 1:
        tiles = np.repeat(tiles, 3, axis=-1)
    cols = max(1, min(columns, k))
    rows = max(1, math.ceil(k / cols))
    ys = (np.arange(tile) * h // tile)
    xs = (np.arange(tile) * w // tile)
    big = tiles[:, ys][:, :, xs]  # K x tile x tile x 3
    out = np.full((rows * (tile + GAP) - GAP, cols * (tile + GAP) - GAP, 3), BACKGROUND, np.uint8)
    for i in range(k):
        r, col = divmod(i, cols)
        out[r * (tile + GAP):r * (tile + GAP) + tile, col * (tile + GAP):col * (tile + GAP) + tile] = big[i]
    return out


class MosaicView(QWidget):
    """A caption and a scrolling mosaic; ``set_tiles`` shows K pictures, ``tile_count`` says how many."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tile_count = 0
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.picture)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.scroll, 1)

    def set_tiles(self, tiles: np.ndarray | None, caption: str, *, tile: int = 56, columns: int = 0) -> None:
        """Show ``tiles`` (K x h x w x c uint8); ``columns`` 0 fits the view's width."""
        self.caption.setText(caption)
        if tiles is None or len(tiles) == 0:
            self.tile_count = 0
            self.picture.clear()
            return
        self.tile_count = len(tiles)
        if columns <= 0:
            width = max(tile, self.scroll.viewport().width() - 4)
            columns = max(1, (width + GAP) // (tile + GAP))
        self.picture.setPixmap(QPixmap.fromImage(array_to_qimage(mosaic(tiles, columns, tile))))

    def set_maps(self, maps: np.ndarray, caption: str, *, tile: int = 56) -> None:
        """K x h x w float feature maps, coloured (viridis), each scaled on its own."""
        self.set_tiles(colour_maps(maps) if len(maps) else None, caption, tile=tile)


def tile_size_for(shape: Sequence[int]) -> int:
    """Small maps enlarged to a visible size, larger ones at about their own size."""
    side = max(int(shape[0]), int(shape[1]))
    return int(min(96, max(40, side * 2)))
