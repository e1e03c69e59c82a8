"""Per-epoch duties: history.csv row, best weights, resume checkpoint, the EpochEnded event."""

from __future__ import annotations

import math
import time
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
                 epochs: int, remember_best: Callable[[], None], save_checkpoint: Callable[[int], None],
                 probes: ProbeSet | None = None) -> None:
        super().__init__()
        self.state = state
        self.emit = emit
        self.history = history
        self.epochs = epochs
        self.remember_best = remember_best
        self.save_checkpoint = save_checkpoint
        self.probes = probes
        self._start = 0.0
        self._train_end: float | None = None

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._start = time.monotonic()
        self._train_end = None

    def on_test_begin(self, logs=None) -> None:
        if self._train_end is None:
            self._train_end = time.monotonic()  # images/s counts training, not validation

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.state.interrupted:
            return  # a partial epoch is neither recorded nor checkpointed
        logs = logs or {}
        loss = _num(logs, "loss")
        if loss is None or not math.isfinite(loss):
            self.state.diverged_at = (epoch, self.state.steps_per_epoch)
            self.state.diverged_loss = float("nan") if loss is None else loss
            self.model.stop_training = True
            return
        now = time.monotonic()
        train_seconds = (self._train_end or now) - self._start
        seconds = now - self._start
        ips = self.state.train_images / max(train_seconds, 1e-9)
        val_top1 = _num(logs, "val_top1")
        score = val_top1 if val_top1 is not None else _num(logs, "top1")
        is_best = score is not None and math.isfinite(score) and score > self.state.best_value
        lr = current_learning_rate(self.model.optimizer)
        self.history.append({
            "epoch": epoch, "loss": loss, "top1": _num(logs, "top1"), "top5": _num(logs, "top5"),
            "val_loss": _num(logs, "val_loss"), "val_top1": val_top1, "val_top5": _num(logs, "val_top5"),
            "lr": lr, "seconds": seconds, "images_per_sec": ips,
        })
        if is_best:
            self.state.best_value = score
            self.state.best_epoch = epoch
            self.remember_best()
        self.save_checkpoint(epoch)
        self.state.last_saved_epoch = epoch
        self.state.epochs_completed = epoch + 1
        predictions, confidences = self._probe_predictions()
        self.emit(EpochEnded(
            epoch=epoch, epochs=self.epochs, loss=loss, top1=_num(logs, "top1") or 0.0,
            top5=_num(logs, "top5") or 0.0, val_loss=_num(logs, "val_loss"), val_top1=val_top1,
            val_top5=_num(logs, "val_top5"), learning_rate=lr, seconds=seconds, images_per_sec=ips,
            is_best=is_best, probe_predictions=predictions, probe_confidences=confidences,
        ))

    def _probe_predictions(self) -> tuple[tuple[int, ...], tuple[float, ...]]:
        if self.probes is None:
            return (), ()
        try:
            return predict_probes(self.model, self.probes)
        except Exception:  # probes are a view; a strategy that refuses a direct call must not end the run
            return (), ()
