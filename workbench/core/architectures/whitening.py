"""Patch whitening for a network's first layer (airbench: Jordan 2024, after tysam-code's hlb-cifar10): the
2×2 stem convolution is set, once, from the training images so that its outputs are decorrelated and of unit
variance, then frozen. The network starts from features a trained first layer would take epochs to find.

Each filter is an eigenvector of the covariance of all 2×2×C patches divided by the root of its eigenvalue
(plus ``eps``, which keeps the noisiest directions from being blown up), once as it is and once negated, so
the activation after it sees both signs. The bias centres the outputs (the model's input is 0-1 pixels, not
mean-subtracted ones), which airbench gets from normalising the images beforehand.
"""

from __future__ import annotations

from typing import Any

import numpy as np

WHITEN_IMAGES = 5000  # airbench's sample: more images change the covariance by less than its own noise
EPS = 5e-4 * 0.25**2  # airbench's 5e-4 on images normalised by std ~0.25, in the 0-1 pixel units here


def patch_covariance(images: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of every ``size``×``size`` patch (stride 1) of uint8 (N, H, W, C) images scaled to
    0-1; patch vectors are flattened in (row, column, channel) order, a Keras kernel's order."""
    x = np.asarray(images, dtype=np.float64) / 255.0
    n, h, w, c = x.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))  # N, H', W', C, kh, kw
    patches = windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, size * size * c)
    mean = patches.mean(axis=0)
    centred = patches - mean
    return mean, centred.T @ centred / len(centred)


def whitening_weights(images: np.ndarray, size: int = 2, eps: float = EPS) -> tuple[np.ndarray, np.ndarray]:
    """(kernel, bias) of a ``size``×``size`` convolution with 2·size²·C filters that whitens the patches of
    ``images``: kernel (size, size, C, 2·size²·C), strongest direction first."""
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError("Whitening needs at least one training image.")
    mean, cov = patch_covariance(images, size)
    values, vectors = np.linalg.eigh(cov)  # ascending
    order = np.argsort(values)[::-1]
    scaled = vectors[:, order] / np.sqrt(np.maximum(values[order], 0.0) + eps)  # columns: whitened directions
    both = np.concatenate([scaled, -scaled], axis=1)
    c = images.shape[-1]
    kernel = both.reshape(size, size, c, -1)
    bias = -(mean @ both)
    return kernel.astype(np.float32), bias.astype(np.float32)


def init_whitening(model: Any, images: np.ndarray, layer_name: str = "whiten") -> bool:
    """Set ``model``'s layer ``layer_name`` (a frozen 2-D convolution) from ``images``' patches; False when the
    model has no such layer (any network but a whitened airnet)."""
    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        return False
    kh, kw, c, filters = layer.kernel.shape
    if kh != kw or filters != 2 * kh * kw * c:
        return False
    kernel, bias = whitening_weights(images, kh)
    layer.kernel.assign(kernel)
    layer.bias.assign(bias)
    return True
