"""Reading the user's own images (PNG, JPEG, BMP, GIF, TIFF, WebP ...) and fitting them to a model.

Any mode Pillow opens becomes uint8 RGB: grayscale is repeated, transparency is composited on
white, 16-bit and float images are scaled down to 8 bits, palettes expanded, camera rotation applied.
`prepare_image` decodes one file at a time and shrinks it to the model's input right away (JPEGs
are decoded at reduced size), so memory stays bounded whatever the file; it reports every step it
took in words. Errors are `ImageReadError` with one sentence that names the file.
"""

from __future__ import annotations

import io
import math
import os
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from workbench.core.files import NotARegularFileError, check_regular_file, open_regular_file
from workbench.core.text import sanitize

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
FIT_MODES = ("crop", "pad", "stretch")
FIT_WORDS = {"crop": "centre crop", "pad": "padding with black bars", "stretch": "stretching"}

# Pixels of one decoded image: Pillow holds up to 4 bytes a pixel, so ≤ 0.72 GB, and only one image is
# decoded at a time. Same as Pillow's own decompression-bomb limit (2 × Image.MAX_IMAGE_PIXELS).
MAX_IMAGE_PIXELS = 2 * 89_478_485
# An image file larger than the largest image we decode stored uncompressed (4 bytes a pixel) cannot
# be one we use, and reading it would take long.
MAX_IMAGE_FILE_BYTES = 1 << 30
# Largest model input (height × width) images are fitted to: 2048 × 2048 is one 50 MB float32 image;
# a fully convolutional model declaring 50000×50000 would otherwise need gigabytes for every image.
# The model loader refuses such files with this same cap (modelio/limits.py).
MAX_MODEL_INPUT_PIXELS = 2048 * 2048
# Files looked at when a folder is given: enough for any photo collection, and walking stays seconds.
MAX_FOLDER_FILES = 100_000
# Decoded images are box-reduced to at least this many times the target size before the final
# antialiased resize: the reduction is fast, the last step keeps the quality.
OVERSAMPLE = 2
# The readers Pillow may use: the formats we advertise (JPEG includes cameras' MPO). Pillow's others include
# EPS, which runs Ghostscript on the file.
PILLOW_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM")

_EXIF_ORIENTATION = 0x0112
_ALPHA_MODES = ("RGBA", "LA", "La", "PA", "RGBa")
_GRAY_MODES = ("1", "L", "LA", "La", "I", "F", "I;16", "I;16B", "I;16L", "I;16N")
_DEEP_MODES = {"I;16": 16, "I;16B": 16, "I;16L": 16, "I;16N": 16, "I": 32, "F": 32}


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


@dataclass(frozen=True)
class PreparedImage:
    """One image file made ready for a model, and what was done to it."""

    path: str
    model_input: np.ndarray = field(repr=False)  # uint8 h x w x c, exactly what the model is fed
    steps: tuple[str, ...]  # what was done, in words ("centre-cropped 4000×3000 to 3000×3000", ...)
    original_size: tuple[int, int]  # (width, height) of the picture, upright
    original_mode: str  # Pillow's mode of the file ("RGB", "L", "RGBA", "I;16", "CMYK", ...)
    preview: np.ndarray | None = field(default=None, repr=False)  # small uint8 RGB copy of the whole picture


@dataclass(frozen=True)
class ImageFiles:
    """Image files found among the paths a user gave (folders searched), in order."""

    files: tuple[str, ...]
    skipped: int  # files in the folders that are not images (by their suffix)


# ---- finding the files ---------------------------------------------------------------------------

def collect_image_files(paths: Iterable[str | os.PathLike]) -> ImageFiles:
    """Files as given, and for each folder the images inside it (recursively, sorted by path).

    Inside folders only files with an image suffix are taken; the others are counted as skipped.
    Raises ImageReadError for a path that does not exist or is a pipe/device, and for folders
    holding more than MAX_FOLDER_FILES files.
    """
    files: list[str] = []
    skipped = 0
    looked_at = 0
    for given in paths:
        path = os.fspath(given)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise ImageReadError(f"There is no image or folder at {sanitize(path)}.") from None
        except OSError as exc:
            raise ImageReadError(f"{sanitize(path)} cannot be read ({exc.strerror}).") from None
        if stat.S_ISREG(st.st_mode):
            files.append(path)
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise ImageReadError(_not_regular(path))
        found = []
        for root, dirs, names in os.walk(path):
            dirs.sort()
            looked_at += len(names)
            if looked_at > MAX_FOLDER_FILES:
                raise ImageReadError(
                    f"{sanitize(path)} holds more than {MAX_FOLDER_FILES:,} files; classify a smaller folder."
                )
            for name in names:
                full = os.path.join(root, name)
                if name.lower().endswith(IMAGE_SUFFIXES) and os.path.isfile(full):
                    found.append(full)
                else:
                    skipped += 1
        files.extend(sorted(found))
    return ImageFiles(tuple(files), skipped)


