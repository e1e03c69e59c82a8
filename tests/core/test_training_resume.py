"""A stopped run continues from its last completed epoch, optimizer state included."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from workbench.core.training.rundir import read_history
from workbench.core.training import (
    BatchProgress,
    EpochEnded,
    TrainConfig,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
    train,
)
from workbench.core.training import engine


def test_stopped_run_resumes_from_last_completed_epoch(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "PROGRESS_INTERVAL_S", 0.0)
    config = TrainConfig(dataset="builtin", arch="embedded_cnn", epochs=3, batch_size=32, limit=128,
                         test_limit=64, run_dir=str(tmp_path / "run"))
    stop = threading.Event()

    def stop_in_second_epoch(event):
        if isinstance(event, BatchProgress) and event.epoch == 1 and event.batch == 2:
            stop.set()

    events = []
    first = train(config, lambda e: (events.append(e), stop_in_second_epoch(e)), stop)
    assert isinstance(first, TrainingStopped), first
    assert first.epochs_completed == 1
    assert [r["epoch"] for r in read_history(first.run_dir)] == [0]
    iterations_after_epoch_0 = 4  # 128 images / batch 32

    resumed_events = []
    final = train(config.replace(resume=True), resumed_events.append)
    assert isinstance(final, TrainingFinished), final
    started = resumed_events[0]
    assert isinstance(started, TrainingStarted) and started.initial_epoch == 1 and started.epochs == 3
    assert [e.epoch for e in resumed_events if isinstance(e, EpochEnded)] == [1, 2]
    assert final.epochs_completed == 3
    history = read_history(final.run_dir)
    assert [r["epoch"] for r in history] == [0, 1, 2]
    # The optimizer went on counting steps instead of starting again at zero.
    import h5py

    with h5py.File(f"{final.run_dir}/checkpoint/last.h5", "r") as f:
        assert int(f.attrs["epoch"]) == 2
        assert int(f["optimizer"]["00000"][()]) == iterations_after_epoch_0 * 3  # Adam's step counter
    import json

    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["resumed"][0]["from_epoch"] == 1


def test_resume_rejects_a_changed_network_and_finished_runs(tmp_path):
    config = TrainConfig(dataset="builtin", arch="embedded_cnn", epochs=1, batch_size=64, limit=64,
                         test_limit=32, run_dir=str(tmp_path / "run"))
    assert isinstance(train(config), TrainingFinished)
    changed = train(config.replace(resume=True, epochs=2, arch="simple_cnn"))
    assert isinstance(changed, TrainingFailed) and "arch='embedded_cnn'" in changed.message
    done = train(config.replace(resume=True))
    assert isinstance(done, TrainingFailed) and "already completed 1 of 1 epochs" in done.message


def test_checkpoint_round_trip_keeps_optimizer_state(tmp_path):
    import keras

    from workbench.core.architectures import build_model
    from workbench.core.training.checkpoint import CheckpointError, load_checkpoint, snapshot, write_checkpoint

    def compiled():
        model = build_model("embedded_cnn", 5)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
        return model

    model = compiled()
    x = np.random.default_rng(0).integers(0, 256, (64, 32, 32, 3)).astype("uint8")
    y = np.arange(64) % 5
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    weights, optimizer = snapshot(model)
    best = [w * 2 for w in weights]
    write_checkpoint(tmp_path, weights, optimizer, {"epoch": 0, "best_epoch": 0}, best)
    restored = compiled()
    state = load_checkpoint(restored, tmp_path)
    assert state["epoch"] == 0 and state["best_epoch"] == 0
    assert all((a == b).all() for a, b in zip(state["best_weights"], best))  # in the same atomic record
    assert int(restored.optimizer.iterations.numpy()) == 4
    for a, b in zip(model.optimizer.variables, restored.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not [p for p in (tmp_path / "checkpoint").iterdir() if p.name.startswith(".")]  # no temp files left
    other = build_model("simple_cnn", 5)
    other.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    with pytest.raises(CheckpointError, match="different network"):
        load_checkpoint(other, tmp_path)


def test_background_writer_reports_a_failed_write(tmp_path):
    from workbench.core.training.checkpoint import CheckpointError, CheckpointWriter

    blocker = tmp_path / "run"
    blocker.write_text("a file where the run folder should be")
    writer = CheckpointWriter(blocker)
    writer._write([np.zeros(2)], [np.zeros(1)], {"epoch": 0}, None)
    assert writer.failed.is_set()  # the training loop sees it at its next batch
    with pytest.raises(CheckpointError, match="Could not write the checkpoint"):
        writer.wait()
