"""Training from the window: live plots, final test metrics, stop, save, resume, close while training."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.conftest import LONG, wait_idle
from workbench.core.training.events import TrainingFinished, TrainingStopped

SMALL = dict(arch="embedded_cnn", limit=300, batch=50)


def _configure(window, epochs: int, limit: int = SMALL["limit"], batch: int = SMALL["batch"]) -> None:
    e = window.experiment
    e.set_dataset("builtin")
    e.set_arch(SMALL["arch"])
    e.epochs.setValue(epochs)
    e.batch_size.setValue(batch)
    e.limit.setValue(limit)
    e.val_split.setValue(20)
    e.test_limit = 100  # keep the final evaluation tiny


def test_short_run_plots_points_and_shows_test_metrics(qtbot, make_window, tmp_path):
    window = make_window()
    _configure(window, epochs=2)
    with qtbot.waitSignal(window.training.run_ended, timeout=LONG) as ended:
        assert window.start_training()
        assert window.training.is_running()
        assert not window.experiment.isEnabled()  # the form is locked while training
    wait_idle(qtbot, window)
    final = ended.args[0]
    assert isinstance(final, TrainingFinished), getattr(final, "message", final)
    plots = window.training.plots
    assert len(plots.ci.items) == 4  # the legend row and three plots are still in the scene after clearing
    assert len(plots.plots["top1"].epoch_x) == 2
    assert len(plots.plots["top1"].batch_x) >= 1
    assert plots.plots["loss"].val_y and plots.plots["top5"].train_y
    assert plots.plots["top1"].test is not None
    # curves on screen hold the data
    x, _y = plots.plots["top1"].train_curve.getData()
    assert list(x) == [1.0, 2.0]
    assert "test top-1" in window.training.result_label.text()
    assert window.device_label.text()  # from TrainingStarted.device
    assert "epoch   2/2" in window.training.log_text()
    assert window.experiment.isEnabled()

    # save as .h5 (a copy of the run's model) and export plots + history
    out = tmp_path / "saved" / "model.h5"
    with qtbot.waitSignal(window.training.model_saved, timeout=LONG):
        assert window.training.save_model_as(str(out))
    assert out.exists() and out.stat().st_size > 0
    for suffix in (".png", ".svg", ".pdf"):
        path = window.training.export_plots(str(tmp_path / f"curves{suffix}"))
        assert path is not None and path.stat().st_size > 0
    csv = window.training.export_history(str(tmp_path / "history.csv"))
    assert csv is not None and csv.read_text().startswith("epoch")

    # the run appears in the runs panel; opening and overlaying it draws its curves
    with qtbot.waitSignal(window.runs.runs_listed, timeout=LONG):
        window.runs.refresh()
    assert len(window.runs.rows) == 1
    run_dir = window.runs.rows[0].run_dir
    with qtbot.waitSignal(window.runs.open_requested, timeout=LONG):
        window.runs.open_run(run_dir)
    assert len(plots.plots["top1"].epoch_x) == 2
    with qtbot.waitSignal(window.runs.overlay_requested, timeout=LONG):
        window.runs.overlay_runs([run_dir, run_dir])
    assert len(plots.overlay_names) == 2
    wait_idle(qtbot, window)


def test_stop_ends_run_early_then_save_and_resume(qtbot, make_window, tmp_path):
    window = make_window()
    _configure(window, epochs=40)
    training = window.training
    with qtbot.waitSignal(training.run_ended, timeout=LONG) as ended:
        window.start_training()
        qtbot.waitUntil(lambda: training.epochs_done >= 1, timeout=LONG)
        window.stop_action.trigger()  # Esc / Ctrl+.
    wait_idle(qtbot, window)
    final = ended.args[0]
    assert isinstance(final, TrainingStopped), final
    assert 1 <= final.epochs_completed < 40
    assert training.model_path and Path(training.model_path).exists()
    out = tmp_path / "stopped.h5"
    with qtbot.waitSignal(training.model_saved, timeout=LONG):
        training.save_model_as(str(out))
    assert out.exists()
    converted = tmp_path / "stopped.keras"  # the other format: converted through core on a worker
    with qtbot.waitSignal(training.model_saved, timeout=LONG):
        training.save_model_as(str(converted))
    from workbench.core.modelio import read_metadata

    assert read_metadata(converted)["class_names"] == list(window.browser.class_names())
    assert training.can_resume() and window.resume_action.isEnabled()

    before = len(training.plots.plots["top1"].epoch_x)
    with qtbot.waitSignal(training.run_ended, timeout=LONG) as ended2:
        assert training.resume()
        qtbot.waitUntil(lambda: len(training.plots.plots["top1"].epoch_x) > before, timeout=LONG)
        training.stop()
    wait_idle(qtbot, window)
    assert isinstance(ended2.args[0], TrainingStopped)
    xs = training.plots.plots["top1"].epoch_x
    assert xs == sorted(xs) and len(xs) > before  # the curves continued
    assert "resuming at epoch" in training.log_text()


def test_closing_while_training_stops_and_leaves_no_thread(qtbot, make_window):
    window = make_window()
    _configure(window, epochs=40)
    with qtbot.waitSignal(window.training.run_started, timeout=LONG):
        window.start_training()
    window.close()
    assert window.isVisible()  # waits for the engine to stop first
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=LONG)
    assert not window.training.is_running()
    assert window.is_idle()
    assert isinstance(window.training.final_event, TrainingStopped)


def test_bad_settings_are_reported_not_raised(qtbot, make_window):
    window = make_window()
    window.experiment.set_arch("embedded_cnn")
    window.experiment.test_limit = 10
    window.experiment.data_dir = "/nonexistent/folder"
    window.experiment.set_dataset("cifar10")  # not on disk: the engine reports TrainingFailed
    with qtbot.waitSignal(window.training.run_ended, timeout=LONG) as ended:
        window.start_training()
    wait_idle(qtbot, window)
    assert type(ended.args[0]).__name__ == "TrainingFailed"
    assert "failed" in window.training.progress.format()
    assert window.start_action.isEnabled()


@pytest.mark.parametrize("arch", ["toy_resnet"])
def test_model_view_table_and_graph(qtbot, make_window, arch):
    from workbench.gui.main_window import TAB_MODEL

    window = make_window()
    window.experiment.set_arch(arch)
    with qtbot.waitSignal(window.model_view.summary_ready, timeout=LONG):
        window.tabs.setCurrentIndex(TAB_MODEL)
    wait_idle(qtbot, window)
    summary = window.model_view.summary
    assert window.model_view.table.rowCount() == len(summary.rows)
    assert f"{summary.total_params:,}" in window.model_view.total_label.text()
    adds = [r for r in summary.rows if r.class_name == "Add"]
    assert adds and all(len(r.inbound) == 2 for r in adds)
    edges = set(window.model_view.graph.edges)
    for row in adds:
        for src in row.inbound:
            assert (src, row.name) in edges


def test_parameter_count_shown_for_dataset_classes(qtbot, make_window):
    window = make_window(count_params=True)
    window.experiment.set_arch("embedded_cnn")
    qtbot.waitUntil(lambda: window.experiment.param_count() is not None, timeout=LONG)
    assert window.experiment.param_count() > 1000
    assert f"{window.experiment.param_count():,}" in window.experiment.params_label.text()
    wait_idle(qtbot, window)


def test_closing_classify_and_evaluate_work_leaves_the_training_running(qtbot, make_window):
    """Each panel owns its tasks: shutting down the Classify panel (and cancelling Evaluate's tasks)
    once set the training stop flag too, because every panel shared one task runner."""
    window = make_window()
    _configure(window, epochs=3)
    training = window.training
    with qtbot.waitSignal(training.run_ended, timeout=LONG) as ended:
        with qtbot.waitSignal(training.run_started, timeout=LONG):
            assert window.start_training()
        window.classify.shutdown()
        window.evaluate.tasks.cancel_all()
        window.runs.tasks.cancel_all()
        assert training.is_running() and not training.worker.stop_event.is_set()
    wait_idle(qtbot, window)
    final = ended.args[0]
    assert isinstance(final, TrainingFinished), getattr(final, "message", final)
    assert final.epochs_completed == 3
