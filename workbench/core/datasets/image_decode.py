"""One image file made into the dataset's uint8 pixels: any mode, camera rotation, crop or pad, one size.

The rules are those of `workbench.core.images` (what `classify` does to a photo): transparency is
composited on white, 16-bit and float pixels are scaled to 8 bits, palettes expanded, EXIF
orientation applied, JPEGs decoded at reduced size when much larger than needed, LANCZOS resizing.
Plain JPEGs already at the target size (the bulk of a CIFAR-like folder) take a fast path: the
JPEG codec writes straight into the dataset's row, skipping Pillow's Python-level header parsing:
through simplejpeg (libjpeg-turbo, ~10 µs for a 32×32 image) when it is installed, else through
Pillow's own decoder object (~30 µs). The pixels are identical (tests compare all paths).
"""

from __future__ import annotations

import io
import math
import os
import stat
import threading
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

try:  # libjpeg-turbo called straight from numpy: a third of the cost of Pillow's decoder object per image
    import simplejpeg
except ImportError:  # optional: Pillow's decoder gives the same pixels, only slower
    simplejpeg = None

from workbench.core.files import open_regular_file
from workbench.core.images import PILLOW_FORMATS, turn_upright

from .folder_scan import MAX_IMAGE_FILE_BYTES

# Pixels Pillow may decode for one image (after a JPEG's reduced-size decoding): up to 4 bytes a
# pixel, so ≤ 256 MB per decoding worker; a 64-megapixel photo is the largest common camera size.
MAX_DECODE_PIXELS = 64_000_000
# JPEGs are decoded at reduced size down to this many times the target, then resized with LANCZOS:
# the codec's reduction is fast, the last resize keeps the quality (as workbench.core.images does).
OVERSAMPLE = 2
FIT_MODES = ("crop", "pad")
COLOR_MODES = ("rgb", "grayscale")

_EXIF_ORIENTATION = 0x0112
_GRAY_MODES = frozenset(("1", "L", "LA", "La", "I", "F", "I;16", "I;16B", "I;16L", "I;16N"))
_DEEP_MODES = frozenset(("I", "F", "I;16", "I;16B", "I;16L", "I;16N"))
_SOF_MARKERS = frozenset((0xC0, 0xC1, 0xC2))  # baseline, extended and progressive Huffman JPEG
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)


class ImageSkipped(Exception):
    """This file cannot be used; the message is a short reason (the caller names the file)."""


@dataclass(frozen=True)
class DecodeTarget:
    """What every image becomes: height × width × channels (1 or 3), fitted by "crop" or "pad"."""

    height: int
    width: int
    channels: int
    fit: str


