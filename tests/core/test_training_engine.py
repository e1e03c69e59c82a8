"""The training engine end to end on the built-in dataset: real TensorFlow training on tiny data."""

from __future__ import annotations

import csv
import json
import math
import threading
import time
from pathlib import Path

import numpy as np
import pytest

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
from workbench.core.training.rundir import HISTORY_COLUMNS

FINAL = (TrainingFinished, TrainingStopped, TrainingFailed)


def quick(tmp_path: Path, **changes) -> TrainConfig:
    base = dict(dataset="builtin", arch="embedded_cnn", epochs=1, batch_size=64, limit=256, test_limit=64,
                run_dir=str(tmp_path / "run"))
    base.update(changes)
    return TrainConfig(**base)


def run_collecting(config: TrainConfig, stop: threading.Event | None = None, hook=None):
    events = []

    def on_event(event):
        events.append(event)
        if hook:
            hook(event)

    final = train(config, on_event, stop)
    return final, events


def load(path: str):
    import keras

    return keras.saving.load_model(path, compile=False)


def test_builtin_reaches_high_test_accuracy_quickly(tmp_path):
    config = TrainConfig(dataset="builtin", arch="simple_cnn", epochs=6, batch_size=64, learning_rate=2e-3,
                         run_dir=str(tmp_path / "run"))
    t0 = time.monotonic()
    final, events = run_collecting(config)
    seconds = time.monotonic() - t0
    assert isinstance(final, TrainingFinished), final
    assert final.test_top1 >= 0.9, final
    assert final.test_top5 is None  # 5 classes: top-5 would always be right, so it is not measured
    assert final.epochs_completed == 6
    print(f"builtin simple_cnn 6 epochs: test top-1 {final.test_top1:.3f} in {seconds:.1f} s")
    # Events: started first, one final event last, one EpochEnded per epoch in order.
    assert isinstance(events[0], TrainingStarted)
    assert events[-1] is final and sum(isinstance(e, FINAL) for e in events) == 1
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == list(range(6))
    assert events[0].train_images == 1600 and events[0].val_images == 400
    assert events[0].device.startswith("CPU")
    assert events[0].class_names == ("circle", "square", "stripes", "cross", "triangle")
    ended = [e for e in events if isinstance(e, EpochEnded)]
    assert all(e.images_per_sec > 0 and e.seconds > 0 and e.learning_rate == pytest.approx(2e-3) for e in ended)
    assert sum(e.is_best for e in ended) >= 1


def test_batch_progress_is_throttled(tmp_path):
    config = quick(tmp_path, epochs=2, batch_size=16, limit=640)
    final, events = run_collecting(config)
    assert isinstance(final, TrainingFinished), final
    progress = [e for e in events if isinstance(e, BatchProgress)]
    assert progress, "no progress was reported"
    steps = progress[0].steps
    assert steps == 40
    # Besides each epoch's last batch, reports are at least ~0.1 s apart.
    for before, after in zip(progress, progress[1:]):
        if after.batch != after.steps:
            assert after.elapsed - before.elapsed >= 0.095, (before, after)
    assert len(progress) < 2 * steps  # far fewer than one per batch
    assert all(math.isfinite(p.loss) and 0 <= p.top1 <= 1 for p in progress)
    # Each report is the mean over the images since the one before (not Keras' running mean), so the
    # image-weighted mean of an epoch's reports is that epoch's own figure.
    train_images, batch_size = events[0].train_images, 16
    for ended in (e for e in events if isinstance(e, EpochEnded)):
        reports = [p for p in progress if p.epoch == ended.epoch]
        covered = [min(p.batch * batch_size, train_images) for p in reports]
        weights = np.diff([0] + covered)
        for key in ("loss", "top1"):  # (the built-in set's 5 classes have no top-5)
            mean = float(np.dot(weights, [getattr(p, key) for p in reports]) / covered[-1])
            assert mean == pytest.approx(getattr(ended, key), abs=2e-4), key


def test_stop_flag_is_honoured_within_one_batch_and_model_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "PROGRESS_INTERVAL_S", 0.0)  # report every batch so the test sees batch 3
    stop = threading.Event()

    def hook(event):
        if isinstance(event, BatchProgress) and event.batch == 3:
            stop.set()

    config = quick(tmp_path, epochs=3, batch_size=16, limit=320)
    final, events = run_collecting(config, stop, hook)
    assert isinstance(final, TrainingStopped), final
    batches = [e.batch for e in events if isinstance(e, BatchProgress)]
    assert max(batches) <= 4 and batches[-1] <= 4
    assert not any(isinstance(e, EpochEnded) for e in events)
    assert final.epochs_completed == 0
    assert Path(final.model_path).exists()
    model = load(final.model_path)
    assert model.output_shape[-1] == 5
    result = json.loads((Path(final.run_dir) / "result.json").read_text())
    assert result["status"] == "stopped"


