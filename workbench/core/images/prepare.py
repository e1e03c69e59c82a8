"""One image file made ready for a model, with every step taken told in words (what classify shows).

The pixels are those `decode` gives the folder import for the same file and rule, so a model trained
on an imported folder sees a new photo exactly as it saw its training images. Only this file is
decoded, at reduced size where the format allows (JPEG): peak memory is about one decoded picture.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench.core.text import sanitize

from .colour import colour_steps
from .decode import ImageHeader, decode_image, read_header
from .errors import ImageReadError, ImageSkipped
from .fit import DecodeTarget, check_fit, fit_steps, model_image_shape
from .read import read_image_file


@dataclass(frozen=True)
class PreparedImage:
    """One image file made ready for a model, and what was done to it."""

    path: str
    model_input: np.ndarray = field(repr=False)  # uint8 h x w x c, exactly what the model is fed
    steps: tuple[str, ...]  # what was done, in words ("centre-cropped 4000×3000 to 3000×3000", ...)
    original_size: tuple[int, int]  # (width, height) of the picture, upright
    original_mode: str  # Pillow's mode of the file ("RGB", "L", "RGBA", "I;16", "CMYK", ...)
    preview: np.ndarray | None = field(default=None, repr=False)  # small uint8 RGB copy of the whole picture


def prepare_image(path: str | os.PathLike, shape: tuple, *, fit: str = "crop", preview_size: int = 0,
                  fit_note: str = "") -> PreparedImage:
    """The image file at `path` fitted to a model input `shape` (h, w, c) by `fit`, with what was done
    in words; `fit_note` ("as in training") is added to the crop or pad step. `preview_size` > 0 adds a
    copy of the whole picture at most that many pixels on its longer side. Raises ImageReadError with
    one sentence naming the file."""
    path = os.fspath(path)
    check_fit(fit)
    h, w, c = model_image_shape(shape)
    data = read_image_file(path)
    try:
        header = read_header(data)
        fitted, _ = decode_image(data, DecodeTarget(h, w, c, fit))
        preview = decode_image(data, _preview_target(header, preview_size))[0] if preview_size > 0 else None
    except ImageSkipped as exc:
        raise ImageReadError(exc.sentence(sanitize(Path(path).name))) from None
    steps = colour_steps(header.mode, header.transparent, c) + fit_steps(header.size, (h, w, c), fit, fit_note)
    return PreparedImage(path, fitted, tuple(steps), header.size, header.mode, preview)


def _preview_target(header: ImageHeader, size: int) -> DecodeTarget:
    """The whole picture, RGB, its longer side at most `size` pixels."""
    w, h = header.size
    scale = min(1.0, size / max(w, h))
    return DecodeTarget(max(1, round(h * scale)), max(1, round(w * scale)), 3, "stretch")
