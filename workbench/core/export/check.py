"""The self-check: the exported artefact against Keras on the same raw pixels."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .runtimes import Runner

MIN_AGREEMENT = 0.99  # below this a float export fails
CHECK_BATCH = 64
LATENCY_IMAGES = 20  # images timed one by one (what an app does per photo)


@dataclass(frozen=True)
class CheckResult:
    images: int
    agreement: float  # argmax agreement with Keras
    max_abs_diff: float  # the largest |Δp| over every image and class
    latency_ms: float  # per image, one image per call, after a warm-up call
    keras_latency_ms: float
    top1: float | None = None  # the artefact's accuracy where labels were given
    keras_top1: float | None = None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _one_by_one_ms(predict, images: np.ndarray) -> float:
    predict(images[:1])  # warm-up: graph building, allocation
    chosen = images[:LATENCY_IMAGES]
    start = time.perf_counter()
    for i in range(len(chosen)):
        predict(chosen[i:i + 1])
    return 1000.0 * (time.perf_counter() - start) / max(1, len(chosen))


def check_artefact(loaded, path, fmt: str, images: np.ndarray, labels: np.ndarray | None = None,
                   progress=None) -> CheckResult:
    """Runs `images` (uint8 N×H×W×C) through the artefact in its runtime and through `loaded.predict_proba`."""
    images = loaded.prepare(np.asarray(images))
    runner = Runner(path, fmt)
    want = loaded.predict_proba(images)
    got = []
    for i in range(0, len(images), CHECK_BATCH):
        got.append(runner(images[i:i + CHECK_BATCH]))
        if progress is not None:
            progress(min(len(images), i + CHECK_BATCH), len(images))
    got = np.concatenate(got) if got else np.zeros_like(want)
    agree = float(np.mean(got.argmax(1) == want.argmax(1))) if len(images) else 0.0
    diff = float(np.max(np.abs(got - want))) if len(images) else 0.0
    top1 = keras_top1 = None
    if labels is not None and len(labels):
        labels = np.asarray(labels).reshape(-1)
        top1 = float(np.mean(got.argmax(1) == labels))
        keras_top1 = float(np.mean(want.argmax(1) == labels))
    return CheckResult(len(images), agree, diff, _one_by_one_ms(runner, images),
                       _one_by_one_ms(loaded.predict_proba, images), top1, keras_top1)
