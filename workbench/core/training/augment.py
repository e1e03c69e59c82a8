"""On-the-fly augmentation of uint8 batches inside tf.data; never part of the saved model."""

from __future__ import annotations

from typing import Any

PAD = 4  # pixels of zero padding before the random crop back to the image size


def crop_and_flip(images: Any, seed: int | None = None, *, flip: bool = True) -> Any:
    """Per-image random crop (after 4-pixel zero padding) and, with `flip`, horizontal flip of an
    (N, H, W, C) batch. `flip=False` for data whose mirror image is another class (digits).

    Works on uint8 without converting, so augmentation adds no float copy of the batch.
    """
    import tensorflow as tf

    shape = tf.shape(images)
    n, h, w = shape[0], shape[1], shape[2]
    padded = tf.pad(images, [[0, 0], [PAD, PAD], [PAD, PAD], [0, 0]])
    dy = tf.random.uniform([n], 0, 2 * PAD + 1, dtype=tf.int32, seed=seed)
    dx = tf.random.uniform([n], 0, 2 * PAD + 1, dtype=tf.int32, seed=None if seed is None else seed + 1)
    rows = dy[:, None] + tf.range(h)[None, :]
    cols = dx[:, None] + tf.range(w)[None, :]
    # Two batched gathers crop every image at its own offset in one op each.
    out = tf.gather(padded, rows, axis=1, batch_dims=1)
    out = tf.gather(out, cols, axis=2, batch_dims=1)
    if not flip:
        return out
    flipped = tf.random.uniform([n], 0, 2, dtype=tf.int32, seed=None if seed is None else seed + 2) > 0
    return tf.where(flipped[:, None, None, None], tf.reverse(out, axis=[2]), out)


def cutout(images: Any, size: int, seed: int | None = None) -> Any:
    """Blank one random ``size`` x ``size`` square per image of an (N, H, W, C) uint8 batch (DeVries & Taylor
    2017); the square's centre is anywhere in the image, so it may be cut off at the border."""
    import tensorflow as tf

    shape = tf.shape(images)
    n, h, w = shape[0], shape[1], shape[2]
    cy = tf.random.uniform([n, 1], 0, h, dtype=tf.int32, seed=seed)
    cx = tf.random.uniform([n, 1], 0, w, dtype=tf.int32, seed=None if seed is None else seed + 3)
    rows, cols = tf.range(h)[None, :], tf.range(w)[None, :]
    in_rows = tf.abs(rows - cy) * 2 < size  # (N, H)
    in_cols = tf.abs(cols - cx) * 2 < size  # (N, W)
    blank = tf.logical_and(in_rows[:, :, None], in_cols[:, None, :])[..., None]
    return tf.where(blank, tf.zeros_like(images), images)
