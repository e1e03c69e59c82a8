"""Points of a map picked by a drawn shape, and what such a group holds (no Qt: the window draws it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

MAX_VERTICES = 400  # a lasso longer than this is thinned first: the test is vertices × points


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Indices of `points` (N × 2) inside the closed `polygon` (M × 2, M ≥ 3), by the even-odd rule."""
    pts = np.asarray(points, dtype=np.float64)
    poly = np.asarray(polygon, dtype=np.float64)
    if len(poly) < 3 or len(pts) == 0:
        return np.zeros(0, np.int64)
    if len(poly) > MAX_VERTICES:
        poly = poly[np.linspace(0, len(poly) - 1, MAX_VERTICES).round().astype(int)]
    x, y = pts[:, 0], pts[:, 1]
    inside = np.zeros(len(pts), bool)
    x1, y1 = poly[:, 0], poly[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    for ax, ay, bx, by in zip(x1, y1, x2, y2):
        crosses = (ay > y) != (by > y)  # the edge spans the point's height
        if not crosses.any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            at = ax + (y - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (x < at)
    return np.flatnonzero(inside)


@dataclass(frozen=True)
class GroupSummary:
    """How many images of each true class a group holds, and how many of them the model got wrong."""

    size: int
    counts: tuple[tuple[str, int, int], ...]  # (class name, images, mistakes), most images first

    def describe(self, top: int = 5) -> str:
        if not self.size:
            return "No images in the group."
        wrong = sum(m for _n, _c, m in self.counts)
        shown = ", ".join(f"{name} {count}" for name, count, _m in self.counts[:top])
        more = f", {len(self.counts) - top} more classes" if len(self.counts) > top else ""
        return f"{self.size:,} images ({wrong:,} mistakes): {shown}{more}"


def summarize_group(indices: Sequence[int], y_true: np.ndarray, y_pred: np.ndarray,
                    class_names: Sequence[str]) -> GroupSummary:
    idx = np.asarray(indices, dtype=np.int64)
    c = len(class_names)
    images = np.bincount(y_true[idx], minlength=c)
    mistakes = np.bincount(y_true[idx][y_pred[idx] != y_true[idx]], minlength=c)
    order = sorted((k for k in range(c) if images[k]), key=lambda k: (-images[k], k))
    return GroupSummary(int(len(idx)), tuple((class_names[k], int(images[k]), int(mistakes[k])) for k in order))