def _not_regular(path: str) -> str:
    return f"{sanitize(path)} is not a regular file (a pipe, socket or device), so it cannot be read as an image."


# ---- reading one file -------------------------------------------------------------------------------

def _open_checked(path: str):
    """(open file, size in bytes) for a regular image file within the size cap; sentences otherwise."""
    name = sanitize(Path(path).name)
    try:
        st = check_regular_file(path, "image")
    except FileNotFoundError:
        raise ImageReadError(f"There is no file at {sanitize(path)}.") from None
    except NotARegularFileError:
        if os.path.isdir(path):
            raise ImageReadError(f"{name} is a folder, not an image.") from None
        raise ImageReadError(_not_regular(path)) from None
    except OSError as exc:
        raise ImageReadError(f"{name} cannot be read ({exc.strerror}).") from None
    if st.st_size > MAX_IMAGE_FILE_BYTES:
        raise ImageReadError(
            f"{name} is {st.st_size / 2**20:,.0f} MB, more than the {MAX_IMAGE_FILE_BYTES / 2**20:,.0f} MB "
            "an image file may have here; save a smaller copy."
        )
    try:
        return open_regular_file(path, "image")
    except OSError as exc:
        raise ImageReadError(f"{name} cannot be read ({exc.strerror or exc}).") from None


def _too_many_pixels(name: str, pixels: int | None) -> ImageReadError:
    has = f"has {pixels / 1e6:,.0f} megapixels, more than" if pixels else "has more than"
    return ImageReadError(
        f"{name} {has} the {MAX_IMAGE_PIXELS / 1e6:,.0f} megapixels an image may have here; save a smaller copy."
    )


def _decode(path: str, needed: int, data: bytes | None = None):
    """(Pillow image reduced to about `OVERSAMPLE × needed` on its shorter side, original mode, upright size).

    Only this one image is decoded; JPEGs are decoded at reduced size by the codec itself. `data`: the
    file's bytes when already read (`path` then only names it).
    """
    from PIL import Image, UnidentifiedImageError

    name = sanitize(Path(path).name)
    with (io.BytesIO(data) if data is not None else _open_checked(path)) as fh:
        try:
            with warnings.catch_warnings():
                # Our own pixel cap below replaces Pillow's warning for large (not too large) images.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                img = Image.open(fh, formats=PILLOW_FORMATS)
            if img.size[0] * img.size[1] > MAX_IMAGE_PIXELS:
                raise _too_many_pixels(name, img.size[0] * img.size[1])
            img.seek(0)  # animated GIF/WebP: the first frame
            mode = img.mode
            orientation = _orientation(img)
            w, h = img.size
            upright = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
            if needed <= 0:
                return img, mode, upright  # the header was all the caller wanted: nothing decoded
            if img.format in ("JPEG", "MPO") and min(w, h) > OVERSAMPLE * needed:
                scale = OVERSAMPLE * needed / min(w, h)
                img.draft(None, (math.ceil(w * scale), math.ceil(h * scale)))
            img.load()
            small = _reduce(img, needed)
            return turn_upright(small, orientation), mode, upright
        except ImageReadError:
            raise
        except UnidentifiedImageError:
            raise ImageReadError(
                f"{name} is not an image file that can be read (PNG, JPEG, BMP, GIF, TIFF or WebP)."
            ) from None
        except Image.DecompressionBombError as exc:
            # Pillow refuses before we see the size; its message holds the pixel count.
            count = re.search(r"\((\d+) pixels\)", str(exc))
            raise _too_many_pixels(name, int(count.group(1)) if count else None) from None
        except MemoryError:
            raise ImageReadError(f"{name} is too large to fit in memory.") from None
        except (OSError, SyntaxError, ValueError, EOFError, TypeError) as exc:
            reason = sanitize(str(exc).strip().rstrip(":.") or type(exc).__name__)
            raise ImageReadError(f"{name} could not be read: it looks damaged or truncated ({reason}).") from None


def _orientation(img) -> int:
    try:
        return int(img.getexif().get(_EXIF_ORIENTATION, 1) or 1)
    except Exception:  # noqa: BLE001 - broken EXIF only means no rotation
        return 1


def turn_upright(img, orientation: int):
    """`img` turned the way its EXIF orientation tag (1–8) says the camera was held."""
    from PIL import Image

    method = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}.get(orientation)
    return img.transpose(method) if method is not None else img


def _reduce(img, needed: int):
    """`img` box-reduced by a whole factor that keeps its shorter side ≥ OVERSAMPLE × needed pixels."""
    factor = min(img.size) // max(1, OVERSAMPLE * needed)
    if factor < 2:
        return img
    if img.mode in ("P", "PA"):
        img = img.convert("RGBA")  # palette indices cannot be averaged
    elif img.mode == "1":
        img = img.convert("L")
    elif img.mode.startswith("I;16"):
        img = img.convert("I")
    return img.reduce(factor)


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


