"""Classifying the user's image files with a loaded model: top-k labels per image, exportable as CSV.

Unreadable files give a result with `error` set; the other images of the batch are still classified.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from workbench.core.images import ImageReadError, fit_to_input, read_image

BATCH = 64  # images held in memory at once: user images can be large before fitting


@dataclass(frozen=True)
class ClassifyResult:
    image: str  # the file path (or a caller's label for an in-memory image)
    top: tuple[tuple[str, float], ...] = ()
    error: str | None = None
    model_input: np.ndarray | None = field(default=None, repr=False, compare=False)  # uint8 as fed

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def label(self) -> str | None:
        return self.top[0][0] if self.top else None


def _top(probs: np.ndarray, names: Sequence[str], k: int) -> tuple[tuple[str, float], ...]:
    order = np.argsort(-probs, kind="stable")[:k]
    return tuple((names[i], float(probs[i])) for i in order)


def classify_arrays(loaded, images: Sequence[np.ndarray], labels: Sequence[str] | None = None, *,
                    top: int = 5, fit: str = "crop") -> list[ClassifyResult]:
    """Classifies in-memory uint8 images (any size) with a LoadedModel."""
    labels = list(labels) if labels is not None else [f"image {i}" for i in range(len(images))]
    k = max(1, min(int(top), loaded.num_classes))
    fitted, results = [], []
    for label, img in zip(labels, images):
        try:
            fitted.append(fit_to_input(img, _concrete(loaded.input_shape), fit=fit))
            results.append(ClassifyResult(label))
        except ImageReadError as exc:
            fitted.append(None)
            results.append(ClassifyResult(label, error=str(exc)))
    ok = [i for i, f in enumerate(fitted) if f is not None]
    if ok:
        probs = loaded.predict_proba(np.stack([fitted[i] for i in ok]))
        for row, i in zip(probs, ok):
            results[i] = ClassifyResult(results[i].image, _top(row, loaded.class_names, k), None, fitted[i])
    return results


def _concrete(shape: tuple) -> tuple:
    # Fully convolutional models accept any size; CIFAR's 32x32 is the sensible default there.
    h, w, c = (tuple(shape) + (None,) * 3)[:3]
    return (h or 32, w or 32, c or 3)


def classify_images(loaded, paths: Iterable[str | os.PathLike], top: int = 5, *, fit: str = "crop",
                    progress: Callable[[int, int], None] | None = None,
                    cancel: Callable[[], bool] | None = None) -> list[ClassifyResult]:
    """One ClassifyResult per path, in order: the top-k (label, probability) pairs or an error sentence."""
    paths = [os.fspath(p) for p in paths]
    results: list[ClassifyResult] = []
    for start in range(0, len(paths), BATCH):
        if cancel is not None and cancel():
            break
        chunk = paths[start:start + BATCH]
        images, errors = [], {}
        for i, p in enumerate(chunk):
            try:
                images.append(read_image(p))
            except ImageReadError as exc:
                images.append(None)
                errors[i] = str(exc)
        readable = [i for i, img in enumerate(images) if img is not None]
        done = classify_arrays(loaded, [images[i] for i in readable], [chunk[i] for i in readable], top=top, fit=fit)
        by_index = dict(zip(readable, done))
        results.extend(by_index.get(i) or ClassifyResult(p, error=errors[i]) for i, p in enumerate(chunk))
        if progress is not None:
            progress(len(results), len(paths))
    return results


def write_results_csv(results: Sequence[ClassifyResult], path: str | os.PathLike) -> None:
    """CSV with one row per image: image, error, then label/probability pairs best first."""
    k = max((len(r.top) for r in results), default=0)
    header = ["image", "error"]
    for i in range(1, k + 1):
        header += [f"label_{i}", f"probability_{i}"]
    path = os.fspath(path)
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for r in results:
            row = [r.image, r.error or ""]
            for label, prob in r.top:
                row += [label, f"{prob:.6f}"]
            writer.writerow(row)
    os.replace(tmp, path)  # atomic: no half-written CSV under the real name
