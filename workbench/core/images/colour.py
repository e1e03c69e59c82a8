"""Any Pillow mode made 8-bit L or RGB, the camera's rotation undone, and what that did in words.

Transparent areas become white (as most viewers show them), 16-bit and float pixels are scaled to
8 bits over their range, palettes are expanded, CMYK/YCbCr/LAB/HSV converted.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

COLOR_MODES = ("rgb", "grayscale")
GRAY_MODES = frozenset(("1", "L", "LA", "La", "I", "F", "I;16", "I;16B", "I;16L", "I;16N"))
DEEP_MODES = {"I;16": 16, "I;16B": 16, "I;16L": 16, "I;16N": 16, "I": 32, "F": 32}  # mode: bits a pixel
ALPHA_MODES = frozenset(("RGBA", "LA", "La", "PA", "RGBa"))
_COLOUR_MODES = ("RGB", "RGBA", "P", "PA", "RGBa")
_EXIF_ORIENTATION = 0x0112
_TURNS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
          5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
          8: Image.Transpose.ROTATE_90}


def orientation(img) -> int:
    """The EXIF orientation tag (1–8) of an opened image; 1 (as stored) when absent or broken."""
    try:
        return int(img.getexif().get(_EXIF_ORIENTATION, 1) or 1)
    except Exception:  # noqa: BLE001 - broken EXIF only means no rotation
        return 1


def turn_upright(img, turn: int):
    """`img` turned the way its EXIF orientation tag (1–8) says the camera was held."""
    method = _TURNS.get(turn)
    return img.transpose(method) if method is not None else img


def to_8bit(arr: np.ndarray, *, sixteen_bit: bool = False) -> np.ndarray:
    """uint8 pixels for an array of any dtype: floats from 0..1 (or 0..255 when larger), 16-bit data
    (``sixteen_bit`` or uint16) over 0..65535, other integers as they are up to 255, else over 0..65535
    (or their peak). A band of rows at a time: a 24-megapixel 16-bit scan would otherwise take four
    float64 copies, 0.5 GB."""
    if arr.dtype == np.uint8:
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        top = 1.0 if np.nanmax(arr, initial=0.0) <= 1.0 else 255.0  # float images are 0..1 or 0..255
        scale = 255.0 / top
    else:
        peak = int(arr.max(initial=0))
        if peak <= 255 and not sixteen_bit and arr.dtype != np.uint16:
            return np.clip(arr, 0, 255).astype(np.uint8)
        scale = 255.0 / (65535 if peak <= 65535 else peak)  # 16-bit data uses the whole 16-bit range
    out = np.empty(arr.shape, np.uint8)
    band = max(1, (1 << 20) // (int(np.prod(arr.shape[1:])) or 1))  # about a million values at a time
    for top_row in range(0, arr.shape[0], band):
        rows = np.round(np.nan_to_num(arr[top_row:top_row + band].astype(np.float64)) * scale)
        out[top_row:top_row + band] = np.clip(rows, 0, 255)
    return out


def to_8bit_colour(img, channels: int):
    """Any Pillow image as 8-bit "L" (channels 1) or "RGB" (channels 3)."""
    mode = img.mode
    if mode in DEEP_MODES:
        img = Image.fromarray(to_8bit(np.asarray(img), sixteen_bit=mode.startswith("I;16")))
    elif mode == "1":
        img = img.convert("L")
    elif mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("LA", "La", "PA", "RGBa") or (mode in ("L", "RGB") and "transparency" in img.info):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        # Transparent areas become white, as most viewers show them.
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    wanted = "L" if channels == 1 else "RGB"
    return img if img.mode == wanted else img.convert(wanted)  # CMYK, YCbCr, LAB, HSV, L<->RGB


def colour_steps(mode: str, transparent: bool, channels: int) -> list[str]:
    """What turning an image of Pillow mode `mode` into the model's channels does, in words."""
    steps = []
    if transparent:
        steps.append("filled transparent areas with white")
    if mode in DEEP_MODES:
        steps.append(f"scaled {DEEP_MODES[mode]}-bit pixels to 8 bits")
    gray = mode in GRAY_MODES
    if channels == 1 and not gray:
        shown = "colour" if mode in _COLOUR_MODES else mode
        steps.append(f"converted {shown} to grayscale (the model takes 1 channel)")
    elif channels == 3 and gray:
        steps.append("repeated the grayscale picture in 3 channels (the model takes RGB)")
    elif channels == 3 and mode not in _COLOUR_MODES:
        steps.append(f"converted {mode} colours to RGB")
    return steps
