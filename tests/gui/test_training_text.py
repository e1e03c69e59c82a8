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
