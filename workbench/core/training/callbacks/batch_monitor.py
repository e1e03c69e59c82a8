"""Per-batch duties: honour the stop flag, report throttled progress, notice a NaN loss or a failed write.

Keras' batch logs hold running means since the start of the epoch. Plotted as they are, a "per batch"
curve lags the network, resets at every epoch and makes the first batches of an epoch look noisier
than the rest. A report therefore carries the mean over the images since the previous report,
recovered from two running means weighted by their image counts.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Callable

from keras.callbacks import Callback

from workbench.core.training.callbacks.state import RunState
from workbench.core.training.events import VALIDATING, BatchProgress
from workbench.core.training.phase_progress import PhaseProgress


def _value(logs: Any, key: str) -> float:
    value = logs.get(key) if logs else None
    if value is None:
        return float("nan")
    try:
        return float(value)  # the only device sync, paid only when a report goes out
    except (TypeError, ValueError):
        return float("nan")


class BatchMonitor(Callback):
    def __init__(self, state: RunState, emit: Callable[[Any], None],
                 stop: threading.Event | None, interval: float = 0.1,
                 write_failed: threading.Event | None = None, val_images: int = 0) -> None:
        super().__init__()
        self.state = state
        self.emit = emit
        self.stop = stop
        self.write_failed = write_failed  # set by the checkpoint writer: the disk refused a write
        self.interval = interval
        self.val_images = val_images
        self.validation = PhaseProgress(emit, state.started, interval)  # FinishingProgress while validating
        self._epoch = 0
        self._epoch_start = 0.0
        self._last_report = 0.0
        self._reported_images = 0  # images of this epoch covered by earlier reports
        self._reported_sums: dict[str, float] = {}  # running mean x images, at the last report

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch = epoch
        self._epoch_start = self._last_report = time.monotonic()
        self._reported_images = 0
        self._reported_sums = {}

    def _since_last_report(self, logs: Any, images: int) -> dict[str, float]:
        """Mean of loss/top1/top5 over the images since the previous report of this epoch."""
        fresh = images - self._reported_images
        out = {}
        for key in ("loss", "top1", "top5"):
            total = _value(logs, key) * images
            before = self._reported_sums.get(key, 0.0)
            out[key] = (total - before) / fresh if fresh > 0 else total / max(images, 1)
            self._reported_sums[key] = total
        self._reported_images = images
        return out

    def on_train_batch_end(self, batch, logs=None) -> None:
        done = batch + 1
        steps = self.state.steps_per_epoch
        now = time.monotonic()
        if now - self._last_report >= self.interval or done >= steps:
            self._last_report = now
            loss = _value(logs, "loss")
            if not math.isfinite(loss):
                self.state.diverged_at = (self._epoch, done)
                self.state.diverged_loss = loss
                self.model.stop_training = True
                return
            images = min(done * self.state.batch_size, self.state.train_images)
            recent = self._since_last_report(logs, images)
            self.emit(BatchProgress(
                epoch=self._epoch, batch=done, steps=steps, loss=recent["loss"],
                top1=recent["top1"], top5=recent["top5"],
                images_per_sec=images / max(now - self._epoch_start, 1e-9),
                elapsed=now - self.state.started,
            ))
        # A failed checkpoint write (a full disk) ends the run now, not an epoch later.
        if self.write_failed is not None and self.write_failed.is_set():
            self.state.write_failed = True
            self.model.stop_training = True
            return
        # Checked after the report, so a stop set by the event handler takes effect on this batch.
        if self.stop is not None and self.stop.is_set():
            self.state.stop_requested = True
            self.model.stop_training = True

    def on_test_begin(self, logs=None) -> None:
        if self.state.interrupted:
            self.model.stop_evaluating = True  # Keras validates even a stopped epoch; keep it to one batch
        elif self.val_images:
            self.validation.begin(VALIDATING, self.val_images)

    def on_test_batch_end(self, batch, logs=None) -> None:
        if self.val_images and not self.state.interrupted:
            self.validation.update(min((batch + 1) * self.state.batch_size, self.val_images))

