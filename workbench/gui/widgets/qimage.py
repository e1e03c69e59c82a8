"""uint8 numpy images to crisp Qt pixmaps (nearest-neighbour scaling, no blur)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def array_to_qimage(image: np.ndarray) -> QImage:
    """An owned QImage copy of an H x W x C (C = 1, 3 or 4) or H x W uint8 array, rows top to bottom."""
    arr = np.ascontiguousarray(image, dtype=np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:  # grayscale datasets (MNIST) keep a channel axis
        arr = np.ascontiguousarray(arr[..., 0])
    if arr.ndim == 2:
        h, w = arr.shape
        qimg = QImage(arr.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        h, w, c = arr.shape
        if c == 4:
            qimg = QImage(arr.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
        elif c >= 3:
            arr = np.ascontiguousarray(arr[..., :3])
            qimg = QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        else:
            raise ValueError(f"cannot show an image with {c} channels")
    return qimg.copy()  # detach from the numpy buffer


def array_to_pixmap(image: np.ndarray, size: int) -> QPixmap:
    """Scale to ``size`` x ``size`` with nearest-neighbour so 32 px images stay sharp."""
    qimg = array_to_qimage(image)
    scaled = qimg.scaled(
        size, size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation
    )
    return QPixmap.fromImage(scaled)
