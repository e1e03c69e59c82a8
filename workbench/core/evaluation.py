"""Evaluating a classifier on a labelled set: honest top-1/top-5, confusion matrix, per-class accuracy,
most confident mistakes, and for CIFAR-100 the same at the 20-superclass level.

`evaluate(model_or_loaded, x_uint8, y, class_names)` runs the model once and keeps every probability,
so a GUI can sort any confusion cell by confidence without predicting again.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from workbench.core.atomic_write import write_text_atomic
from workbench.core.calibration import Reliability, apply_temperature, reliability
from workbench.core.metrics import top_k_correct
from workbench.core.training.tta import tta_probabilities

# Superclass (coarse label) of each CIFAR-100 fine label, in the official label order
# (the `coarse_labels` that the official train file stores beside every `fine_labels`).
CIFAR100_FINE_TO_COARSE = (
    4, 1, 14, 8, 0, 6, 7, 7, 18, 3, 3, 14, 9, 18, 7, 11, 3, 9, 7, 11,
    6, 11, 5, 10, 7, 6, 13, 15, 3, 15, 0, 11, 1, 10, 12, 14, 16, 9, 11, 5,
    5, 19, 8, 8, 15, 13, 14, 17, 18, 10, 16, 4, 17, 4, 2, 0, 17, 4, 18, 17,
    10, 3, 2, 12, 12, 16, 12, 1, 9, 19, 2, 10, 0, 1, 16, 12, 9, 13, 15, 13,
    16, 19, 2, 4, 6, 19, 5, 5, 8, 19, 18, 1, 2, 15, 6, 0, 17, 8, 14, 13,
)
DEFAULT_BATCH_SIZE = 256
# Images resized for the model at once: bounds the extra memory when a model takes bigger images than the set.
FIT_CHUNK_BYTES = 64 * 2**20


class EvaluationError(ValueError):
    """Inputs that cannot be evaluated; the message is one readable sentence."""


@dataclass(frozen=True)
class Mistake:
    index: int
    true: int
    predicted: int
    confidence: float


@dataclass(frozen=True)
class EvaluationResult:
    class_names: tuple[str, ...]
    y_true: np.ndarray = field(repr=False)
    probabilities: np.ndarray = field(repr=False)  # N x C float32, kept for sorting cells by confidence
    top1: float = 0.0
    top5: float = 0.0
    k: int = 5  # the k of `top5` (smaller when there are fewer than 5 classes)
    confusion: np.ndarray = field(default=None, repr=False)  # C x C int64, rows = true, columns = predicted
    seconds: float = 0.0
    steps: tuple[str, ...] = ()  # what was done to the images to fit the model, in words
    reliability: Reliability | None = field(default=None, repr=False)  # ECE and its 15 bins (top-1 confidence)
    temperature: float | None = None  # the temperature the probabilities were scaled by (None: uncalibrated)

    @property
    def ece(self) -> float:
        """Expected calibration error of the top-1 confidence (15 equal-width bins; see core.calibration)."""
        return self.reliability.ece if self.reliability is not None else float("nan")

    @property
    def n(self) -> int:
        return int(len(self.y_true))

    @property
    def top5_note(self) -> str | None:
        """Why top-5 is not worth showing (5 classes or fewer: it is always 100 %), or None."""
        from workbench.core.training.topk import top5_note

        return top5_note(self.num_classes)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def y_pred(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(axis=1)

    @property
    def per_class_accuracy(self) -> np.ndarray:
        """Recall of each class (NaN for a class with no images)."""
        totals = self.confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(totals > 0, np.diag(self.confusion) / np.maximum(totals, 1), np.nan)

    def per_class(self) -> dict[str, float | None]:
        """Accuracy by class name; None (JSON null) for a class with no images."""
        return {name: (None if np.isnan(acc) else float(acc))
                for name, acc in zip(self.class_names, self.per_class_accuracy)}

    def cell_indices(self, true: int, predicted: int) -> np.ndarray:
        """Indices of images of class `true` predicted as `predicted`, most confident first."""
        pred = self.y_pred
        idx = np.flatnonzero((self.y_true == true) & (pred == predicted))
        conf = self.probabilities[idx, predicted]
        return idx[np.argsort(-conf, kind="stable")]

    def most_confident_mistakes(self, limit: int = 25) -> list[Mistake]:
        pred = self.y_pred
        wrong = np.flatnonzero(pred != self.y_true)
        conf = self.probabilities[wrong, pred[wrong]]
        order = wrong[np.argsort(-conf, kind="stable")][:limit]
        return [Mistake(int(i), int(self.y_true[i]), int(pred[i]), float(self.probabilities[i, pred[i]]))
                for i in order]

    @property
    def mistakes(self) -> list[Mistake]:
        return self.most_confident_mistakes()

    def superclass_result(self) -> "EvaluationResult | None":
        """The same evaluation at CIFAR-100's 20-superclass level (probabilities summed per superclass),
        or None when this is not a 100-class CIFAR-100 result."""
        if self.num_classes != 100:
            return None
        from workbench.core.datasets import DATASETS

        coarse_names = tuple(DATASETS["cifar100-coarse"].class_names)
        mapping = np.asarray(CIFAR100_FINE_TO_COARSE)
        probs = np.zeros((self.n, 20), np.float32)
        np.add.at(probs.T, mapping, self.probabilities.T)
        return _result(coarse_names, mapping[self.y_true], probs, self.seconds, self.steps, self.temperature)

    def write_confusion_csv(self, path: str | os.PathLike) -> None:
        """Confusion matrix as CSV: a header of predicted class names, one row per true class."""
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(["true \\ predicted", *self.class_names, "total", "accuracy"])
        acc = self.per_class_accuracy
        for i, name in enumerate(self.class_names):
            row = self.confusion[i]
            writer.writerow([name, *map(int, row), int(row.sum()), "" if np.isnan(acc[i]) else f"{acc[i]:.4f}"])
        write_text_atomic(path, out.getvalue())  # an interrupted export leaves no half file under the real name

    def summary(self) -> str:
        if self.top5_note:
            return f"{self.n} images: top-1 {self.top1:.4f} ({self.top5_note})"
        return f"{self.n} images: top-1 {self.top1:.4f}, top-{self.k} {self.top5:.4f}"


def _result(class_names: Sequence[str], y: np.ndarray, probs: np.ndarray, seconds: float,
            steps: tuple[str, ...] = (), temperature: float | None = None) -> EvaluationResult:
    c = probs.shape[1]
    k = min(5, c)
    pred = probs.argmax(axis=1)
    confusion = np.zeros((c, c), np.int64)
    np.add.at(confusion, (y, pred), 1)
    n = len(y)
    top1 = float(top_k_correct(probs, y, 1).mean()) if n else 0.0
    topk = float(top_k_correct(probs, y, k).mean()) if n else 0.0
    return EvaluationResult(class_names=tuple(class_names), y_true=y, probabilities=probs, top1=top1,
                            top5=topk, k=k, confusion=confusion, seconds=seconds, steps=tuple(steps),
                            reliability=reliability(probs, y) if n else None, temperature=temperature)


def fit_steps(image_shape: Sequence[int], model_shape: Sequence, fit: str = "crop") -> tuple[str, ...]:
    """What evaluating images of `image_shape` (h, w, c) with a model taking `model_shape` does to them,
    in words (empty when they fit as they are). Raises EvaluationError when images cannot feed the model.
    Known before any image is loaded, so callers can check and tell the user first."""
    from workbench.core.images.errors import ImageReadError
    from workbench.core.images.fit import FIT_WORDS, model_image_shape

    ih, iw, ic = (tuple(image_shape) + (3,))[:3]
    model_shape = tuple(model_shape)
    try:
        if len(model_shape) == 3:  # open sizes (fully convolutional models) take the images as they are
            model_shape = (model_shape[0] or ih, model_shape[1] or iw, model_shape[2])
        h, w, c = model_image_shape(model_shape)
    except ImageReadError as exc:
        raise EvaluationError(str(exc)) from None
    steps = []
    if (h, w) != (ih, iw):
        how = f" by {FIT_WORDS[fit]}" if ih * w != iw * h else ""
        steps.append(f"resized the {iw}×{ih} images to the model's {w}×{h}{how}")
    if c == 1 and ic == 3:
        steps.append("converted the images to grayscale (the model takes 1 channel)")
    elif c == 3 and ic == 1:
        steps.append("repeated the grayscale images in 3 channels (the model takes RGB)")
    return tuple(steps)


def _fit_chunk(x: np.ndarray, shape: tuple[int, int, int], fit: str) -> np.ndarray:
    from workbench.core.images.fit import fit_image

    return np.stack([fit_image(img, shape, fit=fit)[0] for img in x])


TTA_CHOICES = ("auto", "on", "off")
FLIP_STEP = "test-time flip: each image's probabilities averaged with its mirror image's"
SHIFT_STEP = ("test-time augmentation as the run did it: each image's probabilities averaged over 6 views (the image "
              "and its mirror, and both moved {shift} px up-left and down-right)")


def flip_for(model: Any, mirror_safe: bool, choice: str = "auto") -> bool:
    """Whether to average each image with its mirror: "auto" follows the model file (the run's own test
    figure used it) where the dataset's images may be mirrored; "on"/"off" force it. A sentence
    (EvaluationError) for "on" with images that mirroring changes (digits, text)."""
    if choice not in TTA_CHOICES:
        raise EvaluationError(f"Test-time flip must be one of {', '.join(TTA_CHOICES)}, not {choice!r}.")
    if choice == "off":
        return False
    if choice == "on" and not mirror_safe:
        raise EvaluationError("This dataset's images change meaning when mirrored (digits, letters), "
                              "so test-time flip would lower the figure; leave it off.")
    return bool(mirror_safe and (choice == "on" or getattr(model, "trained_with_flip_tta", False)))


def evaluate(model: Any, x: np.ndarray, y: Sequence[int], class_names: Sequence[str] | None = None, *,
             batch_size: int = DEFAULT_BATCH_SIZE, progress: Callable[[int, int], None] | None = None,
             cancel: Callable[[], bool] | None = None, fit: str | None = None,
             flip: bool = False) -> EvaluationResult:
    """Evaluates a LoadedModel (or a Keras model of ours: raw 0..255 pixels in, probabilities out).

    `x` is uint8 N x H x W x C, `y` integer labels. Images of another size than the model's input are
    resized as `classify` does (`fit`: crop, pad or stretch; None = the model's recorded rule, else
    crop) and converted to its channels; the
    result's `steps` say so; `flip` averages each image's probabilities with its mirror image's (see
    `flip_for`), also said in `steps`. `progress(done, total)` is called after each batch; `cancel()` returning
    True stops with EvaluationError. Raises EvaluationError with a sentence for labels or images that
    do not fit the model, for a model whose outputs are not finite, and when the model fails to run.
    """
    import time

    from workbench.core.images.fit import FIT_MODES, model_image_shape
    from workbench.core.modelio.loaded_model import LoadedModel
    from workbench.core.predict_guard import PredictionError, predict_checked

    y = np.asarray(y).reshape(-1).astype(np.int64)
    if not isinstance(model, LoadedModel):
        if class_names is None:
            raise EvaluationError("Class names are needed to evaluate a bare Keras model.")
        model = LoadedModel.from_keras(model, class_names)
    names = tuple(class_names) if class_names is not None else model.class_names
    if len(names) != model.num_classes:
        raise EvaluationError(f"The model has {model.num_classes} outputs but {len(names)} class names were given.")
    if len(x) != len(y):
        raise EvaluationError(f"There are {len(x)} images but {len(y)} labels.")
    if len(y) and (y.min() < 0 or y.max() >= len(names)):
        raise EvaluationError(
            f"The labels run from {y.min()} to {y.max()}, but the model knows only {len(names)} classes; "
            "is this the right dataset for this model?"
        )
    if len(y) == 0:
        raise EvaluationError("There are no images to evaluate.")
    fit = fit or getattr(model, "fit_rule", None) or "crop"
    if fit not in FIT_MODES:
        raise EvaluationError(f"fit must be one of {', '.join(FIT_MODES)}, not {fit!r}.")
    if np.ndim(x) != 4:
        raise EvaluationError(f"Images must be an array of shape N×H×W×C; got shape {np.shape(x)}.")
    steps = fit_steps(x.shape[1:], model.input_shape, fit)
    resize = any(step.startswith("resized") for step in steps)
    target = model_image_shape((model.input_shape[0] or x.shape[1], model.input_shape[1] or x.shape[2],
                                model.input_shape[2]))
    start = time.perf_counter()
    chunk = max(batch_size, 1) * 8  # a few batches per progress report keeps the overhead small
    if resize:
        chunk = max(1, min(chunk, FIT_CHUNK_BYTES // int(np.prod(target))))
    parts = []
    temperature = getattr(model, "temperature", None)
    # A temperature is fitted on flip-averaged probabilities (calibrate uses evaluate), so it is applied after averaging.
    scale_after = flip and temperature is not None
    shift = getattr(model, "trained_tta_shift", 0) if flip else 0  # the run's own views (airbench's six)
    raw = {"calibrated": False} if scale_after else {}
    try:
        for i in range(0, len(x), chunk):
            if cancel is not None and cancel():
                raise EvaluationError("The evaluation was cancelled.")
            batch = _fit_chunk(x[i:i + chunk], target, fit) if resize else x[i:i + chunk]
            probs = predict_checked(model, batch, batch_size=batch_size, **raw)
            if flip:  # the figure a run with test-time flip reported is only reproduced the same way
                probs = tta_probabilities(lambda view: predict_checked(model, view, batch_size=batch_size, **raw),
                                          batch, shift)
            if scale_after:
                probs = apply_temperature(probs, temperature)
            parts.append(probs)
            if progress is not None:
                progress(min(i + chunk, len(x)), len(x))
    except PredictionError as exc:
        raise EvaluationError(str(exc)) from None
    probs = np.concatenate(parts)
    tta = (FLIP_STEP if not shift else SHIFT_STEP.format(shift=shift),) if flip else ()
    return _result(names, y, probs, time.perf_counter() - start, steps + tta,
                   temperature)
