"""Reading the user's own images (PNG, JPEG, BMP, GIF, TIFF, WebP ...) as uint8 RGB, and fitting them to a model.

Any mode Pillow opens becomes H x W x 3 uint8: grayscale is repeated, transparency is composited on
white, 16-bit and float images are scaled down to 8 bits, palettes expanded, camera rotation applied.
Errors are `ImageReadError` with one sentence that names the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


class ImageReadError(ValueError):
    """An image that cannot be read or used; the message is one readable sentence naming the file."""


@dataclass(frozen=True)
class ImageReadResult:
    path: str
    image: np.ndarray | None  # uint8 H x W x 3, or None when it could not be read
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _to_8bit(arr: np.ndarray) -> np.ndarray:
    """High-bit-depth or float pixels scaled to 0..255."""
    if arr.dtype == np.uint8:
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        arr = np.nan_to_num(arr.astype(np.float64))
        top = 1.0 if arr.max(initial=0.0) <= 1.0 else 255.0  # float images are 0..1 or 0..255
        return np.clip(np.round(arr / top * 255.0), 0, 255).astype(np.uint8)
    peak = int(arr.max(initial=0))
    if peak <= 255 and arr.dtype != np.uint16:
        return arr.astype(np.uint8)
    full = 65535 if peak <= 65535 else peak  # 16-bit data uses the whole 16-bit range
    return np.round(arr.astype(np.float64) * (255.0 / full)).astype(np.uint8)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """The image at `path` as uint8 H x W x 3 RGB; raises ImageReadError with a sentence."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = os.fspath(path)
    name = Path(path).name
    if not os.path.exists(path):
        raise ImageReadError(f"There is no file at {path}.")
    if os.path.isdir(path):
        raise ImageReadError(f"{name} is a folder, not an image.")
    try:
        with Image.open(path) as img:
            img.seek(0)  # animated GIF/WebP: the first frame
            img.load()
            img = ImageOps.exif_transpose(img) or img  # photos taken sideways come out upright
            return _as_rgb(img)
    except UnidentifiedImageError:
        raise ImageReadError(f"{name} is not an image file that can be read (PNG, JPEG, BMP, GIF, TIFF or WebP).") from None
    except Image.DecompressionBombError:
        raise ImageReadError(f"{name} is too large to open safely (over {Image.MAX_IMAGE_PIXELS:,} pixels).") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageReadError(f"{name} could not be read: it looks damaged or truncated ({exc}).") from None
    except MemoryError:
        raise ImageReadError(f"{name} is too large to fit in memory.") from None


def _as_rgb(img) -> np.ndarray:
    from PIL import Image

    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        gray = _to_8bit(np.asarray(img))
        return np.repeat(gray[..., None], 3, axis=2)
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("LA", "La", "PA", "RGBa") or (mode in ("L", "RGB") and "transparency" in img.info):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        # Transparent areas become white, as they look in most viewers.
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    if img.mode != "RGB":
        img = img.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV
    arr = np.asarray(img)
    if arr.dtype != np.uint8:
        arr = _to_8bit(arr)
    return np.ascontiguousarray(arr)


def read_images(paths: Iterable[str | os.PathLike]) -> list[ImageReadResult]:
    """One result per path, in order; an unreadable file gives an error result and the rest still run."""
    results = []
    for p in paths:
        try:
            results.append(ImageReadResult(os.fspath(p), read_image(p)))
        except ImageReadError as exc:
            results.append(ImageReadResult(os.fspath(p), None, str(exc)))
    return results


def fit_to_input(image: np.ndarray, shape: tuple, *, fit: str = "crop") -> np.ndarray:
    """Resizes a uint8 H x W x 3 (or H x W) image to a model input (h, w, c) as uint8, antialiased.

    fit="crop" cuts the centre to the target aspect ratio first (nothing is stretched);
    fit="stretch" uses the whole image. c may be 3 (RGB) or 1 (luma); None dims are kept.
    """
    from PIL import Image

    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)) or arr.size == 0:
        raise ImageReadError(f"An image must be H×W or H×W×3 pixels; got shape {arr.shape}.")
    if fit not in ("crop", "stretch"):
        raise ImageReadError(f"fit must be 'crop' or 'stretch', not {fit!r}.")
    if len(shape) != 3:
        raise ImageReadError(f"The model input {tuple(shape)} is not an image shape (height, width, channels).")
    h, w, c = shape
    src_h, src_w = arr.shape[:2]
    h = src_h if h is None else int(h)
    w = src_w if w is None else int(w)
    c = 3 if c is None else int(c)
    if c not in (1, 3):
        raise ImageReadError(f"The model takes {c}-channel inputs, which images cannot provide.")
    img = Image.fromarray(_to_8bit(arr)).convert("RGB")
    if fit == "crop":
        target = w / h
        if src_w / src_h > target:  # too wide: keep the centre columns
            new_w = max(1, round(src_h * target))
            left = (src_w - new_w) // 2
            img = img.crop((left, 0, left + new_w, src_h))
        elif src_w / src_h < target:
            new_h = max(1, round(src_w / target))
            top = (src_h - new_h) // 2
            img = img.crop((0, top, src_w, top + new_h))
    if img.size != (w, h):
        # LANCZOS antialiases when shrinking; reducing_gap box-reduces huge images first (fast, same look).
        img = img.resize((w, h), Image.LANCZOS, reducing_gap=3.0)
    if c == 1:
        return np.asarray(img.convert("L"))[..., None]
    return np.ascontiguousarray(np.asarray(img))
