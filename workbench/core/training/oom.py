"""Out-of-memory recovery: a run that exhausts the device's memory goes on with half the batch.

``train_recovering`` wraps the engine's ``train``. When an attempt fails with out-of-memory it halves
the batch size, scales the learning rate by the same factor (the linear scaling rule: the step per
image stays the same), and trains again — resuming from the last completed epoch's checkpoint when
there is one, from scratch when none was completed. Each reduction is a BatchSizeReduced event and
is recorded in the run's config.json and result.json; below MIN_BATCH_SIZE it gives up with one sentence
and the last good model stays where the failed attempt kept it.
"""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import Any, Callable

from workbench.core.training.config import TrainConfig
from workbench.core.training.engine import train
from workbench.core.training.errors import OUT_OF_MEMORY_SENTENCE
from workbench.core.training.events import BatchSizeReduced, TrainingEvent, TrainingFailed
from workbench.core.training.rundir import CONFIG_FILE, RESULT_FILE, read_json, write_json_atomic

MIN_BATCH_SIZE = 8  # below this, batch statistics (batch norm) and throughput are too poor to be worth a run
REDUCTIONS_KEY = "batch_size_reductions"


def _is_oom(event: Any) -> bool:
    return isinstance(event, TrainingFailed) and event.out_of_memory


def train_recovering(
    config: TrainConfig,
    on_event: Callable[[TrainingEvent], None] | None = None,
    stop: threading.Event | None = None,
) -> TrainingEvent:
    """``train``, retried with half the batch after each out-of-memory failure; returns the final event."""
    emit = on_event or (lambda event: None)

    def relay(event: Any) -> None:
        if not _is_oom(event):  # an out-of-memory end is reported once we know whether the run goes on
            emit(event)

    reductions: list[dict[str, Any]] = []
    current = config
    while True:
        final = train(current, relay, stop)
        smaller = current.batch_size // 2
        if not _is_oom(final) or (stop is not None and stop.is_set()) or smaller < MIN_BATCH_SIZE:
            break
        gc.collect()  # the failed attempt's model and tensors go before the next one allocates
        old = current.batch_size
        current = _halved(current, final, smaller)
        reduced = BatchSizeReduced(
            message=(f"The device ran out of memory with batch size {old}; continuing from epoch "
                     f"{final.epochs_completed + 1} with batch size {smaller} and learning rate "
                     f"{current.learning_rate:.3g} (scaled with the batch)."),
            old_batch_size=old, batch_size=smaller, learning_rate=current.learning_rate,
            from_epoch=final.epochs_completed,
        )
        reductions.append({"from_epoch": reduced.from_epoch, "old_batch_size": reduced.old_batch_size,
                           "batch_size": smaller, "learning_rate": current.learning_rate})
        emit(reduced)
    if _is_oom(final):  # held back by relay: report it now
        if current.batch_size // 2 < MIN_BATCH_SIZE:
            final = _given_up(final, current.batch_size)
        emit(final)
    if reductions and final.run_dir:
        _record(Path(final.run_dir), reductions, current)
    return final


def _halved(config: TrainConfig, failed: TrainingFailed, batch_size: int) -> TrainConfig:
    """The next attempt: half the batch, the rate scaled alike, resumed where the failed one saved an epoch."""
    learning_rate = config.learning_rate * batch_size / config.batch_size
    if failed.run_dir and failed.epochs_completed > 0:
        return config.replace(batch_size=batch_size, learning_rate=learning_rate, resume=True,
                              run_dir=failed.run_dir)
    # Nothing completed: the engine removed what it wrote, so the run starts again (the same explicit folder).
    return config.replace(batch_size=batch_size, learning_rate=learning_rate)


def _given_up(final: TrainingFailed, batch_size: int) -> TrainingFailed:
    kept = final.message.removeprefix(OUT_OF_MEMORY_SENTENCE).strip()
    sentence = (f"The device ran out of memory even with batch size {batch_size}, and batches smaller than "
                f"{MIN_BATCH_SIZE} are not tried; choose a smaller network or free the device's memory.")
    return TrainingFailed(
        message=f"{sentence} {kept}".strip(), run_dir=final.run_dir, diverged=final.diverged,
        model_path=final.model_path, epochs_completed=final.epochs_completed, details=final.details,
        out_of_memory=True,
    )


def _record(folder: Path, reductions: list[dict[str, Any]], used: TrainConfig) -> None:
    """Note each reduction and the batch size finally used in config.json and result.json."""
    for name in (CONFIG_FILE, RESULT_FILE):
        data = read_json(folder / name)
        if not isinstance(data, dict):
            continue
        data[REDUCTIONS_KEY] = reductions
        data["batch_size_used"] = used.batch_size
        data["learning_rate_used"] = used.learning_rate
        try:
            write_json_atomic(folder / name, data)
        except OSError:
            pass  # the events already said so; the run itself is intact
