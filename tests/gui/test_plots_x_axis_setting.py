"""The plots' x axis is the user's choice: remembered in gui.ini between launches, and a time-budget run
does not switch it."""

from __future__ import annotations

from workbench.core.training.events import TrainingStarted
from workbench.gui.setting_values import PLOT_X_AXIS_KEY
from tests.gui.conftest import wait_idle


def _budget_started(minutes: float = 2.0) -> TrainingStarted:
    return TrainingStarted(run_dir="/tmp/run", dataset="builtin", arch="simple_cnn", device="CPU", params=1000,
                           epochs=1000, initial_epoch=0, steps_per_epoch=4, train_images=64, val_images=16,
                           class_names=("a", "b", "c", "d", "e"), image_shape=(32, 32, 3), minutes=minutes)


def _close(qtbot, window) -> None:
    wait_idle(qtbot, window)  # the device probe first: a busy window closes later
    window.close()


def test_the_chosen_axis_is_remembered_between_launches(qtbot, make_window, gui_settings):
    window = make_window()
    assert not window.training.wall_axis.isChecked() and window.training.plots.x_axis == "epoch"
    window.training.wall_axis.setChecked(True)
    _close(qtbot, window)
    assert gui_settings.value(PLOT_X_AXIS_KEY) == "wall"
    again = make_window()
    assert again.training.wall_axis.isChecked() and again.training.plots.x_axis == "wall"
    again.training.wall_axis.setChecked(False)
    _close(qtbot, again)
    assert gui_settings.value(PLOT_X_AXIS_KEY) == "epoch"


def test_a_time_budget_run_leaves_the_axis_as_chosen(qtbot, make_window, gui_settings):
    window = make_window()
    window.training.on_event(_budget_started())
    assert not window.training.wall_axis.isChecked() and window.training.plots.x_axis == "epoch"
    _close(qtbot, window)
    assert gui_settings.value(PLOT_X_AXIS_KEY) == "epoch"  # and the next launch keeps epochs
    gui_settings.setValue(PLOT_X_AXIS_KEY, "wall")
    again = make_window()
    again.training.on_event(_budget_started())
    assert again.training.plots.x_axis == "wall"


def test_a_broken_value_falls_back_to_epochs_and_is_named(make_window, gui_settings):
    gui_settings.setValue(PLOT_X_AXIS_KEY, "minutes")  # not a choice (an older name)
    window = make_window()
    assert window.training.plots.x_axis == "epoch"
    assert PLOT_X_AXIS_KEY in window.settings_rejected
