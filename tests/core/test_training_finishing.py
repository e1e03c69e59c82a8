"""After an epoch's last batch the run keeps reporting: validation, the final test (with and without the
test-time flip) and the saving each send FinishingProgress, on real tiny runs of the built-in dataset."""

from __future__ import annotations

import pickle
import threading

from workbench.core.training import (
    BatchProgress,
    EpochEnded,
    FinishingProgress,
    TrainConfig,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
    train,
)
from workbench.core.training import engine
from workbench.core.training.events import CONFUSION, SAVING, TESTING, TESTING_FLIPPED, VALIDATING


def _run(tmp_path, stop=None, hook=None, **changes):
    base = dict(dataset="builtin", arch="embedded_cnn", epochs=2, batch_size=32, limit=192, test_limit=96,
                run_dir=str(tmp_path / "run"))
    base.update(changes)
    events = []

    def on_event(e):
        events.append(e)
        if hook:
            hook(e)

    final = train(TrainConfig(**base), on_event, stop)
    return final, events


def _phases(events):
    return [e for e in events if isinstance(e, FinishingProgress)]


def test_every_phase_after_the_last_batch_reports_progress(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "PROGRESS_INTERVAL_S", 0.0)
    final, events = _run(tmp_path, tta_flip=False)
    assert isinstance(final, TrainingFinished)
    started = next(e for e in events if isinstance(e, TrainingStarted))
    assert started.test_images == 96 and started.final_passes == 2  # confusion matrix + test
    phases = _phases(events)
    assert {p.phase for p in phases} == {VALIDATING, CONFUSION, TESTING, SAVING}
    for p in phases:
        assert 0 <= p.done <= p.total and p.seconds >= 0 and p.elapsed >= 0
    # Validation every epoch, counted in images up to the validation split's size, before its EpochEnded.
    val = [p for p in phases if p.phase == VALIDATING]
    assert val[-1].done == val[-1].total == started.val_images
    assert [p.done for p in val if p.done == p.total] == [started.val_images] * 2
    first_epoch_end = events.index(next(e for e in events if isinstance(e, EpochEnded)))
    assert any(isinstance(e, FinishingProgress) and e.phase == VALIDATING for e in events[:first_epoch_end])
    # After the last epoch: the test pass for the confusion matrix, the test, then saving, in that order.
    last_epoch = max(i for i, e in enumerate(events) if isinstance(e, EpochEnded))
    after = [(p.phase, p.done, p.total) for p in events[last_epoch:] if isinstance(p, FinishingProgress)]
    order = [ph for ph, _, _ in after]
    assert order.index(CONFUSION) < order.index(TESTING) < len(order) - 1 - order[::-1].index(SAVING)
    assert (TESTING, 96, 96) in after and (CONFUSION, 96, 96) in after
    assert after[-1] == (SAVING, 2, 2)  # model.h5 and best.h5
    assert isinstance(events[-1], TrainingFinished)
    assert all(pickle.loads(pickle.dumps(p)) == p for p in phases)  # plain values: they cross processes


def test_flip_test_reports_as_its_own_phase(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "PROGRESS_INTERVAL_S", 0.0)
    final, events = _run(tmp_path, epochs=1, tta_flip=True)
    assert isinstance(final, TrainingFinished)
    started = next(e for e in events if isinstance(e, TrainingStarted))
    assert started.final_passes == 3  # the flip test runs the network twice per image
    flipped = [p for p in _phases(events) if p.phase == TESTING_FLIPPED]
    assert flipped and flipped[-1].done == flipped[-1].total == 96
    assert not [p for p in _phases(events) if p.phase == TESTING]


def test_default_throttle_keeps_reports_few(tmp_path):
    final, events = _run(tmp_path, epochs=1, limit=640, test_limit=320, batch_size=16)
    assert isinstance(final, TrainingFinished)
    phases = _phases(events)
    per_phase = {}
    for p in phases:
        per_phase.setdefault(p.phase, []).append(p)
    for name, reports in per_phase.items():
        assert reports[-1].done == reports[-1].total, name  # each phase's end is always reported
    # 20 test batches in well under a second: the first and last report, not one per batch
    assert len(per_phase[TESTING]) < 20


def test_a_stopped_run_reports_its_saving(tmp_path):
    stop = threading.Event()

    def hook(e):
        if isinstance(e, BatchProgress):
            stop.set()

    final, events = _run(tmp_path, stop=stop, hook=hook, epochs=3)
    assert isinstance(final, TrainingStopped)
    saving = [p for p in _phases(events) if p.phase == SAVING]
    assert saving and saving[-1].done == saving[-1].total
    assert not [p for p in _phases(events) if p.phase in (TESTING, CONFUSION)]
