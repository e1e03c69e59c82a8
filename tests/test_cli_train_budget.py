"""The CLI's train lines say a time budget as a budget: never "epoch 1/1000" or "1000 epochs"."""

from __future__ import annotations

import io

from workbench.cli.train_report import TrainReporter
from workbench.core.training import EpochEnded, TrainingStarted
from workbench.core.training.config import BUDGET_EPOCH_CAP


def _started(**kw):
    values = dict(run_dir="/runs/r", dataset="builtin", arch="simple_cnn", device="CPU", params=1000,
                  epochs=BUDGET_EPOCH_CAP, initial_epoch=0, steps_per_epoch=4, train_images=128, val_images=32,
                  minutes=2.0)
    return TrainingStarted(**{**values, **kw})


def _epoch(epochs):
    return EpochEnded(epoch=0, epochs=epochs, loss=1.0, top1=0.5, top5=1.0, val_loss=1.0, val_top1=0.5,
                      val_top5=1.0, learning_rate=1e-3, seconds=1.0, images_per_sec=100.0)


def test_a_budget_run_reads_as_a_budget():
    stream = io.StringIO()
    report = TrainReporter(stream, tty=False)  # as `queue run` makes it: the run itself says it has a budget
    report(_started())
    report(_epoch(BUDGET_EPOCH_CAP))
    text = stream.getvalue()
    assert "for 2-minute budget:" in text and "epoch   1 (2-minute budget)  loss" in text
    assert "1000" not in text


def test_an_epoch_run_reads_as_epochs():
    stream = io.StringIO()
    report = TrainReporter(stream, tty=False)
    report(_started(epochs=15, minutes=None))
    report(_epoch(15))
    text = stream.getvalue()
    assert "for 15 epochs:" in text and "epoch   1/15  loss" in text