def _as_rgb(img, original_mode: str | None = None) -> np.ndarray:
    """A Pillow image of any mode as uint8 H x W x 3."""
    from PIL import Image

    mode = img.mode
    if mode in _DEEP_MODES:
        gray = np.asarray(img)
        if (original_mode or mode).startswith("I;16"):
            gray = gray.astype(np.uint16)  # reduced as 32-bit "I", but the data is 16-bit
        return np.repeat(_to_8bit(gray)[..., None], 3, axis=2)
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


def _colour_steps(mode: str, transparent: bool, channels: int) -> list[str]:
    """What turning an image of Pillow mode `mode` into the model's channels does, in words."""
    steps = []
    if transparent:
        steps.append("filled transparent areas with white")
    if mode in _DEEP_MODES:
        steps.append(f"scaled {_DEEP_MODES[mode]}-bit pixels to 8 bits")
    gray = mode in _GRAY_MODES
    if channels == 1 and not gray:
        steps.append(f"converted {'colour' if mode in ('RGB', 'RGBA', 'P', 'PA', 'RGBa') else mode} "
                     "to grayscale (the model takes 1 channel)")
    elif channels == 3 and gray:
        steps.append("repeated the grayscale picture in 3 channels (the model takes RGB)")
    elif channels == 3 and mode not in ("RGB", "RGBA", "P", "PA", "RGBa"):
        steps.append(f"converted {mode} colours to RGB")
    return steps


def read_image(path: str | os.PathLike) -> np.ndarray:
    """The whole image at `path` as uint8 H x W x 3 RGB; raises ImageReadError with a sentence.

    Holds the full picture in memory (up to MAX_IMAGE_PIXELS); to feed a model use `prepare_image`.
    """
    img, mode, _ = _decode(os.fspath(path), needed=1 << 30)
    return _as_rgb(img, mode)


def read_images(paths: Iterable[str | os.PathLike]) -> list[ImageReadResult]:
    """One result per path, in order; an unreadable file gives an error result and the rest still run."""
    results = []
    for p in paths:
        try:
            results.append(ImageReadResult(os.fspath(p), read_image(p)))
        except ImageReadError as exc:
            results.append(ImageReadResult(os.fspath(p), None, str(exc)))
    return results


# ---- fitting to the model ---------------------------------------------------------------------------

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


def _check_fit(fit: str) -> None:
    if fit not in FIT_MODES:
        raise ImageReadError(f"fit must be one of {', '.join(FIT_MODES)}, not {fit!r}.")


def _fit_steps(original: tuple[int, int], target: tuple[int, int, int], fit: str, note: str = "") -> list[str]:
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


def _fit_rgb(rgb: np.ndarray, original: tuple[int, int], target: tuple[int, int, int], fit: str):
    """(uint8 h x w x c, steps): `rgb` (possibly a reduced copy of a picture `original` = (W, H) big)
    cropped/padded/stretched and resized to `target`; steps are told in the original's pixels."""
    from PIL import Image

    h, w, c = target
    ow, oh = original
    img = Image.fromarray(rgb)
    src_w, src_h = img.size
    if fit == "crop" and ow * h != oh * w:
        if ow * h > oh * w:  # too wide: keep the centre columns
            keep = max(1, round(src_h * w / h))
            left = (src_w - keep) // 2
            img = img.crop((left, 0, left + keep, src_h))
        else:
            keep = max(1, round(src_w * h / w))
            top = (src_h - keep) // 2
            img = img.crop((0, top, src_w, top + keep))
    size = (w, h)
    if fit == "pad" and ow * h != oh * w:
        scale = min(w / src_w, h / src_h)
        size = (max(1, min(w, round(src_w * scale))), max(1, min(h, round(src_h * scale))))
    if img.size != size:
        # LANCZOS antialiases when shrinking; reducing_gap box-reduces big images first (fast, same look).
        img = img.resize(size, Image.LANCZOS, reducing_gap=3.0)
    if size != (w, h):
        canvas = Image.new("RGB", (w, h), (0, 0, 0))
        canvas.paste(img, ((w - size[0]) // 2, (h - size[1]) // 2))
        img = canvas
    steps = _fit_steps(original, target, fit)
    if c == 1:
        return np.asarray(img.convert("L"))[..., None], steps
    return np.ascontiguousarray(np.asarray(img)), steps


def fit_image(image: np.ndarray, shape: tuple, *, fit: str = "crop") -> tuple[np.ndarray, tuple[str, ...]]:
    """(uint8 model input, steps in words) for an in-memory uint8 H x W x 3 (or H x W) image.

    fit="crop" cuts the centre to the target aspect ratio (nothing is stretched), "pad" adds black
    bars, "stretch" uses the whole image. Channels become what the model takes (3 RGB or 1 luma).
    """
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)) or arr.size == 0:
        raise ImageReadError(f"An image must be H×W or H×W×3 pixels; got shape {arr.shape}.")
    _check_fit(fit)
    h, w, c = model_image_shape(_keep_none_as_source(shape, arr.shape))
    from PIL import Image

    mode = "L" if arr.ndim == 2 else ("RGBA" if arr.shape[2] == 4 else "RGB")
    rgb = _as_rgb(Image.fromarray(_to_8bit(arr)))
    fitted, steps = _fit_rgb(rgb, (arr.shape[1], arr.shape[0]), (h, w, c), fit)
    return fitted, tuple(_colour_steps(mode, mode == "RGBA", c) + steps)


