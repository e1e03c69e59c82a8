"""Weight averaging, test-time flip and the time budget in real (tiny) training runs on the built-in set."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from workbench.core.training import EpochEnded, TrainConfig, TrainingFailed, TrainingFinished, TrainingStarted, train
from workbench.core.training.checkpoint import checkpoint_path
from workbench.core.training.rundir import read_history


def quick(tmp_path: Path, name: str = "run", **changes) -> TrainConfig:
    base = dict(dataset="builtin", arch="embedded_cnn", epochs=1, batch_size=64, limit=256, test_limit=64,
                run_dir=str(tmp_path / name))
    base.update(changes)
    return TrainConfig(**base)


def _load(path: str):
    import keras

    return keras.saving.load_model(path, compile=False)


def test_weight_average_is_what_gets_saved_and_resume_keeps_it(tmp_path):
    import h5py

    config = quick(tmp_path, epochs=2, ema=0.9, optimizer="sgd", learning_rate=0.05)
    final = train(config)
    assert isinstance(final, TrainingFinished), final
    with h5py.File(checkpoint_path(final.run_dir), "r") as f:
        saved = [f["model"][k][()] for k in sorted(f["model"])]
        optimizer = [f["optimizer"][k][()] for k in sorted(f["optimizer"])]
    model = _load(final.model_path)
    # The model file holds the average: it matches the checkpoint's model part (taken with the average in).
    for w, c in zip(model.weights, saved):
        np.testing.assert_allclose(w.numpy(), c, rtol=1e-6)
    # The raw weights (kept in the optimizer's average slots while swapped) differ from the average.
    trainable = [w.numpy() for w in model.trainable_weights]
    raw = [a for a in optimizer if any(a.shape == t.shape for t in trainable)]
    assert any(not np.allclose(r, t) for r in raw for t in trainable if r.shape == t.shape)
    assert json.loads(Path(final.run_dir, "config.json").read_text())["config"]["ema"] == 0.9
    resumed = train(config.replace(epochs=3, resume=True))
    assert isinstance(resumed, TrainingFinished) and resumed.epochs_completed == 3, resumed
    # The average is part of the optimizer's checkpointed state: switching it on a resume is refused.
    refused = train(config.replace(epochs=4, ema=0.5, resume=True))
    assert isinstance(refused, TrainingFailed) and "ema=0.9" in refused.message, refused


def test_test_time_flip_changes_nothing_for_a_flip_invariant_model():
    import keras
    import tensorflow as tf

    from workbench.core.training.tta import flip_averaged_scores

    # A 1x1 convolution and global average pooling make the network blind to mirroring:
    # the flip-averaged scores equal the plain ones.
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 1, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(6, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (32, 8, 8, 3), dtype=np.uint8)
    images = np.concatenate([images, images[:, :, ::-1]])  # each image and its mirror
    labels = rng.integers(0, 6, 64).astype(np.int32)
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(16)
    plain = model.predict(images, verbose=0)
    top1 = float(np.mean(plain.argmax(1) == labels))
    scores = flip_averaged_scores(model, data)
    assert scores["top1"] == pytest.approx(top1)
    assert scores["loss"] == pytest.approx(float(np.mean(-np.log(plain[np.arange(64), labels]))), rel=1e-4)


def test_test_time_flip_is_applied_when_configured(tmp_path, monkeypatch):
    from workbench.core.training import tta

    calls = []
    real = tta.flip_averaged_scores
    monkeypatch.setattr(tta, "flip_averaged_scores", lambda m, d, *rest, **kw: calls.append(1) or real(m, d, *rest, **kw))
    final = train(quick(tmp_path, tta_flip=True))
    assert isinstance(final, TrainingFinished) and calls == [1] and 0 <= final.test_top1 <= 1
    metadata_run = train(quick(tmp_path, "plain"))
    assert calls == [1]  # off unless asked
    assert isinstance(metadata_run, TrainingFinished)


def test_time_budget_ends_by_the_deadline_with_the_rate_annealed_and_the_model_saved(tmp_path):
    minutes = 0.25
    config = quick(tmp_path, epochs=500, minutes=minutes, lr_schedule="one_cycle", optimizer="sgd",
                   learning_rate=0.05, limit=192, batch_size=32, val_split=0.25)
    t0 = time.monotonic()
    events = []
    final = train(config, events.append)
    ended = [e for e in events if isinstance(e, EpochEnded)]
    per_epoch = next(e for e in events if isinstance(e, TrainingStarted)).train_images
    seconds = time.monotonic() - t0
    assert isinstance(final, TrainingFinished), final
    rows = read_history(final.run_dir)
    assert 1 < len(rows) < 500
    # Whole epochs count every training image; the last may end part-way, at a whole batch.
    assert [e.images for e in ended[:-1]] == [per_epoch] * (len(ended) - 1)
    assert 0 < ended[-1].images <= per_epoch and (ended[-1].images == per_epoch or ended[-1].images % 32 == 0)
    assert rows[-1]["wall_seconds"] <= minutes * 60 * 1.1  # ended by the deadline
    assert rows[-1]["wall_seconds"] >= minutes * 60 * 0.8  # and used the minutes (start-up is outside them)
    assert [r["wall_seconds"] for r in rows] == sorted(r["wall_seconds"] for r in rows)
    peak = max(r["lr"] for r in rows)
    assert rows[-1]["lr"] < 0.1 * peak  # the schedule was fitted: the rate annealed by the end
    assert Path(final.model_path).exists()
    print(f"time budget {minutes * 60:.0f} s: {len(rows)} epochs, training ended at {rows[-1]['wall_seconds']:.1f} s, "
          f"whole run {seconds:.1f} s, last lr {rows[-1]['lr']:.2e} (peak {peak:.2e})")


def test_weight_average_warms_up_so_short_runs_do_not_average_the_initial_weights():
    import keras

    from workbench.core.training.optim import make_optimizer

    optimizer = make_optimizer(TrainConfig(ema=0.99, optimizer="sgd", learning_rate=0.01), 10)
    v = keras.Variable(np.ones(3, "float32"))
    optimizer.build([v])
    assert float(optimizer.ema_momentum) == pytest.approx(0.1)  # (1 + 0) / (10 + 0)
    for _ in range(5):
        optimizer.apply_gradients([(np.ones(3, "float32"), v)])
    assert float(optimizer.ema_momentum) == pytest.approx(0.4)  # (1 + 5) / (10 + 5), below the 0.99 target
    average = optimizer._model_variables_moving_average[0].numpy()
    moved = 1.0 - v.numpy()[0]  # how far training moved the weight (0.05)
    # Without the warm-up the average would still sit within 1 % of the move from the initial weight.
    assert abs(average[0] - v.numpy()[0]) < 0.2 * moved
    assert optimizer.get_config()["ema_momentum"] == 0.99
