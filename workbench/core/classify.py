"""Classifying the user's image files with a loaded model: top-k labels per image, exportable as CSV.

`iter_classify` yields one `ClassifyResult` per file, in order, decoding one file at a time and
predicting small batches of fitted inputs; a caller can show each result and stop between images.
Unreadable files give a result with `error` set; the other images are still classified. A model
whose outputs are not finite is refused with `NonFiniteOutputError` (see `predict_guard`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from workbench.core.atomic_write import write_text_atomic
from workbench.core.images.errors import ImageReadError
from workbench.core.images.fit import FIT_WORDS, fit_image, model_image_shape
from workbench.core.images.prepare import prepare_image
from workbench.core.predict_guard import PredictionError, predict_checked

# Fitted inputs predicted together: one model call per image is several times slower.
PREDICT_BATCH = 32
# ... but a batch is predicted once it has waited this long, so results of slow (big) files still arrive often.
FLUSH_AFTER_S = 0.25


class ClassifyError(PredictionError):
    """The model cannot classify images at all (e.g. it takes 4-channel inputs); one sentence."""


@dataclass(frozen=True)
class ClassifyResult:
    image: str  # the file path (or a caller's label for an in-memory image)
    top: tuple[tuple[str, float], ...] = ()  # (class name, probability), best first
    error: str | None = None  # one sentence when the image could not be used
    model_input: np.ndarray | None = field(default=None, repr=False, compare=False)  # uint8 as fed
    steps: tuple[str, ...] = ()  # what was done to the image before the model saw it, in words
    original_size: tuple[int, int] | None = None  # (width, height) of the picture
    preview: np.ndarray | None = field(default=None, repr=False, compare=False)  # small RGB copy, if asked

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def label(self) -> str | None:
        return self.top[0][0] if self.top else None


def _top(probs: np.ndarray, names: Sequence[str], k: int) -> tuple[tuple[str, float], ...]:
    order = np.argsort(-probs, kind="stable")[:k]
    return tuple((names[i], float(probs[i])) for i in order)


def input_shape_for_images(loaded) -> tuple[int, int, int]:
    """(h, w, c) that images are fitted to for this model; ClassifyError when images cannot feed it."""
    try:
        return model_image_shape(loaded.input_shape)
    except ImageReadError as exc:
        raise ClassifyError(str(exc)) from None


def fit_for(loaded, fit: str | None = None) -> str:
    """The resize rule to use: `fit` when the user chose one, else the one the model was trained with
    (recorded when its data was an imported folder), else centre-crop."""
    return fit or getattr(loaded, "fit_rule", None) or "crop"


def fit_note(loaded, fit: str) -> str:
    """"as in training" when `fit` is the rule the model records, else nothing."""
    return "as in training" if fit == getattr(loaded, "fit_rule", None) else ""


def fit_warning(loaded, fit: str | None) -> str | None:
    """One sentence when a chosen `fit` differs from the rule the model was trained with; None otherwise."""
    trained = getattr(loaded, "fit_rule", None)
    if fit is None or trained is None or fit == trained:
        return None
    return (f"{loaded.name} was trained on images fitted by {FIT_WORDS[trained]} ({trained}), but {fit} "
            f"({FIT_WORDS.get(fit, fit)}) was chosen, so images of another shape look different to it than in "
            "training.")


def _with_predictions(loaded, pending: list[ClassifyResult], k: int) -> list[ClassifyResult]:
    """`pending` results (with model_input set) completed with their top-k from one batched prediction."""
    if not pending:
        return []
    probs = predict_checked(loaded, np.stack([r.model_input for r in pending]))
    return [ClassifyResult(r.image, _top(row, loaded.class_names, k), None, r.model_input, r.steps,
                           r.original_size, r.preview) for r, row in zip(pending, probs)]


def iter_classify(loaded, paths: Iterable[str | os.PathLike], *, top: int = 5, fit: str | None = None,
                  preview_size: int = 0, keep_inputs: bool = True,
                  cancel: Callable[[], bool] | None = None) -> Iterator[ClassifyResult]:
    """One ClassifyResult per path, in order, as soon as it is known.

    Files are decoded one at a time and shrunk at once (bounded memory, see `images.prepare.prepare_image`)
    by the folder import's decoder, so the pixels equal the imported ones; fitted inputs are predicted
    in batches of up to PREDICT_BATCH or every FLUSH_AFTER_S. `cancel()` is checked before each file
    and each result: once it returns True, nothing more is yielded. `fit` None uses the model's
    recorded rule (see `fit_for`). `preview_size` > 0 adds a small copy of each picture (for showing
    it); `keep_inputs=False` drops `model_input` from the results (for long runs that only report
    labels). Raises ClassifyError when the model cannot take images, NonFiniteOutputError when its
    outputs are NaN/inf, PredictionError when the model fails to run.
    """
    shape = input_shape_for_images(loaded)
    fit = fit_for(loaded, fit)
    note = fit_note(loaded, fit)
    k = max(1, min(int(top), loaded.num_classes))
    buffered: list[ClassifyResult] = []  # in order; those with model_input and no top await prediction
    started = time.monotonic()

    def cancelled() -> bool:
        return cancel is not None and bool(cancel())

    def flush() -> Iterator[ClassifyResult]:
        ready, waiting = list(buffered), [r for r in buffered if r.ok]
        buffered.clear()
        if cancelled():
            return
        done = iter(_with_predictions(loaded, waiting, k))
        for r in ready:
            if cancelled():
                return
            r = next(done) if r.ok else r
            yield r if keep_inputs else dataclasses.replace(r, model_input=None)

    for p in paths:
        if cancelled():
            return
        if not buffered:
            started = time.monotonic()  # a batch's wait includes decoding its first file
        path = os.fspath(p)
        try:
            prepared = prepare_image(path, shape, fit=fit, preview_size=preview_size, fit_note=note)
            buffered.append(ClassifyResult(path, (), None, prepared.model_input, prepared.steps,
                                           prepared.original_size, prepared.preview))
        except ImageReadError as exc:
            buffered.append(ClassifyResult(path, error=str(exc)))
        if len(buffered) >= PREDICT_BATCH or time.monotonic() - started >= FLUSH_AFTER_S:
            yield from flush()
    yield from flush()


def classify_images(loaded, paths: Iterable[str | os.PathLike], top: int = 5, *, fit: str | None = None,
                    preview_size: int = 0, keep_inputs: bool = True,
                    progress: Callable[[int, int], None] | None = None,
                    cancel: Callable[[], bool] | None = None) -> list[ClassifyResult]:
    """One ClassifyResult per path, in order (fewer when cancelled): the top-k pairs or an error sentence.

    `progress(done, total)` is called after each image. See `iter_classify` for the rest.
    """
    paths = [os.fspath(p) for p in paths]
    results: list[ClassifyResult] = []
    for result in iter_classify(loaded, paths, top=top, fit=fit, preview_size=preview_size,
                                keep_inputs=keep_inputs, cancel=cancel):
        results.append(result)
        if progress is not None:
            progress(len(results), len(paths))
    return results


def classify_arrays(loaded, images: Sequence[np.ndarray], labels: Sequence[str] | None = None, *,
                    top: int = 5, fit: str | None = None) -> list[ClassifyResult]:
    """Classifies in-memory uint8 images (any size) with a LoadedModel; same results as for files."""
    labels = list(labels) if labels is not None else [f"image {i}" for i in range(len(images))]
    shape = input_shape_for_images(loaded)
    fit = fit_for(loaded, fit)
    k = max(1, min(int(top), loaded.num_classes))
    results = []
    for label, img in zip(labels, images):
        try:
            fitted, steps = fit_image(img, shape, fit=fit)
            results.append(ClassifyResult(label, (), None, fitted, steps, (img.shape[1], img.shape[0])))
        except ImageReadError as exc:
            results.append(ClassifyResult(label, error=str(exc)))
    done = iter(_with_predictions(loaded, [r for r in results if r.ok], k))
    return [next(done) if r.ok else r for r in results]


def write_results_csv(results: Iterable[ClassifyResult], path: str | os.PathLike) -> None:
    """CSV with one row per image: image, error, label/probability pairs best first, then the steps
    taken to fit it (joined by "; "). Written atomically: a failed write leaves no partial file."""
    results = list(results)
    k = max((len(r.top) for r in results), default=0)
    header = ["image", "error"]
    for i in range(1, k + 1):
        header += [f"label_{i}", f"probability_{i}"]
    header.append("steps")
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    for r in results:
        row = [r.image, r.error or ""]
        for label, prob in r.top:
            row += [label, f"{prob:.6f}"]
        row += [""] * (2 * (k - len(r.top)))
        writer.writerow(row + ["; ".join(r.steps)])
    write_text_atomic(path, out.getvalue())  # no half-written CSV under the real name
