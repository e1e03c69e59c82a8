"""The window logs an out-of-memory batch reduction and the run still finishes."""

from __future__ import annotations

from tests.gui.conftest import LONG, wait_idle
from workbench.core.training.callbacks.fault import SIMULATE_OOM_ENV
from workbench.core.training.events import TrainingFinished


def test_window_logs_the_halved_batch_and_finishes(qtbot, make_window, monkeypatch):
    monkeypatch.setenv(SIMULATE_OOM_ENV, "1:2:16")
    window = make_window()
    e = window.experiment
    e.set_dataset("builtin")
    e.set_arch("embedded_cnn")
    e.epochs.setValue(2)
    e.batch_size.setValue(32)
    e.limit.setValue(96)
    e.test_limit = 32
    with qtbot.waitSignal(window.training.run_ended, timeout=LONG) as ended:
        assert window.start_training()
    wait_idle(qtbot, window)
    assert isinstance(ended.args[0], TrainingFinished), ended.args[0]
    log = window.training.log_text()
    assert "ran out of memory with batch size 32" in log and "from epoch 2 with batch size 16" in log
    batch_x = window.training.plots.plots["loss"].batch_x
    assert batch_x == sorted(batch_x)  # the interrupted epoch's batch points were dropped, not drawn twice
    assert len(window.training.plots.plots["loss"].epoch_x) == 2
