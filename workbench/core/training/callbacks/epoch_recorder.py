"""Per-epoch duties: divergence checks, history.csv row, best weights, resume checkpoint, the EpochEnded event.

An epoch counts only when its training loss, its validation loss, the weights it ends with and the
network's outputs on the probe images are all finite: one bad update in the last batch leaves a finite
training loss but a network that outputs NaN.
"""

from __future__ import annotations

import math
import time

import numpy as np
from typing import Any, Callable

from keras.callbacks import Callback

from workbench.core.training.callbacks.state import RunState
from workbench.core.training.events import EpochEnded
from workbench.core.training.optim import current_learning_rate
from workbench.core.training.probes import ProbeSet, predict_probes
from workbench.core.training.rundir import HistoryWriter


def _num(logs: dict, key: str) -> float | None:
    value = logs.get(key)
    return None if value is None else float(value)


class EpochRecorder(Callback):
    def __init__(self, state: RunState, emit: Callable[[Any], None], history: HistoryWriter, *,
                 epochs: int, snapshot: Callable[[], Any], save_checkpoint: Callable[[int, Any, bool], None],
                 probes: ProbeSet | None = None) -> None:
        super().__init__()
        self.state = state
        self.emit = emit
        self.history = history
        self.epochs = epochs
        self.snapshot = snapshot  # () -> (weights, optimizer variables) as host arrays
        self.save_checkpoint = save_checkpoint
        self.probes = probes
        self._start = 0.0
        self._train_end: float | None = None
        self._steps = 0  # training steps run in this epoch

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._start = time.monotonic()
        self._train_end = None
        self._steps = 0

    def on_train_batch_end(self, batch, logs=None) -> None:
        self._steps = batch + 1  # a time budget may end the last epoch part-way: count what ran

    def on_test_begin(self, logs=None) -> None:
        if self._train_end is None:
            self._train_end = time.monotonic()  # images/s counts training, not validation

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.state.interrupted:
            return  # a partial epoch is neither recorded nor checkpointed
        logs = logs or {}
        loss, val_loss = _num(logs, "loss"), _num(logs, "val_loss")
        if loss is None or not math.isfinite(loss):
            self._diverged(epoch, "loss", float("nan") if loss is None else loss)
            return
        if val_loss is not None and not math.isfinite(val_loss):
            self._diverged(epoch, "validation loss", val_loss)
            return
        arrays = self.snapshot()
        if not all(np.isfinite(w).all() for w in arrays[0] if np.issubdtype(w.dtype, np.floating)):
            self._diverged(epoch, "weights", float("nan"))
            return
        predictions, confidences = self._probe_predictions()
        if not all(math.isfinite(c) for c in confidences):  # finite weights can still overflow to NaN outputs
            self._diverged(epoch, "outputs", float("nan"))
            return
        now = time.monotonic()
        train_seconds = (self._train_end or now) - self._start
        seconds = now - self._start
        images = min(self.state.train_images, self._steps * self.state.batch_size) or self.state.train_images
        ips = images / max(train_seconds, 1e-9)
        val_top1 = _num(logs, "val_top1")
        score = val_top1 if val_top1 is not None else _num(logs, "top1")
        is_best = score is not None and math.isfinite(score) and score > self.state.best_value
        lr = current_learning_rate(self.model.optimizer)
        self.history.append({
            "epoch": epoch, "loss": loss, "top1": _num(logs, "top1"), "top5": _num(logs, "top5"),
            "val_loss": val_loss, "val_top1": val_top1, "val_top5": _num(logs, "val_top5"),
            "lr": lr, "seconds": seconds, "images_per_sec": ips,
            "wall_seconds": now - self.state.started,
        })
        if is_best:
            self.state.best_value = score
            self.state.best_epoch = epoch
        self.save_checkpoint(epoch, arrays, is_best)
        self.state.last_saved_epoch = epoch
        self.state.epochs_completed = epoch + 1
        self.emit(EpochEnded(
            epoch=epoch, epochs=self.epochs, loss=loss, top1=_num(logs, "top1") or 0.0,
            top5=_num(logs, "top5"), val_loss=_num(logs, "val_loss"), val_top1=val_top1,
            val_top5=_num(logs, "val_top5"), learning_rate=lr, seconds=seconds, images_per_sec=ips,
            is_best=is_best, probe_predictions=predictions, probe_confidences=confidences,
            wall_seconds=now - self.state.started, images=images,
        ))

    def _diverged(self, epoch: int, what: str, value: float) -> None:
        self.state.diverged_at = (epoch, self.state.steps_per_epoch)
        self.state.diverged_what = what
        self.state.diverged_loss = value
        self.model.stop_training = True

    def _probe_predictions(self) -> tuple[tuple[int, ...], tuple[float, ...]]:
        if self.probes is None:
            return (), ()
        try:
            return predict_probes(self.model, self.probes)
        except Exception:  # probes are a view; a strategy that refuses a direct call must not end the run
            return (), ()
