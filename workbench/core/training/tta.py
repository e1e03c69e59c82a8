"""Test-time augmentation: average the network's probabilities on each image and its mirror image, and with a
shift, on airbench's six views (Jordan 2024): the image and its mirror weigh 1/4 each, and the image moved
``shift`` pixels up-left and down-right (reflection-padded), each with its mirror, 1/8 each."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from workbench.core.training.topk import TOP_K


def tta_views(images: np.ndarray, shift: int = 0) -> list[tuple[float, np.ndarray]]:
    """(weight, view) pairs of an (N, H, W, C) batch whose weights add up to 1."""
    images = np.asarray(images)
    views = [(1.0, images), (1.0, images[:, :, ::-1])]
    if shift > 0:
        h, w = images.shape[1:3]
        padded = np.pad(images, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="reflect")
        for moved in (padded[:, :h, :w], padded[:, 2 * shift:2 * shift + h, 2 * shift:2 * shift + w]):
            views += [(0.5, moved), (0.5, moved[:, :, ::-1])]
    total = sum(weight for weight, _ in views)
    return [(weight / total, np.ascontiguousarray(view)) for weight, view in views]


def tta_probabilities(predict: Callable[[np.ndarray], Any], images: np.ndarray, shift: int = 0) -> np.ndarray:
    """The weighted mean of ``predict`` over ``tta_views`` of ``images``."""
    return sum(weight * np.asarray(predict(view), dtype=np.float64) for weight, view in tta_views(images, shift))


def view_count(shift: int) -> int:
    return 6 if shift > 0 else 2


def flip_averaged_scores(model: Any, dataset: Any, progress: Callable[[int], None] | None = None,
                         shift: int = 0) -> dict[str, float | None]:
    """Loss, top-1 and top-5 over ``dataset`` (batches of uint8 images and int labels) averaged over the
    ``tta_views`` (the mirror image; with ``shift``, airbench's six views);
    top-5 is None with 5 classes or fewer. Ties count against the prediction, as TopKAccuracy does.

    The loss is the model's compiled loss (label smoothing and weight penalties included) averaged over
    the images, as ``Model.evaluate`` and so fit's ``val_loss`` count it: test and validation losses are
    of one kind. A model without a compiled loss gets plain cross-entropy.
    ``progress(images done)`` is called after each batch."""
    import tensorflow as tf

    loss = correct1 = correct5 = n = 0.0
    classes = None
    for images, labels in dataset:
        p = tta_probabilities(lambda view: model(view, training=False), np.asarray(images), shift)
        probs = tf.constant(p, dtype=tf.float32)
        y = np.asarray(labels).reshape(-1).astype(np.int64)
        classes = p.shape[1]
        true = p[np.arange(len(y)), y]
        higher = (p > true[:, None]).sum(axis=1)  # classes scored above the true one
        ties = (p == true[:, None]).sum(axis=1) - 1
        correct1 += float(((higher + ties) < 1).sum())
        correct5 += float(((higher + ties) < TOP_K).sum())
        loss += _batch_loss(model, labels, probs, true) * len(y)  # evaluate weighs batches by their size
        n += len(y)
        if progress is not None:
            progress(int(n))
    if n == 0:
        return {"loss": None, "top1": None, "top5": None}
    return {"loss": loss / n, "top1": correct1 / n, "top5": correct5 / n if classes and classes > TOP_K else None}


def _batch_loss(model: Any, labels: Any, probs: Any, true: np.ndarray) -> float:
    """The mean loss of one batch as the model was compiled to count it (Keras' ``compute_loss``, which
    adds the weight penalties), else plain cross-entropy."""
    if getattr(model, "loss", None) is None:
        return float(-np.log(np.clip(true, 1e-12, 1.0)).mean())
    return float(model.compute_loss(y=labels, y_pred=probs, training=False))
