"""Test-time flip: average the network's probabilities on each image and its mirror image."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from workbench.core.training.topk import TOP_K


def flip_averaged_scores(model: Any, dataset: Any,
                         progress: Callable[[int], None] | None = None) -> dict[str, float | None]:
    """Loss, top-1 and top-5 over ``dataset`` (batches of uint8 images and int labels) with flip averaging;
    top-5 is None with 5 classes or fewer. Ties count against the prediction, as TopKAccuracy does.
    ``progress(images done)`` is called after each batch."""
    import tensorflow as tf

    nll = correct1 = correct5 = n = 0.0
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
        nll += float(-np.log(np.clip(true, 1e-12, 1.0)).sum())
        n += len(y)
        if progress is not None:
            progress(int(n))
    if n == 0:
        return {"loss": None, "top1": None, "top5": None}
    return {"loss": nll / n, "top1": correct1 / n, "top5": correct5 / n if classes and classes > TOP_K else None}
