"""The Queue tab: runs queued from the form and elsewhere train in order on the training worker, a failed one
is marked and the next runs; pause stops after the current run; the report's table renders."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from tests.gui.conftest import LONG, save_shot, wait_idle
from workbench.core.runs.queue import RunQueue
from workbench.core.training import TrainConfig

TINY = dict(dataset="builtin", epochs=1, batch_size=64, limit=128, test_limit=64)


@pytest.fixture(autouse=True)
def own_queue(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))  # each test its own queue.json


def _form_run(window, arch="embedded_cnn"):
    e = window.experiment
    e.set_dataset("builtin")
    e.set_arch(arch)
    e.epochs.setValue(1)
    e.batch_size.setValue(64)
    e.limit.setValue(128)
    e.test_limit = 64


class Ticks:
    """Event-loop latency while the queue runs: gaps between 20 ms timer ticks."""

    def __init__(self):
        self.gaps, self._last = [], time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self):
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def p99(self):
        self.timer.stop()
        gaps = sorted(self.gaps)
        return gaps[int(0.99 * (len(gaps) - 1))]


def test_three_items_run_in_order_and_a_failed_one_is_marked(qtbot, make_window, tmp_path):
    window = make_window()
    panel = window.queue
    _form_run(window)
    window.experiment.queue_button.click()  # "Add to queue" from the experiment form
    queue = RunQueue()
    # Fails by design at start: its image folder is gone by the time the queue reaches it.
    gone = tmp_path / "my_images"
    queue.add(TrainConfig(**{**TINY, "dataset": str(gone)}, arch="simple_cnn", runs_root=str(tmp_path / "runs")))
    panel.add_config(TrainConfig(**TINY, arch="simple_cnn", seed=5, runs_root=str(tmp_path / "runs")))
    panel.refresh()
    first = queue.state().items[0]
    assert first.config.arch == "embedded_cnn" and first.config.limit == 128  # the form's settings
    assert panel.table.rowCount() == 3

    ticks = Ticks()
    started = []
    window.training.run_started.connect(started.append)
    window.tabs.setCurrentWidget(panel)
    assert panel.run_queue()
    assert not panel.run_button.isEnabled()
    qtbot.waitUntil(lambda: panel.table.item(0, 1).text() == "running", timeout=LONG)
    assert window.training.is_running() and window.tabs.currentWidget() is panel  # not pulled to Training
    assert window.experiment.queue_button.isEnabled()  # more runs can be queued while the queue runs
    qtbot.waitUntil(lambda: not panel.is_active(), timeout=LONG)
    wait_idle(qtbot, window)
    p99 = ticks.p99()
    print(f"event-loop p99 while the queue ran: {1000 * p99:.0f} ms over {len(ticks.gaps)} ticks")
    items = queue.state().items
    assert [i.status for i in items] == ["done", "failed", "done"]
    assert "my_images" in items[1].message
    assert panel.table.item(1, 1).text() == "failed" and "my_images" in panel.table.item(1, 5).text()
    assert started == [items[0].run_dir, items[2].run_dir]  # in order, on the Training tab, as normal runs
    assert window.training.run_dir == items[2].run_dir  # the live plots show the last queued run
    assert len(window.training.plots.plots["top1"].epoch_x) == 1
    assert p99 < 1.0  # the window kept answering (2 shared cores; the 50 ms is for a real machine)
    save_shot(panel, "queue-panel.png")


def test_pause_stops_after_the_current_run_and_resume_goes_on(qtbot, make_window, tmp_path):
    window = make_window()
    panel = window.queue
    for seed in (1, 2):
        panel.add_config(TrainConfig(**TINY, arch="embedded_cnn", seed=seed, runs_root=str(tmp_path / "runs")))
    assert panel.run_queue()
    panel.pause_button.click()  # "Pause after this run"
    assert panel.pause_button.text().replace("&", "") == "Resume"
    qtbot.waitUntil(lambda: not panel.is_active(), timeout=LONG)
    wait_idle(qtbot, window)
    assert [i.status for i in RunQueue().state().items] == ["done", "queued"]
    panel.pause_button.click()  # Resume: unpauses and runs on
    assert panel.is_active()
    qtbot.waitUntil(lambda: not panel.is_active(), timeout=LONG)
    wait_idle(qtbot, window)
    assert [i.status for i in RunQueue().state().items] == ["done", "done"]


def test_reorder_remove_clear_and_the_report_action(qtbot, make_window, tmp_path):
    window = make_window()
    panel = window.queue
    a, b = (panel.add_config(TrainConfig(**TINY, arch="embedded_cnn", seed=s)) for s in (1, 2))
    panel.select(b.id)
    panel.up_button.click()
    assert [i.id for i in RunQueue().state().items] == [b.id, a.id]
    assert panel.table.item(0, 0).text() == "1" and not panel.up_button.isEnabled()
    panel.remove_button.click()
    assert [i.id for i in RunQueue().state().items] == [a.id]
    window.report_action.trigger()  # "Reproduce the report": asks, then six runs queued, the table shown
    assert window.tabs.currentWidget() is panel
    qtbot.waitUntil(lambda: getattr(panel, "report_dialog", None) is not None and panel.report_dialog.isVisible(),
                    timeout=10_000)
    panel.report_dialog.queue_all_button.click()
    assert [i.config.arch for i in RunQueue().state().items][1:] == [
        "toy_resnet", "embedded_cnn", "all_conv", "all_conv", "toy_resnet_deep", "simple_cnn"]
    qtbot.waitUntil(lambda: panel.report.rowCount() == 6, timeout=10_000)
    assert panel.report.item(0, 3).text() == "223,242" and panel.report.item(0, 4).text() == "—"
    panel.clear_button.click()
    assert RunQueue().state().items == () and panel.table.rowCount() == 0


def test_the_tab_follows_edits_made_from_a_terminal_and_shows_a_broken_file(qtbot, make_window):
    from workbench.cli import main

    window = make_window()
    panel = window.queue
    assert main(["queue", "add", "--dataset", "builtin", "--arch", "simple_cnn", "--epochs", "1"]) == 0
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=10_000)  # picked up without a click
    RunQueue().path.write_text("{broken")
    qtbot.waitUntil(lambda: "queue clear" in panel.state_label.text(), timeout=10_000)
    assert panel.table.rowCount() == 0 and not panel.run_button.isEnabled()
    panel.clear_button.click()  # Clear all repairs it
    assert "empty" in panel.state_label.text()


def test_closing_the_window_mid_run_stops_the_queue_and_a_new_window_resumes_that_run(qtbot, make_window, tmp_path):
    window = make_window()
    panel = window.queue
    config = TrainConfig(dataset="builtin", arch="embedded_cnn", epochs=3, batch_size=32, limit=512, test_limit=64,
                         runs_root=str(tmp_path / "runs"))
    first = panel.add_config(config)
    second = panel.add_config(config.replace(seed=9, epochs=1))
    assert panel.run_queue()
    qtbot.waitUntil(lambda: window.training.epochs_done >= 1, timeout=LONG)
    window.close()  # stops the run after its batch, as the window always did
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=LONG)
    state = RunQueue().state()
    assert [state.item(first.id).status, state.item(second.id).status] == ["stopped", "queued"]
    folder = state.item(first.id).run_dir
    assert not panel.is_active()

    again = make_window()
    resumed = []
    again.training.run_started.connect(resumed.append)
    assert again.queue.run_queue()  # the lock was given back with the first window
    qtbot.waitUntil(lambda: not again.queue.is_active(), timeout=LONG)
    wait_idle(qtbot, again)
    state = RunQueue().state()
    assert [i.status for i in state.items] == ["done", "done"]
    assert resumed[0] == folder and state.item(first.id).run_dir == folder  # the same folder, resumed
    assert json.loads((Path(folder) / "config.json").read_text())["resumed"][0]["from_epoch"] >= 1
