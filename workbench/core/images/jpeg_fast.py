"""The fast path of `decode`: a plain JPEG already at the target size (the bulk of a CIFAR-like folder).

The JPEG codec writes straight into the caller's array, skipping Pillow's Python-level header
parsing: through simplejpeg (libjpeg-turbo, ~10 µs for a 32×32 image) when it is installed, else
through Pillow's own decoder object (~30 µs). The pixels are those of the general path (tests
compare them); anything unusual is left to it.
"""

from __future__ import annotations

import threading

import numpy as np
from PIL import Image

try:  # libjpeg-turbo called straight from numpy: a third of the cost of Pillow's decoder object per image
    import simplejpeg
except ImportError:  # optional: Pillow's decoder gives the same pixels, only slower
    simplejpeg = None

from .fit import DecodeTarget

_SOF_MARKERS = frozenset((0xC0, 0xC1, 0xC2))  # baseline, extended and progressive Huffman JPEG
_scratch = threading.local()  # per decoding thread: a reusable RGBX buffer and the image sharing it


def decode_plain_jpeg(data: bytes, target: DecodeTarget, out: np.ndarray) -> bool | None:
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
