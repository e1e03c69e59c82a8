"""tf.data input pipelines over uint8 arrays: batches are gathered by index, never converted to float.

The model scales pixels itself, so the pipeline hands it uint8 batches; only one uint8 copy of
each split lives in memory (no float copy, no shuffle buffer of images).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np



@dataclass(frozen=True)
class Splits:
    train: Any  # tf.data.Dataset of (uint8 images, int32 labels)
    val: Any | None
    test: Any | None
    train_images: int
    val_images: int
    test_images: int
    steps_per_epoch: int
    epoch: Any = None  # tf.Variable: the epoch the next iteration of ``train`` makes
    device_feed: Any = None  # DeviceFeed when the training images live on the accelerator, else None


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
# Independent random streams of one run's seed: the epoch order, the per-batch draws, the alternating-flip mask.
SHUFFLE_STREAM, AUGMENT_STREAM, MASK_STREAM = 1, 2, 3


@dataclass(frozen=True)
class Augmentation:
    """What the training batches get: translate 0 and flip "none" leave the images as they are."""
    translate: int = 0  # pixels each way
    padding: str = "zero"  # what a shift uncovers: "zero" or "reflect"
    flip: str = "none"  # "none", "random" (p 0.5 per image and epoch) or "alternate" (airbench's)
    cutout: int = 0  # side of the square blanked per image (0 = none)


def augmentation_for(augment: bool, mirror_safe: bool, *, flip: str = "random", translate: int = 4,
                     padding: str = "zero", cutout: int = 0) -> Augmentation:
    """A run's augmentation: flips only where a mirrored image keeps its class; cutout applies on its own."""
    if not augment:
        return Augmentation(cutout=cutout)
    return Augmentation(translate=translate, padding=padding, flip=flip if mirror_safe else "none", cutout=cutout)


def _options(tf: Any) -> Any:
    options = tf.data.Options()
    # Fixed parallelism, no autotuning: tf.data's autotune thread sleeps in doubling periods (up to
    # seconds) and an epoch's iterator waits for it when torn down: 2.5-10 s lost per epoch, measured.
    options.autotune.enabled = False
    # The data is already in memory: split whole batches across replicas instead of sharding files.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return options


def _batches(tf: Any, x: np.ndarray, y: np.ndarray, batch_size: int) -> Any:
    """Validation and test batches: in order, not augmented."""
    with tf.device("/CPU:0"):  # the input pipeline runs on the host; only batches travel to a GPU
        images = tf.constant(np.ascontiguousarray(x))
        labels = tf.constant(np.asarray(y, dtype=np.int32))
    ds = tf.data.Dataset.range(len(x)).batch(batch_size)
    ds = ds.map(lambda idx: (tf.gather(images, idx), tf.gather(labels, idx)), num_parallel_calls=PARALLEL_BATCHES)
    return ds.with_options(_options(tf)).prefetch(PREFETCH_BATCHES)


def batch_plan(tf: Any, idx: Any, epoch: Any, step: Any, seed: int, aug: Augmentation, flip_mask: Any) -> dict:
    """Which images batch ``step`` of ``epoch`` holds and every random draw of its augmentation: small integer
    vectors, a function of (seed, epoch, step) alone. The host pipeline and the device feed apply the same plan."""
    n = tf.shape(idx)[0]
    key = tf.random.experimental.stateless_fold_in(tf.constant([seed, AUGMENT_STREAM], tf.int64), epoch)
    keys = tf.random.experimental.stateless_split(tf.random.experimental.stateless_fold_in(key, step), 5)
    plan = {"idx": tf.cast(idx, tf.int32)}

    def draw(i: int, high: Any) -> Any:
        return tf.random.stateless_uniform([n], keys[i], minval=0, maxval=high, dtype=tf.int32)

    if aug.translate:
        plan["dy"], plan["dx"] = draw(0, 2 * aug.translate + 1), draw(1, 2 * aug.translate + 1)
    if aug.flip == "random":
        plan["flip"] = draw(2, 2) > 0
    elif aug.flip == "alternate":  # airbench: each image's epoch-0 state is its mask bit, then it alternates
        plan["flip"] = tf.not_equal(tf.gather(flip_mask, idx), tf.equal(epoch % 2, 1))
    if aug.cutout:
        plan["cy"], plan["cx"] = draw(3, 1 << 30), draw(4, 1 << 30)  # reduced modulo the image size when applied
    return plan


