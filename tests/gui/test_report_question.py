""""Reproduce the report…" asks first: the six runs, an estimate of their time here (from earlier runs'
measured speed, else a stated rough figure) and the missing data with Download / Open; nothing is queued
until the user says so. "Pause after this run" is only enabled when there is a run to pause."""

from __future__ import annotations

import csv

import pytest

from tests.core.cifar_fixtures import write_cifar10
from workbench.core.runs.queue import RunQueue
from workbench.core.runs.report_plan import ROUGH_IMAGES_PER_SEC, ROUGH_SOURCE, about, plan_report, run_seconds
from workbench.gui.main_window import TAB_DATASET
from workbench.gui.widgets.report_dialog import ReportDialog


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))  # each test its own queue.json
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # no CIFAR here unless a test writes it


def _fake_run(root, name, arch, speeds):
    run = root / name
    run.mkdir(parents=True)
    (run / "config.json").write_text('{"config": {"arch": "%s", "dataset": "cifar10"}}' % arch)
    with open(run / "history.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["epoch", "loss", "top1", "images_per_sec", "seconds"])
        for i, s in enumerate(speeds):
            w.writerow([i, 1.0, 0.5, s, 10.0])


def test_plan_uses_measured_speeds_where_there_are_earlier_runs(tmp_path):
    root = tmp_path / "runs"
    _fake_run(root, "a", "toy_resnet", [400.0, 500.0, 600.0])
    plan = plan_report("cifar10", root)
    toy = next(r for r in plan.runs if r.spec.arch == "toy_resnet")
    assert toy.images_per_sec == 500.0 and toy.measured_epochs == 3 and "measured here" in toy.source
    assert toy.seconds == pytest.approx(run_seconds(500.0))
    other = next(r for r in plan.runs if r.spec.arch == "embedded_cnn")
    assert other.measured_epochs == 0 and other.source == ROUGH_SOURCE
    assert other.images_per_sec == ROUGH_IMAGES_PER_SEC["embedded_cnn"]
    assert 20 * 60 < run_seconds(950.0) < 30 * 60  # 30 toy_resnet epochs on a 2-core CPU: about 23 minutes
    assert about(23 * 60) == "about 23 min" and about(115 * 60) == "about 1 h 55 min"


def _question(qtbot, window) -> ReportDialog:
    window.reproduce_report()
    qtbot.waitUntil(lambda: getattr(window.queue, "report_dialog", None) is not None
                    and window.queue.report_dialog.isVisible(), timeout=30_000)
    return window.queue.report_dialog


def test_reproduce_asks_first_and_queues_only_what_the_user_chose(qtbot, make_window, tmp_path):
    window = make_window()
    queue = RunQueue()
    dialog = _question(qtbot, window)
    assert window.tabs.currentWidget() is window.queue
    text = dialog.text.text()
    assert not queue.state().items  # nothing queued before the answer
    assert text.count("30 epochs") >= 6 and "estimate" in text and ROUGH_SOURCE in text
    assert "CIFAR-10" in text and "CIFAR-100" in text and "not on disk" in text
    assert set(dialog.data_buttons) == {"cifar10", "cifar100"}
    # no data at all here: "queue the runs whose data is here" would queue nothing, so it is not offered
    assert not dialog.queue_with_data_button.isVisible()
    dialog.cancel_button.click()
    assert not queue.state().items and "Nothing was queued" in window.status_label.text()

    dialog = _question(qtbot, window)
    dialog.queue_all_button.click()
    assert len(queue.state().items) == 6


def test_the_runs_whose_data_is_missing_can_be_left_out(qtbot, make_window, tmp_path):
    write_cifar10(tmp_path / "keras" / "datasets")
    window = make_window()
    dialog = _question(qtbot, window)
    assert set(dialog.data_buttons) == {"cifar100"}
    assert dialog.queue_with_data_button.isVisible() and "3 runs" in dialog.queue_with_data_button.text()
    dialog.queue_with_data_button.click()
    items = RunQueue().state().items
    assert len(items) == 3 and {i.config.dataset for i in items} == {"cifar10"}
    assert "left out" in window.status_label.text()


def test_download_button_takes_the_user_to_the_missing_dataset(qtbot, make_window, monkeypatch):
    window = make_window()
    started = []
    monkeypatch.setattr(window.browser, "start_download", lambda: started.append(window.browser.dataset_id))
    dialog = _question(qtbot, window)
    dialog.data_buttons["cifar100"][0].click()
    assert not dialog.isVisible() and not RunQueue().state().items
    assert window.tabs.currentIndex() == TAB_DATASET
    assert window.experiment.dataset_id() == "cifar100" and started == ["cifar100"]


def test_pause_is_only_offered_with_a_run_to_pause(qtbot, make_window):
    window = make_window()
    panel = window.queue
    dialog = _question(qtbot, window)
    dialog.queue_all_button.click()
    panel.refresh()
    assert panel.state().items  # six queued, none running
    assert not panel.pause_button.isEnabled()


def test_queue_bar_names_the_work_after_the_last_batch(qtbot, make_window):
    from workbench.core.training.events import BatchProgress, FinishingProgress

    panel = make_window().queue
    panel._epochs = 3
    panel._on_event(BatchProgress(epoch=2, batch=5, steps=5, loss=1, top1=0, top5=0, images_per_sec=1, elapsed=1))
    panel._on_event(FinishingProgress(phase="testing", done=1200, total=2000, seconds=1.0, elapsed=9.0))
    assert panel.progress.format() == "epoch 3/3 · testing 1,200/2,000"
