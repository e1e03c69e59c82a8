"""Learning-rate finder (fastai's ``lr_find``): a short sweep that suggests a learning rate.

A fresh copy of the configured network trains on the configured data for ``steps`` batches while the
learning rate grows exponentially from ``start`` to ``end``; the loss after each batch is smoothed
(exponential moving average, bias-corrected) and the sweep stops once it explodes. Nothing is written:
no run folder, no model file.

The suggestion is the rate of **steepest descent**: where the smoothed loss falls fastest per decade
of learning rate, before its minimum. There training makes the most progress per step while still
stable; the rate at the minimum itself is already at the edge of divergence. When the curve has too
few points before its minimum to tell a slope, the fallback is fastai's older rule, the minimum's rate / 10.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from workbench.core.training.config import TrainConfig
from workbench.core.training.errors import TrainingError

DEFAULT_START = 1e-7
DEFAULT_END = 10.0
DEFAULT_STEPS = 100
MIN_STEPS = 20  # fewer points than this give no readable curve
MAX_STEPS = 10_000  # a sweep is meant to take seconds to minutes, not a training run
SMOOTHING = 0.98  # fastai's loss smoothing: averages over roughly the last 50 batches
DIVERGENCE_FACTOR = 4.0  # stop once the smoothed loss is 4x its best: the rate is far past useful
SKIP_START = 0.1  # the first tenth of the curve is mostly the average warming up, not a slope
MIN_POINTS_FOR_SLOPE = 5
SLOPE_SPAN = 20  # the slope at a point spans 1/20 of the curve on each side (5 points of a 100-point sweep)


@dataclass(frozen=True)
class LRFinderResult:
    learning_rates: tuple[float, ...]  # the rate of each batch
    losses: tuple[float, ...]  # smoothed loss after each batch
    raw_losses: tuple[float, ...]
    suggestion: float
    rule: str  # "steepest descent" or "minimum / 10"
    explanation: str  # one sentence for the user
    min_loss_rate: float  # the rate where the smoothed loss was lowest
    diverged: bool  # the sweep stopped early because the loss exploded
    batch_size: int
    train_images: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "suggestion": self.suggestion, "rule": self.rule, "explanation": self.explanation,
            "min_loss_rate": self.min_loss_rate, "diverged": self.diverged, "batch_size": self.batch_size,
            "train_images": self.train_images,
            "curve": [{"lr": lr, "loss": loss, "raw_loss": raw}
                      for lr, loss, raw in zip(self.learning_rates, self.losses, self.raw_losses)],
        }


def sweep_problem(config: TrainConfig, start: float, end: float, steps: int) -> str | None:
    """One sentence on why these sweep settings cannot work, or None."""
    if not (0 < start < end) or not math.isfinite(end):
        return f"The sweep needs 0 < start < end (got start {start:g}, end {end:g})."
    if not (MIN_STEPS <= steps <= MAX_STEPS):
        return f"The sweep needs between {MIN_STEPS} and {MAX_STEPS} steps (got {steps})."
    return None


def find_learning_rate(
    config: TrainConfig, *, start: float = DEFAULT_START, end: float = DEFAULT_END, steps: int = DEFAULT_STEPS,
    on_progress: Callable[[int, int], None] | None = None, stop: threading.Event | None = None,
) -> LRFinderResult:
    """Sweep the learning rate on a fresh copy of ``config``'s network; TrainingError with one sentence
    for settings or data that cannot give a curve. ``on_progress(done, steps)`` after each batch; a set
    ``stop`` ends the sweep with TrainingError("The learning-rate sweep was cancelled.")."""
    problem = sweep_problem(config, start, end, steps)
    if problem:
        raise TrainingError(problem)
    data, splits = _load(config)
    model = _build(config, data)
    rates, smoothed, raw = _sweep(model, splits.train, start, end, steps, on_progress, stop)
    if len(smoothed) < MIN_POINTS_FOR_SLOPE:
        raise TrainingError(
            f"The loss exploded after {len(smoothed)} batches, before the curve could be read; "
            f"start the sweep at a lower rate than {start:g}."
        )
    return _result(rates, smoothed, raw, diverged=len(smoothed) < steps, batch_size=config.batch_size,
                   train_images=splits.train_images)


def _load(config: TrainConfig) -> tuple[Any, Any]:
    from workbench.core.architectures import resolve_options
    from workbench.core.datasets import DatasetError, get_info, load_dataset
    from workbench.core.tf_import import ensure_tensorflow
    from workbench.core.training.inputs import input_problem_for
    from workbench.core.training.pipeline import make_splits

    try:
        get_info(config.dataset)
    except DatasetError as exc:
        raise TrainingError(str(exc)) from None
    resolve_options(config.arch, **config.arch_options)  # ValueError names the bad option
    problem = input_problem_for(config)
    if problem:
        raise TrainingError(problem)
    ensure_tensorflow()
    data = load_dataset(config.dataset, config.data_dir)
    # The sweep trains on the run's training images (its validation images stay unseen) and needs no test set.
    splits = make_splits(data, val_split=config.val_split, seed=config.seed, batch_size=config.batch_size,
                         augment=config.augment, limit=config.limit, test_limit=0, cutout_size=config.cutout,
                         flip=config.flip, translate=config.translate, padding=config.padding)
    if splits.train_images < config.batch_size:
        raise TrainingError(
            f"The sweep needs at least one full batch of {config.batch_size} training images but there are "
            f"only {splits.train_images}; lower the batch size or train on more images."
        )
    return data, splits


def _build(config: TrainConfig, data: Any) -> Any:
    import keras

    from workbench.core.architectures import build_model
    from workbench.core.training.devices import configure_devices
    from workbench.core.training.optim import make_loss, make_optimizer

    setup = configure_devices(False)
    keras.utils.set_random_seed(config.seed)
    with setup.strategy.scope():
        model = build_model(config.arch, data.num_classes, input_shape=data.image_shape, **config.arch_options)
        # A constant rate the sweep sets batch by batch; the optimizer is the run's own (same momentum etc.).
        model.compile(optimizer=make_optimizer(config.replace(lr_schedule="constant"), 1),
                      loss=make_loss(config, data.num_classes))
    return model


def _sweep(model: Any, train: Any, start: float, end: float, steps: int,
           on_progress: Callable[[int, int], None] | None, stop: threading.Event | None) -> tuple[list, list, list]:
    rates, smoothed, raw = [], [], []
    average, best = 0.0, math.inf
    batches = iter(train.repeat())  # a small dataset is gone round again
    for i in range(steps):
        if stop is not None and stop.is_set():
            raise TrainingError("The learning-rate sweep was cancelled.")
        rate = start * (end / start) ** (i / (steps - 1))
        model.optimizer.learning_rate = rate
        x, y = next(batches)
        loss = float(model.train_on_batch(x, y))  # Keras resets its metrics per call: this batch's loss
        if not math.isfinite(loss):
            break
        average = SMOOTHING * average + (1 - SMOOTHING) * loss
        value = average / (1 - SMOOTHING ** (i + 1))
        rates.append(rate)
        raw.append(loss)
        smoothed.append(value)
        best = min(best, value)
        if on_progress is not None:
            on_progress(i + 1, steps)
        if value > DIVERGENCE_FACTOR * best:
            break
    return rates, smoothed, raw


def _result(rates: list, smoothed: list, raw: list, *, diverged: bool, batch_size: int,
            train_images: int) -> LRFinderResult:
    lrs, losses = np.asarray(rates), np.asarray(smoothed)
    lowest = int(np.argmin(losses))
    skip = int(len(losses) * SKIP_START)
    half = max(1, len(losses) // SLOPE_SPAN)
    if lowest - skip - 2 * half >= MIN_POINTS_FOR_SLOPE:
        # The slope over a few points either side: the smoothed loss still wobbles from batch to batch.
        x, y = np.log10(lrs), losses
        centres = np.arange(skip + half, lowest - half + 1)
        slope = (y[centres + half] - y[centres - half]) / (x[centres + half] - x[centres - half])
        steepest = int(centres[int(np.argmin(slope))])
        suggestion, rule = float(lrs[steepest]), "steepest descent"
        after = ("and rose at higher rates" if lowest < len(losses) - 1
                 else "where the sweep ended, so a sweep to higher rates may find more")
        explanation = (f"Suggested {suggestion:.2g}: there the loss fell fastest as the rate grew (steepest "
                       f"descent); it was lowest at {float(lrs[lowest]):.2g} {after}.")
    else:
        suggestion, rule = float(lrs[lowest]) / 10, "minimum / 10"
        explanation = (f"Suggested {suggestion:.2g}: a tenth of {float(lrs[lowest]):.2g}, where the loss was "
                       "lowest (the curve fell too briefly to read a steepest slope).")
    return LRFinderResult(
        learning_rates=tuple(map(float, rates)), losses=tuple(map(float, smoothed)), raw_losses=tuple(map(float, raw)),
        suggestion=suggestion, rule=rule, explanation=explanation, min_loss_rate=float(lrs[lowest]),
        diverged=diverged, batch_size=batch_size, train_images=train_images,
    )
