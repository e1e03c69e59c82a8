"""The training tab's log text: plain functions of plain events (no window needed)."""

from __future__ import annotations

import math

from workbench.core.training.config import TrainConfig
from workbench.gui.panels.training.text import epoch_line, format_duration, pct, start_line


def test_durations_and_percentages():
    assert format_duration(59.6) == "1:00" and format_duration(3725) == "1:02:05"
    assert format_duration(None) == format_duration(math.nan) == format_duration(-1) == "–"
    assert pct(0.1234) == "12.3 %" and pct(None) == pct(math.inf) == "–"


def test_start_line_names_what_runs():
    config = TrainConfig(dataset="builtin", arch="simple_cnn", epochs=3, batch_size=32, limit=100)
    line = start_line(config)
    assert line.startswith("Starting simple_cnn on builtin: 3 epochs, batch 32") and line.endswith("100 training images")


def test_epoch_line_without_validation_and_best_marker():
    import dataclasses

    from workbench.core.training.events import EpochEnded

    fields = {f.name for f in dataclasses.fields(EpochEnded)}
    values = dict(epoch=1, epochs=5, loss=0.5, top1=0.8, top5=0.99, val_loss=None, val_top1=None, val_top5=None,
                  learning_rate=1e-3, seconds=2.0, images_per_sec=1000.0, is_best=True)
    event = EpochEnded(**{k: v for k, v in values.items() if k in fields},
                       **{f.name: None for f in dataclasses.fields(EpochEnded)
                          if f.name not in values and f.default is dataclasses.MISSING})
    line = epoch_line(event)
    assert line.startswith("epoch   2/5: loss 0.5000 top-1 80.0 % top-5 99.0 %") and "val" not in line
    assert line.endswith("★ best")


def test_a_time_budget_reads_as_a_budget_not_its_epoch_cap():
    from workbench.core.training.config import BUDGET_EPOCH_CAP
    from workbench.core.training.events import EpochEnded

    config = TrainConfig(dataset="builtin", arch="simple_cnn", epochs=BUDGET_EPOCH_CAP, minutes=2, batch_size=32)
    line = start_line(config)
    assert line.startswith("Starting simple_cnn on builtin: 2-minute budget, batch 32") and "1000" not in line
    capped = start_line(config.replace(epochs=30))
    assert "2-minute budget, at most 30 epochs" in capped
    event = EpochEnded(epoch=0, epochs=BUDGET_EPOCH_CAP, loss=0.5, top1=0.8, top5=None, val_loss=None, val_top1=None,
                       val_top5=None, learning_rate=1e-3, seconds=2.0, images_per_sec=1000.0)
    assert epoch_line(event, minutes=2.0).startswith("epoch   1 (2-minute budget): loss")
    assert "1000" not in epoch_line(event, minutes=2.0)


def test_finished_counts_the_whole_run():
    from workbench.gui.panels.training.text import ended_text

    # A run resumed at epoch 6 of 15: the engine's figure counts both parts, not only this one's 25 s.
    assert ended_text("Finished", 15, 100.0, 25.0) == "Finished 15 epochs in 1:40 of training"
    assert ended_text("Finished", 1, None, 25.0) == "Finished 1 epoch in 0:25"
