"""TensorBoard logs written once per epoch (no per-batch hooks, no graph dump): scalars, the probe grid,
HParams (the run's settings, so the HParams dashboard compares runs) and, at the end, the confusion
matrix and test top-1/top-5 of the final model.

Same layout as keras.callbacks.TensorBoard: logs/train and logs/validation hold ``epoch_<metric>``;
logs/ itself holds the HParams session, the images and ``test_top1``/``test_top5``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import tensorflow as tf
from keras.callbacks import Callback
from tensorflow.core.framework import summary_pb2

from workbench.core.training.callbacks.state import RunState
from workbench.core.training.callbacks.tb_images import confusion_image, probe_grid
from workbench.core.training.events import CONFUSION
from workbench.core.training.optim import current_learning_rate
from workbench.core.training.phase_progress import PhaseProgress
from workbench.core.training.probes import ProbeSet, predict_probes

_SCALAR_METADATA = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
).SerializeToString()
# What the HParams dashboard shows per run: (tag, folder under logs/, column title).
HPARAM_METRICS = (
    ("epoch_top1", "validation", "val top-1"), ("epoch_loss", "validation", "val loss"),
    ("epoch_top1", "train", "train top-1"), ("test_top1", "", "test top-1"), ("test_top5", "", "test top-5"),
)


def hparam_values(config: dict[str, Any]) -> dict[str, Any]:
    """A TrainConfig dict as HParams: plain values only; architecture options as ``option.NAME``."""
    skip = ("run_dir", "runs_root", "data_dir", "resume", "arch_options")
    out = {k: v for k, v in config.items() if k not in skip and isinstance(v, (bool, int, float, str))}
    out.update({f"option.{k}": v for k, v in (config.get("arch_options") or {}).items()
                if isinstance(v, (bool, int, float, str))})
    return out


class EpochScalars(Callback):
    """Scalars per epoch; with ``probes`` the probe grid per epoch; with ``hparams`` an HParams session;
    with ``test`` the final confusion matrix and test accuracy."""

    def __init__(self, log_dir: str, state: RunState, hparams: dict[str, Any] | None = None,
                 probes: ProbeSet | None = None, test: Any = None, test_progress: PhaseProgress | None = None,
                 test_images: int = 0) -> None:
        super().__init__()
        self.state = state
        self.hparams, self.probes, self.test = hparams, probes, test
        self.test_progress, self.test_images = test_progress, test_images  # FinishingProgress of the test pass
        self._train = tf.summary.create_file_writer(os.path.join(log_dir, "train"))
        self._val = tf.summary.create_file_writer(os.path.join(log_dir, "validation"))
        self._root = tf.summary.create_file_writer(log_dir)
        self._working = True

    @staticmethod
    def _scalar(tag: str, value: float, step: int) -> None:
        tf.summary.write(tag, tf.constant(float(value), tf.float32), step=step, metadata=_SCALAR_METADATA)

    def _guarded(self, write) -> None:
        if not self._working:
            return
        try:
            write()
        except (tf.errors.OpError, OSError, TypeError, ValueError):
            self._working = False  # logs are a convenience: a full disk must not end the run

    def on_train_begin(self, logs=None) -> None:
        if self.hparams:
            self._guarded(self._write_hparams)

    def _write_hparams(self) -> None:
        from tensorboard.plugins.hparams import api as hp

        with self._root.as_default():
            hp.hparams_config(
                hparams=[hp.HParam(name) for name in sorted(self.hparams)],
                metrics=[hp.Metric(tag, group=group or None, display_name=title) for tag, group, title in HPARAM_METRICS],
            )
            hp.hparams(self.hparams)
        self._root.flush()

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.state.interrupted:
            return
        self._guarded(lambda: self._write_epoch(epoch, logs or {}))

    def _write_epoch(self, epoch: int, logs: dict[str, Any]) -> None:
        with self._train.as_default():
            for key, value in logs.items():
                if not key.startswith("val_"):
                    self._scalar(f"epoch_{key}", value, epoch)
            self._scalar("epoch_learning_rate", current_learning_rate(self.model.optimizer), epoch)
        with self._val.as_default():
            for key, value in logs.items():
                if key.startswith("val_"):
                    self._scalar(f"epoch_{key[4:]}", value, epoch)
        if self.probes is not None:
            predictions, _ = predict_probes(self.model, self.probes)
            with self._root.as_default():
                grid = probe_grid(self.probes.images, self.probes.labels, predictions)
                tf.summary.image("probes (green right, red wrong)", grid[None], step=epoch)
        self._train.flush()
        self._val.flush()
        self._root.flush()

    def on_train_end(self, logs=None) -> None:
        if (self.test is not None and not self.state.interrupted and self.state.epochs_completed > 0
                and self.state.diverged_at is None):
            self._guarded(self._write_test)
        self._train.close()
        self._val.close()
        self._root.close()

    def _write_test(self) -> None:
        num_classes = int(self.model.output_shape[-1])
        confusion = np.zeros((num_classes, num_classes), np.int64)
        top5_hits = seen = 0
        if self.test_progress is not None:
            self.test_progress.begin(CONFUSION, self.test_images)
        for x, y in self.test:
            probs = np.asarray(self.model(x, training=False), dtype=np.float32)
            labels = np.asarray(y).reshape(-1)
            np.add.at(confusion, (labels, probs.argmax(axis=1)), 1)
            top = np.argsort(-probs, axis=1)[:, :5]
            top5_hits += int((top == labels[:, None]).any(axis=1).sum())
            seen += len(labels)
            if self.test_progress is not None:
                self.test_progress.update(seen)
        if not seen:
            return
        step = max(0, self.state.epochs_completed - 1)
        with self._root.as_default():
            tf.summary.image("confusion matrix (rows true, columns predicted)", confusion_image(confusion)[None],
                             step=step)
            self._scalar("test_top1", np.trace(confusion) / seen, step)
            if num_classes > 5:  # with 5 classes or fewer top-5 is always 100 %
                self._scalar("test_top5", top5_hits / seen, step)
        self._root.flush()
