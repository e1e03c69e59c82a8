"""One image file's bytes made into uint8 pixels of a target size: the one decoder of the workbench.

Any format Pillow reads among PILLOW_FORMATS (the first frame of animations), EXIF orientation
applied, colours as `colour` makes them, fitted as `fit` says. Memory and time stay bounded: a JPEG
much larger than needed is decoded at reduced size by the codec (the oversampling rule in `_draft`),
and no image is decoded above MAX_DECODE_PIXELS. Plain JPEGs already at the target size take
`jpeg_fast`. Failures are ImageSkipped with a short reason.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from workbench.core.files import open_regular_file
from workbench.core.text import sanitize

from .colour import ALPHA_MODES, GRAY_MODES, orientation, to_8bit_colour, turn_upright
from .errors import ImageSkipped
from .fit import DecodeTarget, fit_pixels
from .jpeg_fast import decode_plain_jpeg

# The readers Pillow may use: the formats we advertise (JPEG includes cameras' MPO). Pillow's others include
# EPS, which runs Ghostscript on the file.
PILLOW_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM")
# Pixels Pillow may decode for one image (after a JPEG's reduced-size decoding): up to 4 bytes a
# pixel, so ≤ 256 MB per decoding worker; a 64-megapixel photo is the largest common camera size.
MAX_DECODE_PIXELS = 64_000_000
# JPEGs are decoded at reduced size down to this many times the target, then resized with LANCZOS:
# the codec's reduction is fast, the last resize keeps the quality.
OVERSAMPLE = 2


@dataclass(frozen=True)
class ImageHeader:
    """What an image file's header says, before any pixel is decoded."""

    size: tuple[int, int]  # (width, height) of the picture, upright
    mode: str  # Pillow's mode ("RGB", "L", "RGBA", "I;16", "CMYK", ...)
    transparent: bool  # has an alpha channel or a transparent colour

    @property
    def gray(self) -> bool:
        return self.mode in GRAY_MODES


def decode_image(data: bytes, target: DecodeTarget, out: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """(uint8 height × width × channels pixels, whether the source was grayscale) for one file's bytes.

    With ``out`` (a writable array of that shape) the pixels are written there and ``out`` returned.
    Raises ImageSkipped with a short reason for files that are not readable images.
    """
    if out is None:
        out = np.empty((target.height, target.width, target.channels), np.uint8)
    gray = decode_plain_jpeg(data, target, out)
    if gray is None:
        pixels, gray = _decode_general(data, target)
        out[...] = pixels
    return out, gray


def read_header(source: bytes | BinaryIO) -> ImageHeader:
    """The header of an image file (its bytes, or an open binary file: only the header is read).
    Raises ImageSkipped with a short reason."""
    with _reading():
        img = _open(source)
        w, h = img.size
        if orientation(img) in (5, 6, 7, 8):
            w, h = h, w
        return ImageHeader((w, h), img.mode, img.mode in ALPHA_MODES or "transparency" in img.info)


def probe_image(path: str) -> tuple[int, int, bool] | None:
    """(width, height, grayscale?) of an image file, upright, from its header; None if unreadable."""
    try:
        with open_regular_file(path, "image") as fh:
            header = read_header(fh)
    except Exception:  # noqa: BLE001 - an unreadable file is reported by the decoding pass
        return None
    return header.size[0], header.size[1], header.gray


def _open(source: bytes | BinaryIO):
    img = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source, formats=PILLOW_FORMATS)
    img.seek(0)  # animated GIF/WebP, multi-page TIFF: the first frame
    return img


def _decode_general(data: bytes, target: DecodeTarget) -> tuple[np.ndarray, bool]:
    with _reading():
        img = _open(data)
        mode = img.mode
        turn = orientation(img)
        claimed = img.size[0] * img.size[1]
        if img.format in ("JPEG", "MPO"):
            _draft(img, target, swapped=turn in (5, 6, 7, 8))
        if img.size[0] * img.size[1] > MAX_DECODE_PIXELS:
            raise _too_many_pixels(claimed)
        img.load()
        img = turn_upright(img, turn)
        pixels = fit_pixels(to_8bit_colour(img, target.channels), target)
    return pixels, mode in GRAY_MODES


def _draft(img, target: DecodeTarget, *, swapped: bool) -> None:
    """Let the JPEG codec decode at 1/2, 1/4 or 1/8 size while that stays ≥ OVERSAMPLE × what the fit
    keeps of the target: both sides for crop and stretch, the fitted-in side for pad."""
    tw, th = (target.height, target.width) if swapped else (target.width, target.height)
    w, h = img.size
    scale = (min if target.fit == "pad" else max)(tw / w, th / h) * OVERSAMPLE
    if scale < 0.5:
        img.draft(None, (math.ceil(w * scale), math.ceil(h * scale)))


def _too_many_pixels(pixels: int | None) -> ImageSkipped:
    has = f"{pixels / 1e6:,.0f} megapixels, more than" if pixels else "more than"
    return ImageSkipped(f"{has} the {MAX_DECODE_PIXELS // 1_000_000} megapixels an image may have", verb="has")


@contextlib.contextmanager
def _reading():
    """Pillow's many ways of failing on a file, as ImageSkipped with a short reason."""
    try:
        with warnings.catch_warnings():
            # Our own pixel cap replaces Pillow's warning for large (not too large) images.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    except UnidentifiedImageError:
        raise ImageSkipped("not an image file that can be read (PNG, JPEG, BMP, GIF, TIFF or WebP)") from None
    except Image.DecompressionBombError as exc:
        # Pillow refuses before we see the size; its message holds the pixel count.
        count = re.search(r"\((\d+) pixels\)", str(exc))
        raise _too_many_pixels(int(count.group(1)) if count else None) from None
    except MemoryError:
        raise ImageSkipped("too large to fit in memory") from None
    except (OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError, KeyError) as exc:
        detail = sanitize(str(exc).strip().rstrip(":.") or type(exc).__name__, 120)
        raise ImageSkipped(f"damaged or truncated ({detail})") from None
