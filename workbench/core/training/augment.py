"""Augmentation of integer image batches inside the input pipeline (or on the accelerator); never part of the
saved model. The random numbers come in as arguments (pipeline.batch_plan draws them statelessly), so the
same draws give the same pixels on the host and on a device, in any dtype the batch is held in."""

from __future__ import annotations

from typing import Any

DEFAULT_TRANSLATE = 4  # pixels each way: the course report's crop after 4-pixel padding


def _source_positions(tf: Any, shift: Any, size: Any, translate: int, padding: str) -> tuple[Any, Any]:
    """(N, size) source index of each output row (or column) shifted by ``shift - translate``, and whether
    it lies inside the image (always, for reflection)."""
    pos = shift[:, None] - translate + tf.range(size)[None, :]
    inside = tf.logical_and(pos >= 0, pos < size)
    if padding == "reflect":  # -1 -> 1, size -> size - 2: mirrored about the edge pixel, as numpy's "reflect"
        pos = tf.abs(pos)
        pos = (size - 1) - tf.abs((size - 1) - pos)
        return pos, None
    return tf.clip_by_value(pos, 0, size - 1), inside


def translate_and_flip(images: Any, dy: Any, dx: Any, flipped: Any | None = None, *,
                       translate: int = DEFAULT_TRANSLATE, padding: str = "zero") -> Any:
    """Shift each image of an (N, H, W, C) batch by (dy - translate, dx - translate) pixels, the uncovered
    border zero or reflected, and mirror the images where ``flipped``; dy, dx in [0, 2 * translate].

    Two batched gathers do it all (a flip is a reversed column index), in the batch's own dtype: uint8 on
    the host adds no float copy of the batch.
    """
    import tensorflow as tf

    shape = tf.shape(images)
    h, w = shape[1], shape[2]
    rows, rows_in = _source_positions(tf, dy, h, translate, padding)
    cols, cols_in = _source_positions(tf, dx, w, translate, padding)
    if flipped is not None:
        cols = tf.where(flipped[:, None], tf.reverse(cols, axis=[1]), cols)
        if cols_in is not None:
            cols_in = tf.where(flipped[:, None], tf.reverse(cols_in, axis=[1]), cols_in)
    out = tf.gather(images, rows, axis=1, batch_dims=1)
    out = tf.gather(out, cols, axis=2, batch_dims=1)
    if rows_in is None:
        return out
    inside = tf.logical_and(rows_in[:, :, None], cols_in[:, None, :])[..., None]
    return tf.where(inside, out, tf.zeros_like(out))


def cutout_at(images: Any, cy: Any, cx: Any, size: int) -> Any:
    """Blank a ``size`` x ``size`` square centred at (cy, cx) in each image of an (N, H, W, C) batch (DeVries &
    Taylor 2017); a centre near the border leaves part of the square outside the image."""
    import tensorflow as tf

    shape = tf.shape(images)
    rows, cols = tf.range(shape[1])[None, :], tf.range(shape[2])[None, :]
    in_rows = tf.abs(rows - cy[:, None]) * 2 < size  # (N, H)
    in_cols = tf.abs(cols - cx[:, None]) * 2 < size  # (N, W)
    blank = tf.logical_and(in_rows[:, :, None], in_cols[:, None, :])[..., None]
    return tf.where(blank, tf.zeros_like(images), images)


def _uniform(tf: Any, n: Any, high: Any, seed: Any) -> Any:
    return tf.random.stateless_uniform([n], seed, minval=0, maxval=high, dtype=tf.int32)


def crop_and_flip(images: Any, seed: int = 0, *, flip: bool = True, translate: int = DEFAULT_TRANSLATE,
                  padding: str = "zero") -> Any:
    """Random shift (and, with ``flip``, mirror) of a batch, drawn from ``seed``. ``flip=False`` for data whose
    mirror image is another class (digits)."""
    import tensorflow as tf

    n = tf.shape(images)[0]
    keys = tf.random.experimental.stateless_split(tf.constant([seed, 0], tf.int64), 3)
    dy, dx = _uniform(tf, n, 2 * translate + 1, keys[0]), _uniform(tf, n, 2 * translate + 1, keys[1])
    flipped = _uniform(tf, n, 2, keys[2]) > 0 if flip else None
    return translate_and_flip(images, dy, dx, flipped, translate=translate, padding=padding)


def cutout(images: Any, size: int, seed: int = 0) -> Any:
    """Blank one ``size`` x ``size`` square per image at a centre drawn from ``seed``, anywhere in the image."""
    import tensorflow as tf

    shape = tf.shape(images)
    keys = tf.random.experimental.stateless_split(tf.constant([seed, 1], tf.int64), 2)
    return cutout_at(images, _uniform(tf, shape[0], shape[1], keys[0]), _uniform(tf, shape[0], shape[2], keys[1]), size)