def _keep_none_as_source(shape: tuple, source: tuple) -> tuple:
    """In-memory images keep their own size along dimensions the model leaves open."""
    shape = tuple(shape)
    if len(shape) != 3:
        return shape
    return (shape[0] or source[0], shape[1] or source[1], shape[2])


def fit_to_input(image: np.ndarray, shape: tuple, *, fit: str = "crop") -> np.ndarray:
    """Resizes a uint8 H x W x 3 (or H x W) image to a model input (h, w, c) as uint8, antialiased.

    Same as `fit_image` without the steps; None dims are kept.
    """
    return fit_image(image, shape, fit=fit)[0]


# Fits one file's bytes to (h, w, c) by "crop" or "pad" (given by classify: the folder import's own
# decoder); raises ImageReadError with the reason, which prepare_image puts in a sentence naming the file.
BytesFitter = Callable[[bytes, tuple[int, int, int], str], np.ndarray]


def prepare_image(path: str | os.PathLike, shape: tuple, *, fit: str = "crop", preview_size: int = 0,
                  fitter: BytesFitter | None = None, fit_note: str = "") -> PreparedImage:
    """The image file at `path` fitted to a model input `shape` (h, w, c), with what was done in words.

    Decodes only this file, at reduced size where the format allows (JPEG), and shrinks it at once:
    peak memory is about one decoded picture (≤ MAX_IMAGE_PIXELS × 4 bytes). `preview_size` > 0
    adds a copy of the whole picture at most that many pixels on its longer side. `fitter` (for
    "crop" and "pad") makes the pixels from the file's bytes instead, after the same checks (regular
    file, size and pixel caps); `fit_note` is added to the crop or pad step ("as in training").
    """
    path = os.fspath(path)
    _check_fit(fit)
    h, w, c = model_image_shape(shape)
    if fitter is not None and fit != "stretch":
        return _prepare_with(fitter, path, (h, w, c), fit, preview_size, fit_note)
    img, mode, upright = _decode(path, needed=max(h, w, preview_size))
    transparent = mode in _ALPHA_MODES or "transparency" in img.info
    rgb = _as_rgb(img, mode)
    del img
    preview = _preview(rgb, preview_size) if preview_size > 0 else None
    fitted, _ = _fit_rgb(rgb, upright, (h, w, c), fit)
    steps = _fit_steps(upright, (h, w, c), fit, fit_note)
    return PreparedImage(path, fitted, tuple(_colour_steps(mode, transparent, c) + steps), upright, mode, preview)


def _prepare_with(fitter: BytesFitter, path: str, target: tuple[int, int, int], fit: str, preview_size: int,
                  fit_note: str) -> PreparedImage:
    """`prepare_image` with the pixels made by `fitter` from the file's bytes (read once, within the caps)."""
    with _open_checked(path) as fh:
        data = fh.read(MAX_IMAGE_FILE_BYTES + 1)  # the cap was checked on the open file; never reads past it
    header, mode, upright = _decode(path, needed=0, data=data)  # header only: size, mode, orientation
    transparent = mode in _ALPHA_MODES or "transparency" in header.info
    del header
    try:
        fitted = fitter(data, target, fit)
    except ImageReadError as exc:
        raise ImageReadError(f"{sanitize(Path(path).name)} could not be read: {exc}.") from None
    preview = None
    if preview_size > 0:
        img, _, _ = _decode(path, needed=preview_size, data=data)
        preview = _preview(_as_rgb(img, mode), preview_size)
    steps = _colour_steps(mode, transparent, target[2]) + _fit_steps(upright, target, fit, fit_note)
    return PreparedImage(path, fitted, tuple(steps), upright, mode, preview)


def _preview(rgb: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    if max(rgb.shape[:2]) <= size:
        return rgb.copy()
    img = Image.fromarray(rgb)
    img.thumbnail((size, size), Image.LANCZOS)
    return np.ascontiguousarray(np.asarray(img))
