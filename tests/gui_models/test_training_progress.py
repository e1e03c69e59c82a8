"""What the Training tab says while a run finishes: the ETA counts the test after the last epoch, each
phase's label, and the status bar's line for each event (no window needed)."""

from __future__ import annotations

import pytest

from workbench.core.training.events import (
    CONFUSION,
    SAVING,
    TESTING,
    TESTING_FLIPPED,
    VALIDATING,
    BatchProgress,
    EpochEnded,
    FinishingProgress,
    TrainingStarted,
)
from workbench.gui.panels.training.progress import INFERENCE_SPEEDUP, RunClock, activity, final_phase_label


def _started(**changes) -> TrainingStarted:
    base = dict(run_dir="r", dataset="cifar10", arch="toy_resnet", device="CPU", params=1, epochs=15,
                initial_epoch=0, steps_per_epoch=79, train_images=45_000, val_images=5_000,
                test_images=10_000, final_passes=3)
    base.update(changes)
    return TrainingStarted(**base)


def _phase(phase, done, total, seconds=1.0):
    return FinishingProgress(phase=phase, done=done, total=total, seconds=seconds, elapsed=100.0)


def test_final_test_counts_in_the_eta_from_the_training_speed_until_measured():
    clock = RunClock(_started())
    assert clock.final_seconds() == 0.0  # nothing measured yet: no guess
    clock.note_training_speed(1000.0)
    assert clock.final_seconds() == pytest.approx(3 * 10_000 / (1000.0 * INFERENCE_SPEEDUP))
    clock.note_phase(_phase(VALIDATING, 2_000, 5_000, seconds=1.0))  # measured: 2,000 images/s
    assert clock.final_seconds() == pytest.approx(3 * 10_000 / 2_000)
    clock.note_phase(_phase(VALIDATING, 10, 5_000, seconds=0.01))  # too short to trust
    assert clock.final_seconds() == pytest.approx(15.0)


def test_phase_eta_is_this_phase_then_the_passes_after_it():
    clock = RunClock(_started())
    clock.note_phase(_phase(VALIDATING, 2_000, 5_000, seconds=1.0))  # 2,000 images/s
    assert clock.phase_eta(_phase(VALIDATING, 2_000, 5_000), last_epoch=False) is None  # an ordinary epoch
    assert clock.phase_eta(_phase(VALIDATING, 2_000, 5_000, seconds=1.0), last_epoch=True) == pytest.approx(
        1.5 + 15.0)
    assert clock.phase_eta(_phase(CONFUSION, 5_000, 10_000, seconds=2.5), last_epoch=True) == pytest.approx(
        2.5 + 10.0)
    assert clock.phase_eta(_phase(TESTING_FLIPPED, 5_000, 10_000, seconds=5.0), last_epoch=True) == pytest.approx(5.0)
    assert clock.phase_eta(_phase(TESTING, 10_000, 10_000), last_epoch=True) == 0.0
    assert clock.phase_eta(_phase(SAVING, 0, 2, seconds=0.0), last_epoch=True) == 0.0


def test_phase_labels_count_images_with_separators():
    assert final_phase_label(_phase(TESTING, 1200, 2000)) == "testing 1,200/2,000"
    assert final_phase_label(_phase(SAVING, 1, 2)) == "saving 1/2"


def test_status_line_says_what_the_run_does_now():
    s = _started()
    assert activity(s, None) == "Training epoch 1/15…"
    assert activity(_started(minutes=2.0), None) == "Training epoch 1…"
    batch = BatchProgress(epoch=4, batch=3, steps=79, loss=1, top1=0, top5=0, images_per_sec=1, elapsed=1)
    assert activity(batch, s) == "Training epoch 5/15…"
    assert activity(_phase(VALIDATING, 1, 2), s) == "Validating…"
    assert activity(_phase(TESTING, 1, 2), s) == "Testing…"
    assert activity(_phase(TESTING_FLIPPED, 1, 2), s) == "Testing with flips…"
    assert activity(_phase(SAVING, 1, 2), s) == "Saving the model…"
    ended = EpochEnded(epoch=0, epochs=15, loss=1, top1=0, top5=None, val_loss=None, val_top1=None, val_top5=None,
                       learning_rate=0.1, seconds=1, images_per_sec=1)
    assert activity(ended, s) is None