def apply_plan(tf: Any, images: Any, labels: Any, plan: dict, aug: Augmentation, image_shape: Any = None) -> Any:
    """(uint8 batch, int32 labels) of a plan. ``image_shape`` set: ``images`` are the uint8 pixels packed four to
    a float32 word, one row per image (the device copy: TensorFlow's GPU gathers take no uint8, and its int32
    ones keep their data in host memory), unpacked after the gather and augmented in float32, exact for 0-255."""
    from workbench.core.training.augment import cutout_at, translate_and_flip

    idx = plan["idx"]
    xb = tf.gather(images, idx)
    if image_shape is not None:
        h, w, c = image_shape
        xb = tf.cast(tf.reshape(tf.bitcast(xb, tf.uint8), [tf.shape(idx)[0], -1]), tf.float32)
        xb = tf.reshape(xb[:, :h * w * c], [-1, h, w, c])
    if aug.translate or "flip" in plan:
        zero = tf.zeros_like(idx) + aug.translate  # no shift
        xb = translate_and_flip(xb, plan.get("dy", zero), plan.get("dx", zero), plan.get("flip"),
                                translate=aug.translate, padding=aug.padding)
    if aug.cutout:
        shape = tf.shape(xb)
        xb = cutout_at(xb, plan["cy"] % shape[1], plan["cx"] % shape[2], aug.cutout)
    return tf.cast(xb, tf.uint8), tf.gather(labels, idx)


def flip_mask(tf: Any, n: int, seed: int) -> Any:
    """The alternating flip's epoch-0 state of each training image: about half flipped, fixed by the seed."""
    return tf.random.stateless_uniform([n], tf.constant([seed, MASK_STREAM], tf.int64)) < 0.5


def _plans(tf: Any, n: int, batch_size: int, seed: int, aug: Augmentation, epoch_counter: Any, mask: Any) -> Any:
    """One epoch of batch plans per iteration. Each batch reads its epoch from ``epoch_counter`` in order, and
    the last one moves the counter on, so iterating again without a trainer gives the next epoch."""
    steps = math.ceil(n / batch_size)

    def epoch_of(step: Any) -> Any:
        return tf.cond(step == steps - 1, lambda: epoch_counter.assign_add(1) - 1, lambda: tf.identity(epoch_counter))

    def plan(step: Any, epoch: Any) -> dict:
        # The epoch's order, drawn again for each batch: cheaper than a dataset per epoch (measured).
        key = tf.random.experimental.stateless_fold_in(tf.constant([seed, SHUFFLE_STREAM], tf.int64), epoch)
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int32), key)
        return batch_plan(tf, order[step * batch_size:(step + 1) * batch_size], epoch, step, seed, aug, mask)

    # Not parallel: the batches of one iteration read the counter before its last one moves it.
    ds = tf.data.Dataset.range(steps).map(lambda step: (step, epoch_of(step)))
    return ds.map(plan, num_parallel_calls=PARALLEL_BATCHES)


@dataclass
class DeviceFeed:
    """The training images on the accelerator (``device``): ``install`` makes a model's training step gather
    and augment its batch there from the plan tf.data hands it, so only a few index vectors cross to the device."""
    device: str
    images: Any  # (N, words) float32: the uint8 images, packed (a gather copies the bits unchanged)
    labels: Any
    image_shape: tuple[int, int, int]
    aug: Augmentation

    def batch(self, plan: dict) -> Any:
        import tensorflow as tf

        with tf.device(self.device):
            return apply_plan(tf, self.images, self.labels, plan, self.aug, self.image_shape)

    def install(self, model: Any) -> None:
        """Wrap ``model``'s train_step (on this instance only: nothing of it is saved with the model)."""
        step = model.train_step
        model.train_step = lambda plan: step(self.batch(plan))


def device_name(tf: Any) -> str:
    """The accelerator the device feed uses: the first GPU, else the CPU."""
    return "/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0"


