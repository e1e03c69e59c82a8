"""Honest top-k accuracy: every prediction names exactly k classes, ties broken by class index.

Keras' SparseTopKCategoricalAccuracy (TF backend) counts every class tied at the k-th score as a
hit, so a collapsed network with constant outputs scores 100 % top-5 (the report's defect 2).
Here ties go to the lower class index, so constant outputs score exactly k/C on uniform labels.

The numpy functions need no TensorFlow. `TopKAccuracy` (a Keras metric) is created on first
access, so importing this module stays TensorFlow-free.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.tf_import import ensure_tensorflow


def _check(probs: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(probs)
    labels = np.asarray(labels).reshape(-1)
    if probs.ndim != 2:
        raise ValueError(f"Scores must be a 2-D array (images x classes); got shape {probs.shape}.")
    if probs.shape[0] != labels.shape[0]:
        raise ValueError(f"There are {probs.shape[0]} score rows but {labels.shape[0]} labels.")
    if labels.size and (labels.min() < 0 or labels.max() >= probs.shape[1]):
        raise ValueError(f"Labels must lie between 0 and {probs.shape[1] - 1}.")
    return probs, labels.astype(np.int64)


def top_k_predictions(probs: Any, k: int) -> np.ndarray:
    """The k best classes of each row, best first; among equal scores the lower index wins."""
    probs = np.asarray(probs)
    if probs.ndim != 2:
        raise ValueError(f"Scores must be a 2-D array (images x classes); got shape {probs.shape}.")
    if not 1 <= k <= probs.shape[1]:
        raise ValueError(f"k must be between 1 and the number of classes ({probs.shape[1]}); got {k}.")
    # A stable sort of the negated scores keeps tied classes in index order.
    return np.argsort(-probs, axis=1, kind="stable")[:, :k]


def top_k_correct(probs: Any, labels: Any, k: int) -> np.ndarray:
    """Boolean per image: is the label among exactly k predicted classes?"""
    probs, labels = _check(probs, labels)
    return (top_k_predictions(probs, k) == labels[:, None]).any(axis=1)


def accuracy_and_topk(probs: Any, labels: Any, k: int = 5) -> tuple[float, float]:
    """(top-1 accuracy, honest top-k accuracy); k is capped at the number of classes."""
    probs, labels = _check(probs, labels)
    if labels.size == 0:
        return 0.0, 0.0
    k = max(1, min(int(k), probs.shape[1]))
    return float(top_k_correct(probs, labels, 1).mean()), float(top_k_correct(probs, labels, k).mean())


def honest_top_k_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Any:
    """Per-sample 1.0/0.0 in Keras ops: is the sparse label among exactly k top classes?"""
    from keras import ops

    classes = y_pred.shape[-1]
    if classes is not None:
        k = min(k, classes)  # top-5 of a 3-class set is every class, not an error
    # top_k returns exactly k indices, the lower index first among ties.
    _, indices = ops.top_k(y_pred, k=k, sorted=True)
    labels = ops.reshape(ops.cast(y_true, "int32"), (-1, 1))
    hits = ops.any(ops.equal(ops.cast(indices, "int32"), labels), axis=-1)
    return ops.cast(hits, "float32")


_metric_class: Any = None


def _make_metric_class() -> Any:
    ensure_tensorflow()
    import keras

    @keras.saving.register_keras_serializable(package="workbench", name="TopKAccuracy")
    class TopKAccuracy(keras.metrics.MeanMetricWrapper):
        """Honest sparse top-k accuracy; k is capped at the number of classes."""

        def __init__(self, k: int = 5, name: str | None = None, dtype: Any = None) -> None:
            super().__init__(fn=honest_top_k_accuracy, name=name or f"top{k}_accuracy", dtype=dtype, k=k)
            self.k = k
            self._direction = "up"  # higher is better, for callbacks that infer the mode

        def get_config(self) -> dict[str, Any]:
            return {"name": self.name, "dtype": self.dtype, "k": self.k}

    TopKAccuracy.__module__ = __name__
    TopKAccuracy.__qualname__ = "TopKAccuracy"
    return TopKAccuracy


def __getattr__(name: str) -> Any:
    # Built lazily so that importing workbench.core.metrics does not import TensorFlow.
    global _metric_class
    if name == "TopKAccuracy":
        if _metric_class is None:
            _metric_class = _make_metric_class()
        return _metric_class
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
