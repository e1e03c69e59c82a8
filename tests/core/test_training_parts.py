"""The engine's small parts: augmentation, index splits, input pipeline, history file, run folders."""

from __future__ import annotations

import sys
import subprocess

import numpy as np
import pytest

from workbench.core.training.pipeline import split_indices
from workbench.core.training.rundir import HISTORY_COLUMNS, HistoryWriter, new_run_dir, write_json_atomic


def test_importing_training_does_not_import_tensorflow():
    code = ("import sys, workbench.core.training, workbench.core.runs; "
            "print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_crop_and_flip_moves_whole_windows():
    import tensorflow as tf

    from workbench.core.training.augment import DEFAULT_TRANSLATE as PAD, crop_and_flip

    rng = np.random.default_rng(1)
    images = rng.integers(1, 256, (24, 32, 32, 3)).astype(np.uint8)
    out = crop_and_flip(tf.constant(images), seed=3).numpy()
    assert out.shape == images.shape and out.dtype == np.uint8
    padded = np.pad(images, ((0, 0), (PAD, PAD), (PAD, PAD), (0, 0)))
    changed = 0
    for src, got in zip(padded, out):
        # Each output is some 32x32 window of its padded image, possibly mirrored.
        found = any(
            np.array_equal(win, got) or np.array_equal(win[:, ::-1], got)
            for dy in range(2 * PAD + 1) for dx in range(2 * PAD + 1)
            for win in [src[dy:dy + 32, dx:dx + 32]]
        )
        assert found
        changed += not np.array_equal(got, src[PAD:PAD + 32, PAD:PAD + 32])
    assert changed > 12  # most images really moved or flipped


def test_split_indices_deterministic_and_limited():
    a = split_indices(1000, 0.2, seed=5, limit=None)
    b = split_indices(1000, 0.2, seed=5, limit=None)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert len(a[0]) == 800 and len(a[1]) == 200 and not set(a[0]) & set(a[1])
    train, val = split_indices(1000, 0.2, seed=5, limit=100)
    assert len(train) == 100 and len(val) == 25  # validation keeps the 80/20 ratio
    assert set(train) <= set(a[0]) and set(val) <= set(a[1])
    train, val = split_indices(1000, 0.0, seed=5, limit=10)
    assert len(train) == 10 and len(val) == 0


def test_pipeline_keeps_uint8_and_covers_every_image_once():
    from workbench.core.datasets import load_dataset
    from workbench.core.training.pipeline import make_splits

    data = load_dataset("builtin")
    splits = make_splits(data, val_split=0.25, seed=0, batch_size=128, augment=False, limit=300, test_limit=50)
    assert (splits.train_images, splits.val_images, splits.test_images) == (300, 100, 50)
    assert splits.steps_per_epoch == 3
    seen = []
    for x, y in splits.train:
        assert x.dtype.name == "uint8" and y.dtype.name == "int32"
        seen.append(x.numpy().reshape(len(x), -1))
    seen = np.concatenate(seen)
    expected = data.x_train.reshape(2000, -1)[split_indices(2000, 0.25, 0, 300)[0]]
    assert sorted(row.tobytes() for row in seen) == sorted(row.tobytes() for row in expected)
    order1 = np.concatenate([y.numpy() for _, y in splits.train])
    order2 = np.concatenate([y.numpy() for _, y in splits.train])
    assert sorted(order1) == sorted(order2) and not np.array_equal(order1, order2)  # reshuffled each epoch
    test_labels = np.concatenate([y.numpy() for _, y in splits.test])
    np.testing.assert_array_equal(test_labels, data.y_test[:50])


def test_history_writer_appends_and_truncates_on_resume(tmp_path):
    from workbench.core.training.rundir import read_history

    writer = HistoryWriter(tmp_path / "history.csv")
    for epoch in range(3):
        writer.append({"epoch": epoch, "loss": 1.0 / (epoch + 1), "top1": 0.5, "val_top1": None, "lr": 1e-3})
    lines = (tmp_path / "history.csv").read_text().splitlines()
    assert lines[0] == ",".join(HISTORY_COLUMNS) and len(lines) == 4
    rows = read_history(tmp_path)
    assert [r["epoch"] for r in rows] == [0, 1, 2] and rows[2]["loss"] == pytest.approx(1 / 3)
    assert rows[0]["val_top1"] is None
    HistoryWriter(tmp_path / "history.csv", keep_epochs_below=2)
    assert [r["epoch"] for r in read_history(tmp_path)] == [0, 1]


def test_new_run_dir_names_and_never_reuses(tmp_path):
    a = new_run_dir(tmp_path, "cifar10", "simple_cnn", now=0)
    b = new_run_dir(tmp_path, "cifar10", "simple_cnn", now=0)
    assert a != b and a.is_dir() and b.is_dir()
    assert a.name.endswith("-cifar10-simple_cnn") and len(a.name.split("-")[0]) == 8


def test_write_json_atomic_leaves_no_temp_file(tmp_path):
    write_json_atomic(tmp_path / "x.json", {"a": 1})
    write_json_atomic(tmp_path / "x.json", {"a": 2})
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    assert (tmp_path / "x.json").read_text().strip().startswith("{")


def test_lean_callback_list_passes_batch_logs_unconverted():
    import keras

    from workbench.core.training.callbacks.lean_list import LeanCallbackList

    seen_types = []
    epoch_logs = []

    class Probe(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen_types.append(type(logs["loss"]))
            if batch == 1:
                self.model.stop_training = True  # honoured right after this batch

        def on_epoch_end(self, epoch, logs=None):
            epoch_logs.append(logs)

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.zeros((64, 4), np.float32)
    y = np.zeros(64, np.int64)
    callbacks = LeanCallbackList([Probe()], add_history=True, model=model, verbose=0, epochs=3, steps=8)
    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=callbacks)
    assert len(seen_types) == 2  # stopped after the second batch
    assert all(t is not float for t in seen_types)  # tensors: no device sync per batch
    assert isinstance(epoch_logs[0]["loss"], float)  # epoch logs are still plain floats


def _feed(monitor, per_batch: list[tuple[float, float]], batch_size: int) -> None:
    """Drive ``monitor`` like Keras does: logs hold running means (loss, top1) since the epoch began."""
    seen = 0
    loss_sum = top1_sum = 0.0
    for i, (loss, top1) in enumerate(per_batch):
        n = min(batch_size, monitor.state.train_images - seen)
        seen += n
        loss_sum += loss * n
        top1_sum += top1 * n
        monitor.on_train_batch_end(i, {"loss": loss_sum / seen, "top1": top1_sum / seen, "top5": 1.0})


def test_batch_reports_carry_the_mean_since_the_last_report_not_the_epoch_running_mean():
    from workbench.core.training.callbacks.batch_monitor import BatchMonitor
    from workbench.core.training.callbacks.state import RunState
    from workbench.core.training.events import BatchProgress

    # 5 batches of 100 and a last one of 50; every batch reported (interval 0)
    state = RunState(steps_per_epoch=6, train_images=550, batch_size=100)
    events: list = []
    monitor = BatchMonitor(state, events.append, stop=None, interval=0.0)
    batches = [(2.0, 0.1), (1.8, 0.2), (1.6, 0.3), (1.4, 0.4), (1.2, 0.5), (1.0, 0.9)]
    monitor.on_epoch_begin(0)
    _feed(monitor, batches, 100)
    got = [(e.loss, e.top1) for e in events if isinstance(e, BatchProgress)]
    assert len(got) == 6
    for (loss, top1), (want_loss, want_top1) in zip(got, batches):
        assert abs(loss - want_loss) < 1e-9 and abs(top1 - want_top1) < 1e-9  # each batch's own value
    # the next epoch starts afresh
    events.clear()
    monitor.on_epoch_begin(1)
    _feed(monitor, [(0.5, 0.95)] * 6, 100)
    assert all(abs(e.loss - 0.5) < 1e-9 for e in events)

    # reports only at the end of the epoch: the one report is the whole epoch's mean
    events.clear()
    monitor = BatchMonitor(state, events.append, stop=None, interval=3600.0)
    monitor.on_epoch_begin(0)
    _feed(monitor, batches, 100)
    assert len(events) == 1 and events[0].batch == 6
    weights = [100, 100, 100, 100, 100, 50]
    assert abs(events[0].top1 - sum(w * t for w, (_, t) in zip(weights, batches)) / 550) < 1e-9
