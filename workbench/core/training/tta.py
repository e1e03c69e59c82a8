"""Test-time flip: average the network's probabilities on each image and its mirror image."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from workbench.core.training.topk import TOP_K


def flip_averaged_scores(model: Any, dataset: Any,
                         progress: Callable[[int], None] | None = None) -> dict[str, float | None]:
    """Loss, top-1 and top-5 over ``dataset`` (batches of uint8 images and int labels) with flip averaging;
    top-5 is None with 5 classes or fewer. Ties count against the prediction, as TopKAccuracy does.

    The loss is the model's compiled loss (label smoothing and weight penalties included) averaged over
    the images, as ``Model.evaluate`` and so fit's ``val_loss`` count it: test and validation losses are
    of one kind. A model without a compiled loss gets plain cross-entropy.
    ``progress(images done)`` is called after each batch."""
    import tensorflow as tf

    loss = correct1 = correct5 = n = 0.0
    classes = None
    for images, labels in dataset:
        probs = (model(images, training=False) + model(tf.reverse(images, axis=[2]), training=False)) / 2
        p = np.asarray(probs, dtype=np.float64)
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
