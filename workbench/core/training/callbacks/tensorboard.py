"""TensorBoard scalars written once per epoch (no per-batch hooks, no graph dump).

Uses the core ``tf.summary.write`` with the scalars plugin's metadata, so the logs work in
TensorBoard without the ``tensorboard`` package being installed where training runs.
"""

from __future__ import annotations

import os

import tensorflow as tf
from keras.callbacks import Callback
from tensorflow.core.framework import summary_pb2

from workbench.core.training.callbacks.state import RunState
from workbench.core.training.optim import current_learning_rate

_SCALAR_METADATA = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
).SerializeToString()


class EpochScalars(Callback):
    """Same layout as keras.callbacks.TensorBoard: logs/train and logs/validation, ``epoch_<metric>``."""

    def __init__(self, log_dir: str, state: RunState) -> None:
        super().__init__()
        self.state = state
        self._train = tf.summary.create_file_writer(os.path.join(log_dir, "train"))
        self._val = tf.summary.create_file_writer(os.path.join(log_dir, "validation"))
        self._working = True

    @staticmethod
    def _scalar(tag: str, value: float, step: int) -> None:
        tf.summary.write(tag, tf.constant(float(value), tf.float32), step=step, metadata=_SCALAR_METADATA)

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.state.interrupted or not self._working:
            return
        logs = logs or {}
        try:
            with self._train.as_default():
                for key, value in logs.items():
                    if not key.startswith("val_"):
                        self._scalar(f"epoch_{key}", value, epoch)
                self._scalar("epoch_learning_rate", current_learning_rate(self.model.optimizer), epoch)
            with self._val.as_default():
                for key, value in logs.items():
                    if key.startswith("val_"):
                        self._scalar(f"epoch_{key[4:]}", value, epoch)
            self._train.flush()
            self._val.flush()
        except (tf.errors.OpError, OSError, TypeError, ValueError):
            self._working = False  # logs are a convenience: a full disk must not end the run

    def on_train_end(self, logs=None) -> None:
        self._train.close()
        self._val.close()