def read_image_bytes(path: str, dir_fd: int | None = None, size: int | None = None) -> bytes:
    """The file's bytes; refuses pipes and devices (even if swapped in after the scan) and oversized files.

    ``dir_fd``: an open folder ``path`` is relative to (the kernel then looks up only the last parts).
    ``size``: the size the scan saw; a read that returns exactly that many bytes needs no fstat (a
    quarter of the cost of reading a small file). Anything else (a pipe or device swapped in, a file
    that changed) is read again the careful way below.
    """
    # O_NONBLOCK: a FIFO put in place of the file after the scan makes open() return, not wait forever;
    # reads of a regular file ignore the flag.
    try:
        fd = os.open(path, _READ_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        raise ImageSkipped(f"cannot be read ({exc.strerror})") from None
    if size is not None and 0 < size <= MAX_IMAGE_FILE_BYTES:
        try:
            data = os.read(fd, size + 1)  # never blocks (O_NONBLOCK) and never reads past the cap
        except OSError:
            data = b""
        finally:
            os.close(fd)
        if len(data) == size:
            return data
        return read_image_bytes(path, dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ImageSkipped("not a regular file (a pipe, socket or device)")
        if st.st_size > MAX_IMAGE_FILE_BYTES:
            raise ImageSkipped(f"larger than the {MAX_IMAGE_FILE_BYTES // 2**20} MB an image file may have")
        data = os.read(fd, st.st_size + 1)  # one byte more tells a file that grew since its stat
        while len(data) < st.st_size:  # a short read (network file systems): read on to the size
            part = os.read(fd, st.st_size + 1 - len(data))
            if not part:
                break
            data += part
    except OSError as exc:
        raise ImageSkipped(f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if not data:
        raise ImageSkipped("an empty file (0 bytes)")
    if len(data) > MAX_IMAGE_FILE_BYTES:
        raise ImageSkipped(f"larger than the {MAX_IMAGE_FILE_BYTES // 2**20} MB an image file may have")
    return data


def decode_image(data: bytes, target: DecodeTarget, out: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """(uint8 height × width × channels pixels, whether the source was grayscale) for one file's bytes.

    With ``out`` (a writable array of that shape) the pixels are written there and ``out`` returned.
    Raises ImageSkipped with a short reason for files that are not readable images.
    """
    if out is None:
        out = np.empty((target.height, target.width, target.channels), np.uint8)
    gray = _decode_plain_jpeg(data, target, out)
    if gray is None:
        pixels, gray = _decode_general(data, target)
        out[...] = pixels
    return out, gray


# ---- the general path: any format Pillow reads -------------------------------------------------------

def _decode_general(data: bytes, target: DecodeTarget) -> tuple[np.ndarray, bool]:
    try:
        with warnings.catch_warnings():
            # Our own pixel cap below replaces Pillow's warning for large (not too large) images.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=PILLOW_FORMATS)
            img.seek(0)  # animated GIF/WebP, multi-page TIFF: the first frame
            mode = img.mode
            orientation = _orientation(img)
            if img.format in ("JPEG", "MPO"):
                _draft(img, target, swapped=orientation in (5, 6, 7, 8))
            if img.size[0] * img.size[1] > MAX_DECODE_PIXELS:
                raise ImageSkipped(f"{img.size[0]}×{img.size[1]} pixels, more than the "
                                   f"{MAX_DECODE_PIXELS // 1_000_000} megapixels an image may have")
            img.load()
        img = turn_upright(img, orientation)
        img = _to_8bit_colour(img, target.channels)
        pixels = _fit(img, target)
    except ImageSkipped:
        raise
    except UnidentifiedImageError:
        raise ImageSkipped("not an image file that can be read (PNG, JPEG, BMP, GIF, TIFF or WebP)") from None
    except Image.DecompressionBombError:
        raise ImageSkipped(f"more than the {MAX_DECODE_PIXELS // 1_000_000} megapixels an image may have") from None
    except MemoryError:
        raise ImageSkipped("too large to fit in memory") from None
    except (OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError, KeyError) as exc:
        detail = str(exc).strip().rstrip(":.") or type(exc).__name__
        raise ImageSkipped(f"damaged or truncated ({detail[:120]})") from None
    return pixels, mode in _GRAY_MODES


def _orientation(img) -> int:
    try:
        return int(img.getexif().get(_EXIF_ORIENTATION, 1) or 1)
    except Exception:  # noqa: BLE001 - broken EXIF only means no rotation
        return 1


def _draft(img, target: DecodeTarget, *, swapped: bool) -> None:
    """Let the JPEG codec decode at 1/2, 1/4 or 1/8 size while that stays ≥ OVERSAMPLE × the target."""
    tw, th = (target.height, target.width) if swapped else (target.width, target.height)
    w, h = img.size
    scale = (max if target.fit == "crop" else min)(tw / w, th / h) * OVERSAMPLE
    if scale < 0.5:
        img.draft(None, (math.ceil(w * scale), math.ceil(h * scale)))


def _to_8bit_colour(img, channels: int):
    """Any Pillow mode as 8-bit "L" (channels 1) or "RGB" (channels 3)."""
    mode = img.mode
    if mode in _DEEP_MODES:
        img = Image.fromarray(_deep_to_8bit(np.asarray(img), mode))
    elif mode == "1":
        img = img.convert("L")
    elif mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("LA", "La", "PA", "RGBa") or (mode in ("L", "RGB") and "transparency" in img.info):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        # Transparent areas become white, as most viewers show them (and as classify does).
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    wanted = "L" if channels == 1 else "RGB"
    return img if img.mode == wanted else img.convert(wanted)  # CMYK, YCbCr, LAB, HSV, L<->RGB


def _deep_to_8bit(arr: np.ndarray, mode: str) -> np.ndarray:
    """16-bit, 32-bit or float grayscale scaled to 0..255, a band of rows at a time (a 24-megapixel
    16-bit scan would otherwise take four float64 copies, 0.5 GB)."""
    if mode == "F":
        top = 1.0 if np.nanmax(arr, initial=0.0) <= 1.0 else 255.0  # float images are 0..1 or 0..255
        scale, clip = 255.0 / top, True
    else:
        peak = int(arr.max(initial=0))
        if mode == "I" and peak <= 255:
            return arr.astype(np.uint8)
        scale, clip = 255.0 / (65535 if peak <= 65535 else peak), False  # 16-bit data uses the whole range
    out = np.empty(arr.shape, np.uint8)
    band = max(1, (1 << 20) // max(1, arr.shape[1]))  # about a million pixels (8 MB of float64) at a time
    for top_row in range(0, arr.shape[0], band):
        rows = np.round(np.nan_to_num(arr[top_row:top_row + band].astype(np.float64)) * scale)
        out[top_row:top_row + band] = np.clip(rows, 0, 255) if clip else rows
    return out


def _fit(img, target: DecodeTarget) -> np.ndarray:
    """Centre-crop (or letterbox with black) to the target's aspect ratio and resize with LANCZOS."""
    tw, th = target.width, target.height
    w, h = img.size
    if (w, h) != (tw, th):
        if target.fit == "crop":
            if w * th > h * tw:  # too wide: keep the centre columns
                keep = h * tw / th
                box = ((w - keep) / 2, 0, (w + keep) / 2, h)
            else:
                keep = w * th / tw
                box = (0, (h - keep) / 2, w, (h + keep) / 2)
            img = img.resize((tw, th), Image.LANCZOS, box=box, reducing_gap=3.0)
        else:
            scale = min(tw / w, th / h)
            size = (max(1, min(tw, round(w * scale))), max(1, min(th, round(h * scale))))
            small = img.resize(size, Image.LANCZOS, reducing_gap=3.0) if size != (w, h) else img
            img = Image.new(img.mode, (tw, th), 0)
            img.paste(small, ((tw - size[0]) // 2, (th - size[1]) // 2))
    return np.asarray(img).reshape(th, tw, target.channels)


# ---- the fast path: a plain JPEG already at the target size ------------------------------------------

_scratch = threading.local()  # per decoding thread: a reusable RGBX buffer and the image sharing it


def _decode_plain_jpeg(data: bytes, target: DecodeTarget, out: np.ndarray) -> bool | None:
    """Decode a baseline/progressive JPEG with no EXIF or Adobe block, exactly target-sized, into ``out``.

    Returns whether it was grayscale, or None (``out`` untouched or to be overwritten) when in any
    doubt (other markers, a decoder complaint): the general path then decides.
    """
    header = _jpeg_header(data)
    if header is None:
        return None
    h, w, components = header
    if (h, w) != (target.height, target.width) or components not in (1, 3):
        return None
    if components == 3 and target.channels == 1:
        return None  # colour to luma: Pillow's own convert in the general path
    if simplejpeg is not None:
        try:
            # Strict: a libjpeg warning (truncated, corrupt data) is an error; the general path then reports it.
            simplejpeg.decode_jpeg(data, "GRAY" if target.channels == 1 else "RGB", buffer=out)
        except Exception:  # noqa: BLE001 - the general path reports what is wrong
            return None
        return components == 1
    raw = "L" if components == 1 else "RGB"
    try:
        buffer, img = _shared_image(raw, w, h)
        decoder = Image._getdecoder(raw, "jpeg", (raw, ""), ())
        decoder.setimage(img.im, (0, 0, w, h))
        done, error = decoder.decode(data)
        decoder.cleanup()
    except Exception:  # noqa: BLE001 - the general path reports what is wrong
        return None
    if done >= 0 or error < 0:
        return None  # not finished (truncated) or damaged
    out[...] = buffer[..., :3] if components == 3 else buffer  # gray into RGB repeats the channel
    return components == 1


def _shared_image(raw: str, w: int, h: int):
    """(numpy buffer, Pillow image writing into it) for this thread; Pillow keeps RGB as 4 bytes a pixel."""
    key = (raw, w, h)
    if getattr(_scratch, "key", None) != key:
        mode = "L" if raw == "L" else "RGBX"
        buffer = np.empty((h, w, 1 if raw == "L" else 4), np.uint8)
        _scratch.key, _scratch.pair = key, (buffer, Image.frombuffer(mode, (w, h), buffer, "raw", mode, 0, 1))
    return _scratch.pair


# The bytes of the last plain JPEG up to the end of its frame header, and what they said: files from one
# camera or encoder share them (same tables, same size), and a prefix compare costs 0.1 µs, the walk 2 µs.
_last_header: tuple[bytes, tuple[int, int, int] | None] = (b"", None)


def _jpeg_header(data: bytes) -> tuple[int, int, int] | None:
    """(height, width, components) from the SOF marker; None when not a plain JFIF/baseline JPEG."""
    global _last_header
    known, header = _last_header  # one tuple read: threads may replace it meanwhile, never half of it
    if known and data.startswith(known):
        return header  # the walk below reads nothing past these bytes, so it would say the same
    if data[:2] != b"\xff\xd8":
        return None
    i, end = 2, len(data)
    while i + 4 <= end:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0xE1, 0xEE):  # EXIF (may rotate) or Adobe (CMYK, inverted): general path
            return None
        if marker in _SOF_MARKERS:
            if i + 10 > end:
                return None
            header = ((data[i + 5] << 8) | data[i + 6], (data[i + 7] << 8) | data[i + 8], data[i + 9])
            _last_header = (data[:i + 10], header)
            return header
        if 0xC3 <= marker <= 0xCF or marker == 0xDA:
            return None  # lossless/arithmetic coding, or scan data before a frame header
        i += 2 + ((data[i + 2] << 8) | data[i + 3])
    return None


# ---- headers only, for the default size and colour --------------------------------------------------

def probe_image(path: str) -> tuple[int, int, bool] | None:
    """(width, height, grayscale?) of an image file, upright, from its header; None if unreadable."""
    try:
        with open_regular_file(path, "image") as fh, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(fh, formats=PILLOW_FORMATS)
            w, h = img.size
            if _orientation(img) in (5, 6, 7, 8):
                w, h = h, w
            return w, h, img.mode in _GRAY_MODES
    except Exception:  # noqa: BLE001 - an unreadable file is reported by the decoding pass
        return None
