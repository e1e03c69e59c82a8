"""Heat-map overlays in numpy (no matplotlib): a perceptual colormap and the blend onto an image.

The colormap is inferno (matplotlib's, by Smith and van der Walt), from a degree-6 polynomial fit per
channel (Matt Zucker's public-domain fit): lightness rises monotonically from black through red to pale
yellow, so a brighter pixel always means more evidence, also in grey print and for colour-blind readers.
"""

from __future__ import annotations

import numpy as np

# Polynomial coefficients c0..c6 per RGB channel: colour(t) = sum(c_k t^k), t in [0, 1].
_INFERNO = np.array([
    [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184],
    [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
    [11.60249308247187, -3.972853965665698, -15.9423941062914],
    [-41.70399613139459, 17.43639888205313, 44.35414519872813],
    [77.162935699427, -33.40235894210092, -81.80730925738993],
    [-71.31942824499214, 32.62606426397723, 73.20951985803202],
    [25.13112622477341, -12.24266895238567, -23.07032500287172],
], np.float64)

# The colormap sampled once: a lookup is much faster than the polynomial per pixel.
_LUT = None


def _lut() -> np.ndarray:
    global _LUT
    if _LUT is None:
        t = np.linspace(0.0, 1.0, 256)
        powers = t[:, None] ** np.arange(7)[None, :]
        _LUT = np.clip(np.rint(powers @ _INFERNO * 255.0), 0, 255).astype(np.uint8)
    return _LUT


def colormap(values: np.ndarray) -> np.ndarray:
    """uint8 RGB (… × 3) for values in [0, 1] (clipped; NaN counts as 0)."""
    v = np.nan_to_num(np.asarray(values, np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    idx = np.rint(np.clip(v, 0.0, 1.0) * 255.0).astype(np.intp)
    return _lut()[idx]


def resize_bilinear(a: np.ndarray, height: int, width: int) -> np.ndarray:
    """A 2-D float array resized with half-pixel centres (as tf.image.resize's bilinear does)."""
    a = np.asarray(a, np.float32)
    h, w = a.shape
    if (h, w) == (height, width):
        return a
    ys = np.clip((np.arange(height) + 0.5) * h / height - 0.5, 0, h - 1)
    xs = np.clip((np.arange(width) + 0.5) * w / width - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = a[y0][:, x0] * (1 - fx) + a[y0][:, x1] * fx
    bottom = a[y1][:, x0] * (1 - fx) + a[y1][:, x1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def _rgb(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[..., None]
    if img.ndim != 3:
        raise ValueError(f"An overlay needs an H×W or H×W×C image; got shape {img.shape}.")
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    elif img.shape[-1] == 4:
        img = img[..., :3]
    elif img.shape[-1] != 3:
        raise ValueError(f"An overlay needs a grey, RGB or RGBA image; this one has {img.shape[-1]} channels.")
    return img.astype(np.float32)


def overlay(image_uint8_hwc: np.ndarray, cam_hw: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    """uint8 H×W×3: the image blended with the coloured map (map resized to the image, bilinear).

    opacity 0 gives the image, 1 the colour map alone; grey and RGBA images are shown as RGB.
    """
    img = _rgb(image_uint8_hwc)
    opacity = float(np.clip(opacity, 0.0, 1.0))
    cam = resize_bilinear(np.asarray(cam_hw, np.float32), img.shape[0], img.shape[1])
    heat = colormap(cam).astype(np.float32)
    return np.clip(np.rint(img * (1.0 - opacity) + heat * opacity), 0, 255).astype(np.uint8)


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Each pixel as a factor×factor block (small inputs made visible without inventing detail)."""
    if factor <= 1:
        return image
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
