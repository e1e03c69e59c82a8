"""The plots' wall-time x axis: live points, a finished run's history and overlays redraw in seconds since
the run began (written in s, min or h); a time budget does not switch the axis."""

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
    plots.set_x_axis("wall")
    assert top1.epoch_x == [60.0, 150.0] and top1.batch_x == [30.0] and top1.test[0] == 150.0
    assert top1.best_x == 150.0 and top1.val_y == pytest.approx([45.0, 55.0])  # values unchanged, in percent
    assert plots.plots["loss"].plot.getAxis("bottom").labelText.startswith("wall time")
    plots.add_epoch(3.0, {"top1": 0.7}, {"top1": 0.6}, False, wall=240.0)  # a new point comes in seconds
    assert top1.epoch_x == [60.0, 150.0, 240.0]
    plots.set_x_axis("epoch")
    assert top1.epoch_x == [1.0, 2.0, 3.0]


def test_history_and_overlays_use_their_wall_seconds_column(qtbot):
    plots = _plots(qtbot)
    history = {"epoch": [0, 1], "top1": [0.5, 0.6], "val_top1": [0.4, 0.5], "wall_seconds": [120.0, 240.0]}
    old = {"epoch": [0, 1], "top1": [0.3, 0.4], "val_top1": [0.2, 0.3]}  # written before wall time existed
    plots.set_history(history)
    plots.add_overlay("older-run", old)
    plots.set_x_axis("wall")
    assert plots.plots["top1"].epoch_x == [120.0, 240.0]
    assert plots.overlay_names == ["older-run"] and len(plots.plots["top1"].overlays) == 2
    xs = plots.plots["top1"].overlays[0].getData()[0]
    assert list(xs) == [1.0, 2.0]  # no wall time recorded: stays at its epochs


def test_a_resumed_runs_later_sessions_follow_the_earlier_ones_in_time(qtbot):
    plots = _plots(qtbot)
    # wall_seconds counts from each session's start: the resumed session's clock began at 0 again
    history = {"epoch": [0, 1, 2, 3], "top1": [0.1, 0.2, 0.3, 0.4], "wall_seconds": [10.0, 20.0, 5.0, 15.0]}
    plots.set_x_axis("wall")
    plots.set_history(history)
    assert plots.plots["top1"].epoch_x == [10.0, 20.0, 25.0, 35.0]
    plots.start_live()  # resumed again: its first epoch ends 8 s into the new session
    plots.add_epoch(5.0, {"top1": 0.5}, {"top1": 0.45}, False, wall=8.0)
    assert plots.plots["top1"].epoch_x[-1] == 43.0
    plots.set_x_axis("epoch")  # a switch redraws the stored history and the resumed run's points alike
    assert plots.plots["top1"].epoch_x == [1.0, 2.0, 3.0, 4.0, 5.0]
    plots.set_x_axis("wall")
    assert plots.plots["top1"].epoch_x == [10.0, 20.0, 25.0, 35.0, 43.0]
    plots.stop_live()


def test_a_time_budget_run_shows_progress_in_time_and_keeps_the_chosen_axis(qtbot):
    from workbench.core.training.events import BatchProgress, EpochEnded, TrainingStarted
    from workbench.gui.panels.training.panel import TrainingPanel

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.on_event(TrainingStarted(run_dir="/tmp/run", dataset="builtin", arch="simple_cnn", device="CPU",
                                   params=1000, epochs=1000, initial_epoch=0, steps_per_epoch=4, train_images=64,
                                   val_images=16, class_names=("a", "b", "c", "d", "e"), image_shape=(32, 32, 3),
                                   augmentation="no augmentation", minutes=2.0))
    view = panel  # the panel is the training view
    assert not view.wall_axis.isChecked() and view.plots.x_axis == "epoch"  # the budget does not switch it
    top1 = view.plots.plots["top1"]
    assert top1.plot.getViewBox().viewRange()[0][1] < 5  # not 0-1000: under a budget epochs are only a cap
    panel.on_event(BatchProgress(epoch=0, batch=2, steps=4, loss=1.0, top1=0.5, top5=None,
                                 images_per_sec=100.0, elapsed=30.0))
    view._flush_batch_labels()
    assert view.progress.value() == 250  # 30 s of a 120 s budget, not 2 batches of 4,000
    assert "2-minute budget" in view.progress.format() and "/1000" not in view.progress.format()
    assert view.eta_label.text() == "ETA 1:30"  # what is left of the budget
    panel.on_event(EpochEnded(epoch=0, epochs=1000, loss=1.0, top1=0.5, top5=None, val_loss=1.1, val_top1=0.4,
                              val_top5=None, learning_rate=1e-3, seconds=60.0, images_per_sec=64.0,
                              wall_seconds=60.0))
    assert top1.epoch_x == [1.0]
    view.wall_axis.setChecked(True)
    assert view.plots.x_axis == "wall" and top1.epoch_x == [60.0]
    assert top1.plot.getViewBox().viewRange()[0][1] == pytest.approx(120.0, rel=0.05)  # the budget's length
