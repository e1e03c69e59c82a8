"""Out of memory is recoverable: half the batch (and the learning rate), continue from the last epoch."""

from __future__ import annotations

import json

from workbench.core.training.rundir import read_history
from workbench.core.training import BatchSizeReduced, EpochEnded, TrainConfig, TrainingFailed, TrainingFinished, train
from workbench.core.training.callbacks.fault import SIMULATE_OOM_ENV
from workbench.core.training.oom import MIN_BATCH_SIZE


def _config(tmp_path, **changes):
    base = dict(dataset="builtin", arch="embedded_cnn", epochs=3, batch_size=32, learning_rate=1e-3, limit=128,
                test_limit=32, run_dir=str(tmp_path / "run"))
    return TrainConfig(**{**base, **changes})


def test_out_of_memory_halves_the_batch_and_continues(tmp_path, monkeypatch):
    monkeypatch.setenv(SIMULATE_OOM_ENV, "1:2:16")  # epoch 1, batch 2, while the batch is above 16
    events = []
    final = train(_config(tmp_path), events.append)
    assert isinstance(final, TrainingFinished), final
    reduced = [e for e in events if isinstance(e, BatchSizeReduced)]
    assert len(reduced) == 1
    assert (reduced[0].old_batch_size, reduced[0].batch_size, reduced[0].from_epoch) == (32, 16, 1)
    assert abs(reduced[0].learning_rate - 5e-4) < 1e-12  # linear scaling rule
    assert "batch size 16" in reduced[0].message and "epoch 2" in reduced[0].message
    assert not any(isinstance(e, TrainingFailed) for e in events)  # the failed attempt is not reported as the end
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [0, 1, 2]
    assert [r["epoch"] for r in read_history(final.run_dir)] == [0, 1, 2]  # no epoch twice
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert config["config"]["batch_size"] == 16 and config["batch_size_used"] == 16
    assert result["batch_size_used"] == 16 and result["status"] == "finished"
    assert result["batch_size_reductions"] == [
        {"from_epoch": 1, "old_batch_size": 32, "batch_size": 16, "learning_rate": 5e-4}]
    assert config["resumed"][0]["from_epoch"] == 1


def test_out_of_memory_in_the_first_epoch_starts_again_smaller(tmp_path, monkeypatch):
    monkeypatch.setenv(SIMULATE_OOM_ENV, "0:1:16")
    events = []
    final = train(_config(tmp_path, epochs=1), events.append)
    assert isinstance(final, TrainingFinished), final
    assert [e.batch_size for e in events if isinstance(e, BatchSizeReduced)] == [16]
    assert [r["epoch"] for r in read_history(final.run_dir)] == [0]


def test_out_of_memory_at_the_smallest_batch_gives_up_and_keeps_the_last_good_model(tmp_path, monkeypatch):
    monkeypatch.setenv(SIMULATE_OOM_ENV, "1:1:0")  # every batch size runs out of memory in epoch 1
    events = []
    final = train(_config(tmp_path, batch_size=16), events.append)
    assert isinstance(final, TrainingFailed) and final.out_of_memory
    assert [e.batch_size for e in events if isinstance(e, BatchSizeReduced)] == [8]
    assert events[-1] == final and sum(isinstance(e, TrainingFailed) for e in events) == 1
    assert f"even with batch size {MIN_BATCH_SIZE}" in final.message
    assert "The model from epoch 1 was kept" in final.message
    assert final.model_path and (tmp_path / "run" / "model.h5").is_file()
    assert [r["epoch"] for r in read_history(final.run_dir)] == [0]
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["status"] == "failed" and result["batch_size_used"] == 8


def test_a_scheduled_rate_goes_on_from_the_epochs_done_after_the_batch_halves(tmp_path, monkeypatch):
    import math

    monkeypatch.setenv(SIMULATE_OOM_ENV, "1:1:16")
    events = []
    final = train(_config(tmp_path, lr_schedule="cosine", val_split=0.0), events.append)
    assert isinstance(final, TrainingFinished), final
    ended = {e.epoch: e for e in events if isinstance(e, EpochEnded)}
    # After epoch 1: two of three epochs done, whatever the batch size was; the rate is half the base's curve.
    expected = 0.5 * 1e-3 * 0.5 * (1 + math.cos(math.pi * 2 / 3))
    assert math.isclose(ended[1].learning_rate, expected, rel_tol=1e-4), (ended[1].learning_rate, expected)


def test_a_stop_asked_for_is_not_overridden_by_a_retry(tmp_path, monkeypatch):
    import threading

    monkeypatch.setenv(SIMULATE_OOM_ENV, "1:1:16")
    stop = threading.Event()
    events = []

    def on_event(event):
        events.append(event)
        if isinstance(event, EpochEnded):
            stop.set()

    final = train(_config(tmp_path), on_event, stop)
    assert not any(isinstance(e, BatchSizeReduced) for e in events)
    assert isinstance(final, TrainingFailed) and final.out_of_memory and events[-1] == final
    assert "even with batch size" not in final.message  # it did not give up on size: the user stopped it


def test_out_of_memory_is_recognised_by_type_and_by_wording():
    from workbench.core.training.errors import is_out_of_memory

    class ResourceExhaustedError(Exception):
        pass

    class InternalError(Exception):
        pass

    assert is_out_of_memory(ResourceExhaustedError("anything"))
    assert is_out_of_memory(InternalError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 4.0GiB"))
    assert is_out_of_memory(InternalError("cuDNN launch failure: CUDNN_STATUS_ALLOC_FAILED"))
    assert not is_out_of_memory(MemoryError("out of memory"))  # the host's RAM: a smaller batch is no cure
    assert not is_out_of_memory(InternalError("Graph execution error: division by zero"))
