"""The plots' wall-time x axis: live points, a finished run's history and overlays redraw in minutes."""

from __future__ import annotations

import pytest

from workbench.gui.widgets.plots import TrainingPlots


def _plots(qtbot) -> TrainingPlots:
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    return plots


def test_live_points_switch_between_epochs_and_minutes(qtbot):
    plots = _plots(qtbot)
    plots.set_epoch_span(3)
    plots.add_batch(0.5, 1.0, 0.4, 0.9, wall=30.0)
    plots.add_epoch(1.0, {"top1": 0.5, "loss": 0.9}, {"top1": 0.45, "loss": 1.0}, True, wall=60.0)
    plots.add_epoch(2.0, {"top1": 0.6, "loss": 0.8}, {"top1": 0.55, "loss": 0.9}, True, wall=150.0)
    plots.set_test(2.0, {"top1": 0.5}, wall=150.0)
    top1 = plots.plots["top1"]
    assert top1.epoch_x == [1.0, 2.0] and top1.batch_x == [0.5]
    plots.set_x_axis("minutes")
    assert top1.epoch_x == [1.0, 2.5] and top1.batch_x == [0.5] and top1.test[0] == 2.5
    assert top1.best_x == 2.5 and top1.val_y == pytest.approx([45.0, 55.0])  # values unchanged, in percent
    assert plots.plots["loss"].plot.getAxis("bottom").labelText.startswith("wall time")
    plots.add_epoch(3.0, {"top1": 0.7}, {"top1": 0.6}, False, wall=240.0)  # a new point comes in minutes
    assert top1.epoch_x == [1.0, 2.5, 4.0]
    plots.set_x_axis("epoch")
    assert top1.epoch_x == [1.0, 2.0, 3.0]


def test_history_and_overlays_use_their_wall_seconds_column(qtbot):
    plots = _plots(qtbot)
    history = {"epoch": [0, 1], "top1": [0.5, 0.6], "val_top1": [0.4, 0.5], "wall_seconds": [120.0, 240.0]}
    old = {"epoch": [0, 1], "top1": [0.3, 0.4], "val_top1": [0.2, 0.3]}  # written before wall time existed
    plots.set_history(history)
    plots.add_overlay("older-run", old)
    plots.set_x_axis("minutes")
    assert plots.plots["top1"].epoch_x == [2.0, 4.0]
    assert plots.overlay_names == ["older-run"] and len(plots.plots["top1"].overlays) == 2
    xs = plots.plots["top1"].overlays[0].getData()[0]
    assert list(xs) == [1.0, 2.0]  # no wall time recorded: stays at its epochs
