"""The 2-D map as a table: one row per image with its place on the map, its true and predicted class."""

from __future__ import annotations

import csv
import io
import os
from typing import Sequence

import numpy as np

from workbench.core.atomic_write import write_text_atomic
from workbench.core.text import sanitize

MAP_NAME = "map.csv"
COLUMNS = ("index", "x", "y", "true", "predicted", "correct", "confidence")


def map_csv(coords: np.ndarray, y_true: np.ndarray, probabilities: np.ndarray, class_names: Sequence[str]) -> str:
    names = [sanitize(n) for n in class_names]
    pred = probabilities.argmax(axis=1)
    conf = probabilities[np.arange(len(pred)), pred]
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for i, ((x, y), t, p, c) in enumerate(zip(coords.tolist(), y_true.tolist(), pred.tolist(), conf.tolist())):
        writer.writerow([i, f"{x:.6g}", f"{y:.6g}", names[t], names[p], "yes" if t == p else "no", f"{c:.4f}"])
    return out.getvalue()


def write_map_csv(path: str | os.PathLike, coords: np.ndarray, y_true: np.ndarray, probabilities: np.ndarray,
                  class_names: Sequence[str]) -> None:
    """`map_csv` written atomically."""
    write_text_atomic(path, map_csv(np.asarray(coords), np.asarray(y_true).reshape(-1).astype(np.int64),
                                    np.asarray(probabilities), class_names))
