"""Fault injection for tests: a simulated out-of-memory error at a chosen batch.

``WORKBENCH_SIMULATE_OOM="EPOCH:BATCH:ABOVE"`` raises TensorFlow's ResourceExhaustedError before
batch BATCH (1-based) of epoch EPOCH (0-based) while the batch size is above ABOVE; unset, nothing
is added. It lets the out-of-memory recovery be tested on a CPU, where memory never runs out.
"""

from __future__ import annotations

import os
from typing import Any

import keras

SIMULATE_OOM_ENV = "WORKBENCH_SIMULATE_OOM"


class SimulatedOutOfMemory(keras.callbacks.Callback):
    def __init__(self, epoch: int, batch: int) -> None:
        super().__init__()
        self.target_epoch, self.target_batch, self.epoch = epoch, batch, -1

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.epoch = epoch

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        if self.epoch == self.target_epoch and batch + 1 == self.target_batch:
            import tensorflow as tf

            raise tf.errors.ResourceExhaustedError(None, None, "simulated out of memory (WORKBENCH_SIMULATE_OOM)")


def simulated_faults(config: Any) -> list[Any]:
    """The fault callbacks the environment asks for (none in normal use)."""
    spec = os.environ.get(SIMULATE_OOM_ENV, "")
    if not spec:
        return []
    epoch, batch, above = (int(part) for part in spec.split(":"))
    return [SimulatedOutOfMemory(epoch, batch)] if config.batch_size > above else []
