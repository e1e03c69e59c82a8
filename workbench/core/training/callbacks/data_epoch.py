"""Tells the input pipeline which epoch fit is starting, so its batches are that epoch's."""

from __future__ import annotations

from typing import Any

from keras.callbacks import Callback


class EpochFeed(Callback):
    """Sets the pipeline's epoch variable at each epoch's start: the epoch fit counts (from initial_epoch on a
    resume), whatever iterations of the dataset Keras made before (it peeks at one batch to build a model)."""

    def __init__(self, epoch_variable: Any) -> None:
        super().__init__()
        self.epoch_variable = epoch_variable

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.epoch_variable.assign(epoch)