def _device_feed(tf: Any, x: np.ndarray, y: np.ndarray, aug: Augmentation) -> DeviceFeed:
    n, pixels = len(x), int(np.prod(x.shape[1:]))
    words = -(-pixels // 4)
    packed = np.zeros((n, words * 4), np.uint8)  # rows padded to whole 32-bit words
    packed[:, :pixels] = np.asarray(x).reshape(n, pixels)
    device = device_name(tf)
    with tf.device(device):
        images = tf.identity(tf.constant(packed.view(np.float32)))
        labels = tf.identity(tf.constant(np.asarray(y, dtype=np.int32)))
    del packed
    return DeviceFeed(device, images, labels, tuple(int(d) for d in x.shape[1:]), aug)


def train_batches(tf: Any, x: np.ndarray, y: np.ndarray, batch_size: int, *, seed: int, aug: Augmentation,
                  epoch_counter: Any, on_device: bool = False) -> tuple[Any, DeviceFeed | None]:
    """(dataset, device feed): on the host, a dataset of augmented (uint8 images, int32 labels) batches; with
    ``on_device``, a dataset of batch plans and the DeviceFeed a model must install to turn them into batches."""
    with tf.device("/CPU:0"):  # the plans (and the host batches) are made on the host
        mask = flip_mask(tf, len(x), seed)
        ds = _plans(tf, len(x), batch_size, seed, aug, epoch_counter, mask)
    if on_device:
        return ds.with_options(_options(tf)).prefetch(PREFETCH_BATCHES), _device_feed(tf, x, y, aug)
    with tf.device("/CPU:0"):
        images = tf.constant(np.ascontiguousarray(x))
        labels = tf.constant(np.asarray(y, dtype=np.int32))
    ds = ds.map(lambda plan: apply_plan(tf, images, labels, plan, aug), num_parallel_calls=PARALLEL_BATCHES)
    return ds.with_options(_options(tf)).prefetch(PREFETCH_BATCHES), None


def make_splits(data: Any, *, val_split: float, seed: int, batch_size: int, augment: bool,
                limit: int | None = None, test_limit: int | None = None, cutout_size: int = 0,
                flip: str = "random", translate: int = 4, padding: str = "zero", data_on_device: bool = False,
                initial_epoch: int = 0) -> Splits:
    """Train/validation/test pipelines from a loaded Dataset (x_* uint8 N x height x width x channels,
    ``data.image_shape``). Augmentation flips images only where the dataset is mirror-safe.

    The training batches are a function of (seed, epoch, step): the first iteration of ``train`` is epoch
    ``initial_epoch``, each further one the next, unless a trainer sets ``splits.epoch`` first (EpochFeed does).
    ``data_on_device``: the training images live on the accelerator and ``train`` holds batch plans;
    ``splits.device_feed.install(model)`` must run before training (the validation and test sets stay on the host).
    """
    import tensorflow as tf

    train_idx, val_idx = split_indices(len(data.x_train), val_split, seed, limit)
    if len(train_idx) == 0:
        raise ValueError("There are no training images left after the validation split; lower the split.")
    # Gathering sorted indices reads a memory-mapped file front to back.
    x_train, y_train = data.x_train[train_idx], data.y_train[train_idx]
    aug = augmentation_for(augment, data.info.mirror_safe, flip=flip, translate=translate, padding=padding,
                           cutout=cutout_size)
    with tf.device("/CPU:0"):  # read by the host pipeline; a variable on a GPU would cost a copy per epoch
        epoch = tf.Variable(initial_epoch, dtype=tf.int64, trainable=False, name="data_epoch")
    train, feed = train_batches(tf, x_train, y_train, batch_size, seed=seed, aug=aug, epoch_counter=epoch,
                                on_device=data_on_device)
    val = None
    if len(val_idx):
        val = _batches(tf, data.x_train[val_idx], data.y_train[val_idx], batch_size)
    n_test = len(data.x_test) if test_limit is None else min(len(data.x_test), max(0, test_limit))
    test = _batches(tf, data.x_test[:n_test], data.y_test[:n_test], batch_size) if n_test else None
    return Splits(
        train=train, val=val, test=test,
        train_images=len(train_idx), val_images=len(val_idx), test_images=n_test,
        steps_per_epoch=math.ceil(len(train_idx) / batch_size), epoch=epoch, device_feed=feed,
    )
