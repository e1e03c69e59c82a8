"""Feedback at every moment of a real run in the window: the bar names the validation, the test and the
saving; the ETA is cleared when the run ends; the status bar follows what the run is doing."""

from __future__ import annotations

from tests.gui.conftest import LONG, wait_idle
from workbench.core.training.events import TrainingFinished


def _record(method_owner, name, into):
    original = getattr(method_owner, name)

    def recording(text):
        into.append(text)
        return original(text)

    setattr(method_owner, name, recording)


def test_a_run_reports_every_phase_and_ends_without_an_eta(qtbot, make_window):
    window = make_window()
    e = window.experiment
    e.set_dataset("builtin")
    e.set_arch("embedded_cnn")
    e.epochs.setValue(1)
    e.batch_size.setValue(50)
    e.limit.setValue(300)
    e.val_split.setValue(20)
    e.test_limit = 100
    formats, statuses = [], []
    _record(window.training.progress, "setFormat", formats)
    window.training.status_message.connect(statuses.append)  # a test-side list: called on the GUI thread
    with qtbot.waitSignal(window.training.run_ended, timeout=LONG) as ended:
        assert window.start_training()
    wait_idle(qtbot, window)
    assert isinstance(ended.args[0], TrainingFinished)
    # the last report of each phase is always shown (a phase's end is never coalesced away)
    assert "confusion matrix 100/100" in formats
    assert "testing with flips 100/100" in formats or "testing 100/100" in formats
    assert any(f.startswith("saving ") for f in formats)
    assert formats[-1] == "finished"
    assert window.training.eta_label.text() == "ETA –"
    assert window.training.epoch_label.text() == "1 epoch done"
    assert window.training.elapsed_label.text() != "elapsed –"
    # the status bar: starting, the epoch, the validation, testing, saving, the result
    assert statuses[0] == "Starting training…"
    assert "Training epoch 1/1…" in statuses and "Validating…" in statuses and "Saving the model…" in statuses
    assert any(s.startswith("Testing") for s in statuses)
    assert statuses[-1].startswith("Finished")
    assert window.status_label.text() == statuses[-1]
    assert "Finished 1 epoch in" in window.training.result_label.text()  # not "1 epochs"
    assert all(a != b for a, b in zip(statuses, statuses[1:]))  # once per change, not per batch
    assert len(statuses) < 12
