"""Arrays to QImages: every channel layout the datasets produce is shown pixel for pixel."""

import numpy as np
import pytest

from workbench.gui.widgets.qimage import array_to_qimage


def _gray_at(qimg, x, y):
    return qimg.pixelColor(x, y).red(), qimg.pixelColor(x, y).green(), qimg.pixelColor(x, y).blue()


def test_grayscale_with_a_channel_axis_is_shown_as_gray(qapp):
    # MNIST-like H x W x 1: read as RGB it walked past the buffer and showed garbage.
    img = np.arange(28 * 28, dtype=np.uint32).reshape(28, 28, 1) % 256
    qimg = array_to_qimage(img.astype(np.uint8))
    assert (qimg.width(), qimg.height()) == (28, 28)
    for x, y in ((0, 0), (27, 0), (5, 13), (27, 27)):
        v = int(img[y, x, 0])
        assert _gray_at(qimg, x, y) == (v, v, v)


def test_rgb_pixels_are_kept(qapp):
    img = np.zeros((4, 5, 3), np.uint8)
    img[1, 2] = (10, 200, 30)
    qimg = array_to_qimage(img)
    assert _gray_at(qimg, 2, 1) == (10, 200, 30)


def test_two_channels_are_refused(qapp):
    with pytest.raises(ValueError, match="2 channels"):
        array_to_qimage(np.zeros((4, 4, 2), np.uint8))
