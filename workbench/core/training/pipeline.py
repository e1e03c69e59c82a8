"""tf.data input pipelines over uint8 arrays: batches are gathered by index, never converted to float.

The model scales pixels itself, so the pipeline hands it uint8 batches; only one uint8 copy of
each split lives in memory (no float copy, no shuffle buffer of images).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.core.training.augment import crop_and_flip, cutout


@dataclass(frozen=True)
class Splits:
    train: Any  # tf.data.Dataset of (uint8 images, int32 labels)
    val: Any | None
    test: Any | None
    train_images: int
    val_images: int
    test_images: int
    steps_per_epoch: int


def split_indices(n: int, val_split: float, seed: int, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic (train_idx, val_idx); ``limit`` caps training images and shrinks validation alike."""
    from workbench.core.datasets import train_val_split

    train_idx, val_idx = train_val_split(n, val_split, seed)
    if limit is not None and limit < len(train_idx):
        # A seeded random subset: the first sorted indices of class-sorted data (a folder import) are one class.
        rng = np.random.default_rng(seed)
        train_idx = np.sort(rng.permutation(train_idx)[:limit])
        if len(val_idx):
            # Keep the configured train/val ratio so a quick try does not validate on 10,000 images.
            n_val = max(1, int(round(limit * val_split / (1.0 - val_split))))
            val_idx = np.sort(rng.permutation(val_idx)[:n_val])
    return train_idx, val_idx


PARALLEL_BATCHES = 2  # batches gathered (and augmented) at once: a gather is cheap next to a training step
PREFETCH_BATCHES = 2  # batches ready ahead of the training step


def _batches(tf: Any, x: np.ndarray, y: np.ndarray, batch_size: int, *,
             shuffle_seed: int | None = None, augment: bool = False, flip: bool = True,
             cutout_size: int = 0) -> Any:
    n = len(x)
    with tf.device("/CPU:0"):  # the input pipeline runs on the host; only batches travel to a GPU
        images = tf.constant(np.ascontiguousarray(x))
        labels = tf.constant(np.asarray(y, dtype=np.int32))
    ds = tf.data.Dataset.range(n)
    if shuffle_seed is not None:
        ds = ds.shuffle(n, seed=shuffle_seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)

    def gather(idx: Any) -> Any:
        xb = tf.gather(images, idx)
        if augment:
            xb = crop_and_flip(xb, flip=flip)
        if cutout_size:
            xb = cutout(xb, cutout_size)
        return xb, tf.gather(labels, idx)

    # Fixed parallelism, no autotuning: tf.data's autotune thread sleeps in doubling periods (up to
    # seconds) and an epoch's iterator waits for it when torn down: 2.5-10 s lost per epoch, measured.
    ds = ds.map(gather, num_parallel_calls=PARALLEL_BATCHES)
    options = tf.data.Options()
    options.autotune.enabled = False
    # The data is already in memory: split whole batches across replicas instead of sharding files.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options).prefetch(PREFETCH_BATCHES)


def make_splits(data: Any, *, val_split: float, seed: int, batch_size: int, augment: bool,
                limit: int | None = None, test_limit: int | None = None, cutout_size: int = 0) -> Splits:
    """Train/validation/test pipelines from a loaded Dataset (x_* uint8 N x height x width x channels,
    ``data.image_shape``). Augmentation flips images only where the dataset is mirror-safe."""
    import tensorflow as tf

    train_idx, val_idx = split_indices(len(data.x_train), val_split, seed, limit)
    if len(train_idx) == 0:
        raise ValueError("There are no training images left after the validation split; lower the split.")
    # Gathering sorted indices reads a memory-mapped file front to back.
    x_train, y_train = data.x_train[train_idx], data.y_train[train_idx]
    train = _batches(tf, x_train, y_train, batch_size, shuffle_seed=seed, augment=augment,
                     flip=data.info.mirror_safe, cutout_size=cutout_size)
    val = None
    if len(val_idx):
        val = _batches(tf, data.x_train[val_idx], data.y_train[val_idx], batch_size)
    n_test = len(data.x_test) if test_limit is None else min(len(data.x_test), max(0, test_limit))
    test = _batches(tf, data.x_test[:n_test], data.y_test[:n_test], batch_size) if n_test else None
    return Splits(
        train=train, val=val, test=test,
        train_images=len(train_idx), val_images=len(val_idx), test_images=n_test,
        steps_per_epoch=math.ceil(len(train_idx) / batch_size),
    )
