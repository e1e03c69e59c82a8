"""What the training tab writes: durations, percentages and the log lines for each engine event
(plain functions of plain values, so they are tested without a window)."""

from __future__ import annotations

import math

from workbench.core.runs.epoch_words import budget_minutes, budget_text, length_text
from workbench.core.training.config import TrainConfig
from workbench.core.training.events import EpochEnded, TrainingStarted


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def pct(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{100 * value:.1f} %"


def start_line(config: TrainConfig) -> str:
    what = "Resuming" if config.resume else "Starting"
    return (
        f"{what} {config.arch} on {config.dataset}: {length_text(config.epochs, budget_minutes(config))}, "
        f"batch {config.batch_size}, "
        f"{config.optimizer} lr {config.learning_rate:g}"
        + (f", {config.limit} training images" if config.limit else "")
    )


def started_lines(e: TrainingStarted) -> str:
    shape = "×".join(str(d) for d in e.image_shape)
    return (
        f"Run folder {e.run_dir}\nDevice: {e.device} · {e.params:,} parameters · "
        f"{e.train_images:,} training / {e.val_images:,} validation images · {e.steps_per_epoch} batches per epoch"
        + (f" · resuming at epoch {e.initial_epoch + 1}" if e.initial_epoch else "")
        + f"\nImages {shape} · {e.augmentation or 'no augmentation'}"
        + (f" · {e.top5_note}, so it is not shown" if e.top5_note else "")
    )


def epochs_text(count: int) -> str:
    return f"{count} epoch{'' if count == 1 else 's'}"


def ended_text(what: str, epochs_completed: int, wall_seconds: float | None, fallback_seconds: float) -> str:
    """"Finished 15 epochs in 0:40 of training": the whole run's epochs and training time (a resumed run's
    earlier parts too); ``fallback_seconds`` (this part's, as the window counted it) only where the engine
    did not say."""
    if wall_seconds is None:
        return f"{what} {epochs_text(epochs_completed)} in {format_duration(fallback_seconds)}"
    # The engine's clock starts after the child's start-up; said, so the "elapsed" beside it is no riddle.
    return f"{what} {epochs_text(epochs_completed)} in {format_duration(wall_seconds)} of training"


def epoch_line(e: EpochEnded, minutes: float | None = None) -> str:
    """One epoch's log line; top-5 is left out where it is not measured (5 classes or fewer). Under a time
    budget (``minutes``) the epoch count is only a cap, so the budget is shown instead."""
    val = ""
    if e.val_top1 is not None:
        val = f" | val loss {e.val_loss:.4f} top-1 {pct(e.val_top1)}"
        val += f" top-5 {pct(e.val_top5)}" if e.val_top5 is not None else ""
    top5 = f" top-5 {pct(e.top5)}" if e.top5 is not None else ""
    return (
        f"epoch {e.epoch + 1:>3}{f' ({budget_text(minutes)})' if minutes else f'/{e.epochs}'}: loss {e.loss:.4f} top-1 {pct(e.top1)}{top5}{val}"
        f" | lr {e.learning_rate:.2e} | {e.seconds:.1f} s, {e.images_per_sec:,.0f} img/s"
        + ("  ★ best" if e.is_best else "")
    )
