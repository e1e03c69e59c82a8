"""Fitting a picture to a model's input: the resize rules (crop, pad, stretch) and input shapes.

One rule for every caller: the folder import, classify (files and in-memory images) and evaluate
fit a picture the same way, so a model sees the pixels it was trained on. Resizing is LANCZOS
(antialiased when shrinking); "crop" cuts the centre to the target's aspect ratio, "pad" adds
black bars, "stretch" uses the whole picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image

from .colour import colour_steps, to_8bit, to_8bit_colour
from .errors import ImageReadError

# The resize rules, also what a dataset's registry entry and a model file record (older files hold
# "crop" or "pad", which stay valid).
FIT_MODES = ("crop", "pad", "stretch")
FIT_WORDS = {"crop": "centre crop", "pad": "padding with black bars", "stretch": "stretching"}
FITTED_WORDS = {"crop": "centre-cropped", "pad": "padded with black bars", "stretch": "stretched"}
# Largest model input (height × width) images are fitted to: 2048 × 2048 is one 50 MB float32 image;
# a fully convolutional model declaring 50000×50000 would otherwise need gigabytes for every image.
# The model loader refuses such files with this same cap (modelio/limits.py).
MAX_MODEL_INPUT_PIXELS = 2048 * 2048


@dataclass(frozen=True)
class DecodeTarget:
    """What an image becomes: height × width × channels (1 or 3), fitted by one of FIT_MODES."""

    height: int
    width: int
    channels: int
    fit: str


def check_fit(fit: str) -> None:
    """Raises ImageReadError unless `fit` is one of FIT_MODES."""
    if fit not in FIT_MODES:
        raise ImageReadError(f"fit must be one of {', '.join(FIT_MODES)}, not {fit!r}.")


def model_image_shape(shape: Sequence, default: int = 32) -> tuple[int, int, int]:
    """(h, w, c) images are fitted to for a model input shape; None sizes (fully convolutional) become
    `default` (CIFAR's 32). Raises ImageReadError for inputs images cannot be fitted to."""
    shape = tuple(shape)
    if len(shape) != 3:
        raise ImageReadError(f"The model input {shape} is not an image shape (height, width, channels).")
    h, w, c = shape
    h, w, c = int(h or default), int(w or default), int(c or 3)
    if c not in (1, 3):
        raise ImageReadError(f"The model takes {c}-channel inputs, which images cannot provide.")
    if h * w > MAX_MODEL_INPUT_PIXELS:
        raise ImageReadError(
            f"The model takes {w}×{h}-pixel inputs, more than the {MAX_MODEL_INPUT_PIXELS / 1e6:.0f} megapixels "
            "images are fitted to here."
        )
    return h, w, c


def fit_pixels(img, target: DecodeTarget) -> np.ndarray:
    """uint8 height × width × channels from an 8-bit L or RGB Pillow image (matching target.channels)."""
    tw, th = target.width, target.height
    w, h = img.size
    if (w, h) != (tw, th):
        # reducing_gap: big pictures are box-reduced to 3× the size first (fast), LANCZOS does the rest.
        if target.fit == "crop":
            if w * th > h * tw:  # too wide: keep the centre columns
                keep = h * tw / th
                box = ((w - keep) / 2, 0, (w + keep) / 2, h)
            else:
                keep = w * th / tw
                box = (0, (h - keep) / 2, w, (h + keep) / 2)
            img = img.resize((tw, th), Image.LANCZOS, box=box, reducing_gap=3.0)
        elif target.fit == "pad":
            scale = min(tw / w, th / h)
            size = (max(1, min(tw, round(w * scale))), max(1, min(th, round(h * scale))))
            small = img.resize(size, Image.LANCZOS, reducing_gap=3.0) if size != (w, h) else img
            img = Image.new(img.mode, (tw, th), 0)
            img.paste(small, ((tw - size[0]) // 2, (th - size[1]) // 2))
        else:
            img = img.resize((tw, th), Image.LANCZOS, reducing_gap=3.0)
    return np.asarray(img).reshape(th, tw, target.channels)


def fit_steps(original: tuple[int, int], target: tuple[int, int, int], fit: str, note: str = "") -> list[str]:
    """What fitting a picture `original` = (W, H) big to `target` (h, w, c) by `fit` does, in words;
    `note` ("as in training") is added to the crop or pad step."""
    h, w, _ = target
    ow, oh = original
    steps: list[str] = []
    shown = (ow, oh)  # the picture's size at each step
    tail = f" {note}" if note else ""
    if fit == "crop" and ow * h != oh * w:
        shown = (max(1, round(oh * w / h)), oh) if ow * h > oh * w else (ow, max(1, round(ow * h / w)))
        steps.append(f"centre-cropped {ow}×{oh} to {shown[0]}×{shown[1]}{tail}")
    size = (w, h)
    if fit == "pad" and ow * h != oh * w:
        scale = min(w / ow, h / oh)
        size = (max(1, min(w, round(ow * scale))), max(1, min(h, round(oh * scale))))
    if shown != size:
        verb = "enlarged" if size[0] * size[1] > shown[0] * shown[1] else "resized"
        stretched = " (stretched)" if fit == "stretch" and ow * h != oh * w else ""
        steps.append(f"{verb} {shown[0]}×{shown[1]} to {size[0]}×{size[1]}{stretched}")
    if size != (w, h):
        steps.append(f"padded with black bars to {w}×{h}{tail}")
    return steps


def fit_image(image: np.ndarray, shape: tuple, *, fit: str = "crop") -> tuple[np.ndarray, tuple[str, ...]]:
    """(uint8 model input, steps in words) for an in-memory H x W x 3 (or 4, or H x W) image: the pixels
    a file of the same picture gets. Dimensions the model leaves open (None) keep the image's size.
    Channels become what the model takes (3 RGB or 1 luma). Raises ImageReadError with a sentence."""
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)) or arr.size == 0:
        raise ImageReadError(f"An image must be H×W or H×W×3 pixels; got shape {arr.shape}.")
    check_fit(fit)
    shape = tuple(shape)
    if len(shape) == 3:  # in-memory images keep their own size along dimensions the model leaves open
        shape = (shape[0] or arr.shape[0], shape[1] or arr.shape[1], shape[2])
    h, w, c = model_image_shape(shape)
    img = Image.fromarray(np.ascontiguousarray(to_8bit(arr)))
    mode = img.mode  # L, RGB or RGBA
    fitted = fit_pixels(to_8bit_colour(img, c), DecodeTarget(h, w, c, fit))
    steps = colour_steps(mode, mode == "RGBA", c) + fit_steps((arr.shape[1], arr.shape[0]), (h, w, c), fit)
    return fitted, tuple(steps)
