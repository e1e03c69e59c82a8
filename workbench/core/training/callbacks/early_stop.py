"""Early stopping on validation top-1 that ignores interrupted epochs and keeps the best weights."""

from __future__ import annotations

import math

from keras.callbacks import Callback

from workbench.core.training.callbacks.state import RunState


class EarlyStopper(Callback):
    """Stops after ``patience`` epochs without a better val top-1 and restores the best weights."""

    def __init__(self, state: RunState, patience: int, monitor: str = "val_top1") -> None:
        super().__init__()
        self.state = state
        self.patience = patience
        self.monitor = monitor
        self.best = -math.inf
        self.wait = 0
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.state.interrupted:
            return
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(value):
            return
        if value > self.best:
            self.best, self.wait = value, 0
            self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.state.early_stopped = True
            self.model.stop_training = True

    def restore_best(self) -> None:
        """Put the best epoch's weights back (called by the engine when a run ends normally)."""
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
