"""Memory across restarts in the window: a run cut short by closing the window is offered for resuming on
the Training tab of the next window, with what it had done; resuming continues from its epoch and Finished
counts the whole run; Dismiss is remembered."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QSettings

from tests.gui.conftest import LONG, wait_idle
from workbench.core.training.events import TrainingFinished, TrainingStarted
from workbench.gui.panels.training.resume_offer import DISMISSED_KEY, LAST_RUN_KEY


def _configure(window, epochs: int) -> None:
    e = window.experiment
    e.set_dataset("builtin")
    e.set_arch("embedded_cnn")
    e.epochs.setValue(epochs)
    e.batch_size.setValue(50)
    e.limit.setValue(300)
    e.val_split.setValue(20)
    e.test_limit = 100


def _cut_short_by_closing(qtbot, make_window) -> tuple[str, int]:
    """Train, close the window after the first epoch (it stops, saves and closes), return the run and its epochs."""
    window = make_window()
    _configure(window, epochs=4)
    training = window.training
    assert window.start_training()
    qtbot.waitUntil(lambda: training.epochs_done >= 1, timeout=LONG)
    run_dir = training.run_dir
    window.close()  # ask_before_closing is off in tests: it stops the run, saves, then closes
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=LONG)
    result = json.loads((Path(run_dir) / "result.json").read_text())
    assert result["status"] == "stopped" and 1 <= result["epochs_completed"] < 4
    return run_dir, result["epochs_completed"]


def test_a_run_cut_short_is_offered_by_the_next_window_and_resumes_where_it_stopped(qtbot, make_window,
                                                                                    gui_settings):
    run_dir, done = _cut_short_by_closing(qtbot, make_window)
    assert gui_settings.value(LAST_RUN_KEY) == run_dir  # the window remembered the run it started

    window = make_window()  # a new start of the window, same gui.ini and runs folder
    training = window.training
    bar = training.offer_bar
    qtbot.waitUntil(lambda: training.resume_offer.run is not None, timeout=LONG)
    window.tabs.setCurrentWidget(training)
    assert bar.isVisible()
    text = bar.label.text()
    assert f"Run {Path(run_dir).name} stopped at epoch {done} of 4, 0:" in text and "trained" in text
    assert training.resume_button.isEnabled() and window.resume_action.isEnabled()
    assert len(training.plots.plots["top1"].epoch_x) == done  # what it had done, on the tab

    with qtbot.waitSignal(training.run_ended, timeout=LONG) as ended, \
            qtbot.waitSignal(training.run_started, timeout=LONG):
        bar.resume_button.click()
    wait_idle(qtbot, window)
    assert not bar.isVisible()
    final = ended.args[0]
    assert isinstance(final, TrainingFinished) and final.epochs_completed == 4, final
    assert f"resuming at epoch {done + 1}" in training.log_text()
    result = json.loads((Path(run_dir) / "result.json").read_text())
    assert result["epochs_completed"] == 4 and result["wall_seconds"] == final.wall_seconds
    assert f"Finished 4 epochs in" in training.result_label.text()
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=LONG)

    third = make_window()  # finished now: nothing to offer
    wait_idle(qtbot, third)
    assert third.training.resume_offer.run is None and not third.training.offer_bar.isVisible()


def test_dismiss_is_remembered(qtbot, make_window, gui_settings, tmp_path):
    run_dir, done = _cut_short_by_closing(qtbot, make_window)
    window = make_window()
    training = window.training
    qtbot.waitUntil(lambda: training.resume_offer.run is not None, timeout=LONG)
    training.offer_bar.dismiss_button.click()
    assert training.resume_offer.run is None and not training.offer_bar.isVisible()
    assert not training.resume_button.isEnabled() and training.progress.format() == "idle"
    assert f"{run_dir}@{done}" in gui_settings.value(DISMISSED_KEY)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=LONG)

    again = make_window(settings=QSettings(gui_settings.fileName(), QSettings.Format.IniFormat))
    wait_idle(qtbot, again)
    assert again.training.resume_offer.run is None and not again.training.offer_bar.isVisible()
