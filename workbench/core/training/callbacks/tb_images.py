"""Pictures for TensorBoard's Images tab, drawn with numpy: the probe grid and a confusion matrix."""

from __future__ import annotations

import numpy as np

RIGHT = (40, 170, 60)  # green frame: the network's answer is right
WRONG = (210, 40, 40)  # red frame: wrong
MIN_TILE_PX = 64  # CIFAR's 32 px images are upscaled to this so the frames do not hide them
CONFUSION_PX = 400  # side of the confusion-matrix picture; cells are at least 2 px


def _rgb(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images, dtype=np.uint8)
    if images.ndim == 3:
        images = images[..., None]
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images[..., :3]


def probe_grid(images: np.ndarray, labels: tuple[int, ...], predictions: tuple[int, ...], columns: int = 5) -> np.ndarray:
    """H x W x 3 uint8: the probe images in rows of ``columns``, each framed green (right) or red (wrong)."""
    tiles = _rgb(images)
    scale = max(1, -(-MIN_TILE_PX // tiles.shape[1]))
    tiles = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    n, h, w, _ = tiles.shape
    border, gap = 3, 2
    rows = -(-n // columns)
    cell_h, cell_w = h + 2 * border + gap, w + 2 * border + gap
    grid = np.full((rows * cell_h + gap, columns * cell_w + gap, 3), 255, np.uint8)
    for i in range(n):
        top, left = gap + (i // columns) * cell_h, gap + (i % columns) * cell_w
        right = i < len(predictions) and predictions[i] == labels[i]
        grid[top:top + h + 2 * border, left:left + w + 2 * border] = RIGHT if right else WRONG
        grid[top + border:top + border + h, left + border:left + border + w] = tiles[i]
    return grid


def confusion_image(confusion: np.ndarray) -> np.ndarray:
    """H x W x 3 uint8: rows = true class, columns = predicted; darker blue = larger share of the row."""
    confusion = np.asarray(confusion, dtype=np.float64)
    share = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    cell = max(2, CONFUSION_PX // max(1, len(share)))
    white, blue = np.array([255.0, 255.0, 255.0]), np.array([8.0, 48.0, 107.0])
    picture = (white + share[..., None] * (blue - white)).round().astype(np.uint8)
    return picture.repeat(cell, axis=0).repeat(cell, axis=1)
