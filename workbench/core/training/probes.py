"""A fixed set of test images whose predictions are followed epoch by epoch during training."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROBE_COUNT = 25


@dataclass(frozen=True)
class ProbeSet:
    indices: tuple[int, ...]  # positions in the test split
    images: np.ndarray  # read-only uint8 copy, N x H x W x C (small: crosses threads safely)
    labels: tuple[int, ...]


def choose_probes(x_test: np.ndarray, y_test: np.ndarray, count: int = PROBE_COUNT) -> ProbeSet | None:
    """The first test images of each class in turn, so every class shows up; same set every run."""
    labels = np.asarray(y_test).reshape(-1)
    if len(labels) == 0:
        return None
    by_class = [np.flatnonzero(labels == c)[: count] for c in np.unique(labels)]
    picked: list[int] = []
    for rank in range(count):
        for members in by_class:
            if rank < len(members) and len(picked) < count:
                picked.append(int(members[rank]))
    images = np.ascontiguousarray(np.asarray(x_test)[picked], dtype=np.uint8)
    images.setflags(write=False)
    return ProbeSet(tuple(picked), images, tuple(int(labels[i]) for i in picked))


def predict_probes(model, probes: ProbeSet) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """(predicted class, its probability) for each probe image; one small batched call."""
    probs = np.asarray(model(probes.images.astype("float32"), training=False))
    return tuple(int(i) for i in probs.argmax(axis=1)), tuple(float(p) for p in probs.max(axis=1))