def test_history_flushed_each_epoch_and_config_recorded(tmp_path):
    run_dir = tmp_path / "run"
    rows_seen = []

    def hook(event):
        if isinstance(event, EpochEnded):
            with open(run_dir / "history.csv") as f:
                rows_seen.append(len(list(csv.DictReader(f))))

    config = quick(tmp_path, epochs=2)
    final, _ = run_collecting(config, hook=hook)
    assert isinstance(final, TrainingFinished), final
    assert rows_seen == [1, 2]  # on disk before the epoch's event went out
    with open(run_dir / "history.csv") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == HISTORY_COLUMNS
        rows = list(reader)
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    assert all(float(r["val_top1"]) >= 0 and float(r["images_per_sec"]) > 0 for r in rows)
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["config"] == json.loads(json.dumps(config.to_dict()))
    assert TrainConfig.from_dict(saved["config"]) == config
    assert set(saved["versions"]) >= {"python", "tensorflow", "keras", "numpy", "workbench"}
    assert saved["device"].startswith("CPU") and saved["class_names"][0] == "circle"
    for name in ("model.h5", "best.h5", "checkpoint/last.h5", "result.json"):
        assert (run_dir / name).exists(), name
    import tensorflow as tf

    tags = {}
    for events_file in (run_dir / "logs" / "validation").iterdir():
        for record in tf.compat.v1.train.summary_iterator(str(events_file)):
            for value in record.summary.value:
                tags.setdefault(value.tag, []).append(record.step)
    assert tags.get("epoch_top1") == [0, 1] and "epoch_loss" in tags  # TensorBoard scalars, one per epoch
    from workbench.core.modelio import read_metadata

    meta = read_metadata(run_dir / "model.h5")
    assert meta["dataset"] == "builtin" and meta["preprocessing"] == "raw_0_255" and meta["arch"] == "embedded_cnn"
    result = json.loads((run_dir / "result.json").read_text())
    assert result["status"] == "finished" and result["test_top1"] == final.test_top1


def test_keras_format_run(tmp_path):
    final, _ = run_collecting(quick(tmp_path, model_format="keras"))
    assert isinstance(final, TrainingFinished), final
    assert final.model_path.endswith("model.keras") and final.best_model_path.endswith("best.keras")
    assert load(final.model_path).output_shape[-1] == 5


def test_divergence_at_start_keeps_no_model(tmp_path):
    final, events = run_collecting(quick(tmp_path, learning_rate=1e6, optimizer="sgd", limit=512))
    assert isinstance(final, TrainingFailed), final
    assert final.diverged
    assert final.message.startswith("Training diverged at epoch 1 batch ")
    assert "Try a lower learning rate." in final.message
    assert final.model_path is None and final.epochs_completed == 0
    assert not any(isinstance(e, EpochEnded) for e in events)


def test_divergence_keeps_last_good_epoch(tmp_path):
    config = quick(tmp_path, epochs=1)
    first, _ = run_collecting(config)
    assert isinstance(first, TrainingFinished), first
    good = load(first.model_path).get_weights()
    # Resume with an absurd learning rate: epoch 2 blows up, epoch 1's model must survive.
    final, events = run_collecting(config.replace(resume=True, epochs=3, learning_rate=1e6))
    assert isinstance(final, TrainingFailed) and final.diverged, final
    assert "epoch 2" in final.message and ("NaN" in final.message or "infinite" in final.message)
    assert final.epochs_completed == 1
    kept = load(final.model_path).get_weights()
    assert all((a == b).all() for a, b in zip(good, kept))
    assert json.loads((Path(final.run_dir) / "result.json").read_text())["diverged"] is True


@pytest.mark.parametrize(
    "changes",
    [
        dict(optimizer="sgd", lr_schedule="cosine", label_smoothing=0.1, augment=True),
        dict(optimizer="rmsprop", lr_schedule="step"),
        dict(optimizer="adamw", lr_schedule="plateau", label_smoothing=0.2, early_stopping_patience=1, epochs=2),
        dict(val_split=0.0, augment=True),
    ],
    ids=["sgd-cosine-smooth-augment", "rmsprop-step", "adamw-plateau-smooth-early", "no-validation"],
)
def test_options_train_without_error(tmp_path, changes):
    final, events = run_collecting(quick(tmp_path, limit=128, **changes))
    assert isinstance(final, TrainingFinished), final
    ended = [e for e in events if isinstance(e, EpochEnded)]
    assert ended and all(math.isfinite(e.loss) for e in ended)
    if changes.get("val_split") == 0.0:
        assert ended[0].val_top1 is None and events[0].val_images == 0


def test_step_and_cosine_schedules_lower_the_rate(tmp_path):
    for schedule in ("cosine", "step"):
        final, events = run_collecting(quick(tmp_path / schedule, epochs=4, limit=64, lr_schedule=schedule))
        assert isinstance(final, TrainingFinished), final
        rates = [e.learning_rate for e in events if isinstance(e, EpochEnded)]
        assert rates[-1] < rates[0] * 0.5, (schedule, rates)


def test_early_stopping_ends_a_run_that_stops_improving(tmp_path):
    # A vanishing learning rate leaves validation top-1 unchanged, so patience 1 ends it after epoch 2.
    final, events = run_collecting(quick(tmp_path, epochs=5, learning_rate=1e-12, early_stopping_patience=1))
    assert isinstance(final, TrainingFinished), final
    assert final.epochs_completed == 2
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [0, 1]


def test_mixed_precision_path_trains_and_restores_policy(tmp_path, monkeypatch):
    import keras

    from workbench.core.training import devices

    real = devices.configure_devices

    def pretend_gpu(mixed_precision=False):
        setup = real(mixed_precision)
        return devices.DeviceSetup(setup.description, setup.strategy, setup.replicas, setup.gpu, True, "mixed_float16")

    monkeypatch.setattr(devices, "configure_devices", pretend_gpu)
    final, _ = run_collecting(quick(tmp_path, epochs=1, limit=64, mixed_precision=True))
    assert isinstance(final, TrainingFinished), final
    assert keras.config.dtype_policy().name == "float32"
    model = load(final.model_path)
    assert model.output.dtype == "float32"
    resumed, _ = run_collecting(quick(tmp_path, epochs=2, limit=64, mixed_precision=True, resume=True))
    assert isinstance(resumed, TrainingFinished), resumed
