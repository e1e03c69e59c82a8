"""Files for an explanation: the overlay as PNG bytes, the raw map as .npy bytes, and file stems made
unique. Bytes only; the caller writes them atomically (`core/atomic_write`)."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from .overlay import enlarge, overlay

# Overlays of small inputs are enlarged (pixels as blocks, the map smooth) to at least this many pixels
# on the longer side: a 32×32 overlay is too small to look at.
MIN_OVERLAY_SIDE = 224


def overlay_png(image_uint8: np.ndarray, cam: np.ndarray, *, opacity: float = 0.5,
                min_side: int = MIN_OVERLAY_SIDE) -> bytes:
    """PNG bytes of the image (as the model saw it) blended with its map, enlarged by a whole factor."""
    from PIL import Image

    image = np.asarray(image_uint8)
    factor = max(1, math.ceil(min_side / max(image.shape[0], image.shape[1])))
    blended = overlay(enlarge(image, factor), cam, opacity)
    out = io.BytesIO()
    Image.fromarray(blended, "RGB").save(out, format="PNG", compress_level=3)
    return out.getvalue()


def map_npy(cam: np.ndarray) -> bytes:
    """.npy bytes of one map: float32 H×W, values in [0, 1]."""
    out = io.BytesIO()
    np.save(out, np.ascontiguousarray(cam, dtype=np.float32), allow_pickle=False)
    return out.getvalue()


def unique_stems(paths: Iterable[str | os.PathLike]) -> list[str]:
    """Each path's file stem; a stem seen before (a/cat.png, b/cat.jpg) gets -2, -3, … in input order,
    skipping any name already taken, so no two images write the same files."""
    taken: set[str] = set()
    stems = []
    for p in paths:
        stem = Path(os.fspath(p)).stem or "image"
        name, n = stem, 1
        while name.casefold() in taken:  # casefold: cat.png and Cat.png clash on macOS and Windows disks
            n += 1
            name = f"{stem}-{n}"
        taken.add(name.casefold())
        stems.append(name)
    return stems
