"""The training input pipeline's augmentation: alternating flip, translation with zero or reflection padding,
batches as a function of (seed, epoch, step), resumes, and the device feed giving the host's batches."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.training.config import TrainConfig

N, SIDE = 40, 12


def _images(n: int = N, side: int = SIDE, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, side, side, 3)).astype(np.uint8)


def _pipeline(x, aug, *, seed=0, batch=16, initial_epoch=0, on_device=False):
    import tensorflow as tf

    from workbench.core.training.pipeline import train_batches

    with tf.device("/CPU:0"):
        epoch = tf.Variable(initial_epoch, dtype=tf.int64)
    ds, feed = train_batches(tf, x, np.arange(len(x)), batch, seed=seed, aug=aug, epoch_counter=epoch,
                             on_device=on_device)
    return ds, feed, epoch


def _epoch(ds, feed=None):
    """One iteration of the dataset as (images, labels) numpy arrays in batch order."""
    batches = [feed.batch(plan) if feed else plan for plan in ds]
    return (np.concatenate([b[0].numpy() for b in batches]), np.concatenate([b[1].numpy() for b in batches]))


def test_a_shift_is_a_window_of_the_padded_image_zero_or_reflected():
    import tensorflow as tf

    from workbench.core.training.augment import translate_and_flip

    x = _images(6)
    dy, dx = np.array([0, 1, 3, 6, 4, 2]), np.array([6, 0, 3, 1, 5, 3])
    flipped = np.array([False, True, False, True, True, False])
    for padding, mode in (("zero", "constant"), ("reflect", "reflect")):
        out = translate_and_flip(tf.constant(x), tf.constant(dy, tf.int32), tf.constant(dx, tf.int32),
                                 tf.constant(flipped), translate=3, padding=padding).numpy()
        padded = np.pad(x, ((0, 0), (3, 3), (3, 3), (0, 0)), mode=mode)
        for i in range(len(x)):
            window = padded[i, dy[i]:dy[i] + SIDE, dx[i]:dx[i] + SIDE]
            np.testing.assert_array_equal(out[i], window[:, ::-1] if flipped[i] else window)
    zero = translate_and_flip(tf.constant(x), tf.constant(dy, tf.int32), tf.constant(dx, tf.int32),
                              translate=3, padding="zero").numpy()
    reflect = translate_and_flip(tf.constant(x), tf.constant(dy, tf.int32), tf.constant(dx, tf.int32),
                                 translate=3, padding="reflect").numpy()
    assert (zero[0, :, -3:] == 0).all() and (reflect[0, :, -3:] > 0).any()  # shifted left by 3: the border
    np.testing.assert_array_equal(zero[2], x[2])  # dy = dx = translate: no shift, zero or reflected alike
    np.testing.assert_array_equal(reflect[2], x[2])


def test_shifts_stay_within_the_translation_and_use_all_of_it():
    from workbench.core.training.pipeline import Augmentation

    x = _images(200, seed=1)
    ds, _, _ = _pipeline(x, Augmentation(translate=2, padding="reflect"), batch=64)
    out, labels = _epoch(ds)
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    shifts = set()
    for got, i in zip(out, labels):
        found = [(dy, dx) for dy in range(5) for dx in range(5)
                 if np.array_equal(padded[i, dy:dy + SIDE, dx:dx + SIDE], got)]
        assert found, i
        shifts.add(found[0])
    assert len(shifts) == 25  # every shift of up to 2 pixels each way occurs, none larger


def test_alternating_flip_starts_with_about_half_and_alternates_every_epoch():
    from workbench.core.training.pipeline import Augmentation

    x = _images(400, seed=2)
    ds, _, _ = _pipeline(x, Augmentation(flip="alternate"), batch=64)
    states = []
    for _ in range(4):
        out, labels = _epoch(ds)
        assert sorted(labels) == list(range(400))  # every image once per epoch
        flipped = np.zeros(400, bool)
        for got, i in zip(out, labels):
            assert np.array_equal(got, x[i]) or np.array_equal(got, x[i, :, ::-1])
            flipped[i] = not np.array_equal(got, x[i])
        states.append(flipped)
    assert 160 < states[0].sum() < 240  # about half flipped in epoch 0
    for before, after in zip(states, states[1:]):
        np.testing.assert_array_equal(after, ~before)  # each image flips exactly when it did not before
    random_ds, _, _ = _pipeline(x, Augmentation(flip="random"), batch=64)
    first, second = (dict(zip(labels, out)) for out, labels in (_epoch(random_ds), _epoch(random_ds)))
    same = sum(np.array_equal(first[i], second[i]) for i in range(400))
    assert 120 < same < 280  # random flips: about half the images keep last epoch's state


def test_batches_are_a_function_of_seed_and_epoch_and_a_resume_sees_the_same():
    from workbench.core.training.pipeline import Augmentation

    x = _images(50)
    aug = Augmentation(translate=2, padding="reflect", flip="alternate", cutout=4)
    ds, _, epoch = _pipeline(x, aug, seed=3)
    unbroken = [_epoch(ds) for _ in range(4)]
    again, _, _ = _pipeline(x, aug, seed=3)
    for a, b in zip(unbroken, [_epoch(again) for _ in range(4)]):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(unbroken[0][1], unbroken[1][1])  # a new order each epoch
    resumed, _, _ = _pipeline(x, aug, seed=3, initial_epoch=2)
    for a, b in zip(unbroken[2:], [_epoch(resumed) for _ in range(2)]):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    epoch.assign(1)  # what EpochFeed does at an epoch's start
    np.testing.assert_array_equal(_epoch(ds)[0], unbroken[1][0])
    other, _, _ = _pipeline(x, aug, seed=4)
    assert not np.array_equal(_epoch(other)[1], unbroken[0][1])


def test_the_device_feed_makes_the_host_pipelines_batches_bit_for_bit():
    from workbench.core.training.pipeline import Augmentation

    x = _images(70, side=10)  # 300 bytes per image: packed into 75 words
    aug = Augmentation(translate=2, padding="reflect", flip="alternate", cutout=3)
    host, _, _ = _pipeline(x, aug, seed=5, batch=32)
    plans, feed, _ = _pipeline(x, aug, seed=5, batch=32, on_device=True)
    assert feed.device == "/CPU:0" and feed.images.dtype.name == "float32"  # this machine has no GPU
    for _ in range(3):
        (hx, hy), (dx, dy) = _epoch(host), _epoch(plans, feed)
        assert hx.dtype == dx.dtype == np.uint8
        np.testing.assert_array_equal(hx, dx)
        np.testing.assert_array_equal(hy, dy)
    odd = _images(9, side=7)[..., :1]  # 49 bytes: the last word is padded
    host, _, _ = _pipeline(odd, Augmentation(translate=1, flip="random"), batch=4)
    plans, feed, _ = _pipeline(odd, Augmentation(translate=1, flip="random"), batch=4, on_device=True)
    np.testing.assert_array_equal(_epoch(host)[0], _epoch(plans, feed)[0])


def test_fit_with_epoch_feed_trains_on_the_epochs_it_counts_from_a_resume():
    import keras
    import tensorflow as tf

    from workbench.core.training.callbacks.data_epoch import EpochFeed
    from workbench.core.training.pipeline import Augmentation

    x = _images(48)
    aug = Augmentation(translate=1, flip="alternate")
    direct, _, _ = _pipeline(x, aug, seed=1, batch=16)
    expected = [_epoch(direct)[1] for _ in range(4)]
    plans, feed, epoch = _pipeline(x, aug, seed=1, batch=16, initial_epoch=0, on_device=True)
    model = keras.Sequential([keras.Input((SIDE, SIDE, 3)), keras.layers.Flatten(), keras.layers.Dense(48)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  run_eagerly=True)
    feed.install(model)
    seen = []
    step = model.train_step
    model.train_step = lambda plan: (seen.append(plan["idx"].numpy()), step(plan))[1]
    model.fit(plans, epochs=4, initial_epoch=2, verbose=0, shuffle=False, callbacks=[EpochFeed(epoch)])
    assert len(seen) == 6  # 3 steps in each of epochs 2 and 3
    np.testing.assert_array_equal(np.concatenate(seen[:3]), expected[2])
    np.testing.assert_array_equal(np.concatenate(seen[3:]), expected[3])
    assert tf.is_tensor(feed.images)


def test_training_on_device_data_ends_with_the_host_runs_weights(tmp_path):
    import keras

    from workbench.core.training import TrainingFinished, train
    from workbench.core.training.rundir import read_history

    results = []
    for on_device in (False, True):
        config = TrainConfig(dataset="builtin", arch="embedded_cnn", epochs=2, batch_size=64, limit=192,
                             test_limit=32, augment=True, flip="alternate", translate=2, padding="reflect",
                             data_on_device=on_device, seed=11, run_dir=str(tmp_path / f"run{on_device}"))
        final = train(config)
        assert isinstance(final, TrainingFinished), final
        model = keras.saving.load_model(final.model_path, compile=False)
        results.append((model.get_weights(), read_history(tmp_path / f"run{on_device}" / "history.csv")))
    (host_weights, host_history), (device_weights, device_history) = results
    for a, b in zip(host_weights, device_weights):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert [round(r["loss"], 6) for r in host_history] == [round(r["loss"], 6) for r in device_history]


def test_make_splits_gives_a_device_feed_only_when_asked():
    from workbench.core.datasets import load_dataset
    from workbench.core.training.pipeline import make_splits

    data = load_dataset("builtin")
    host = make_splits(data, val_split=0.2, seed=0, batch_size=64, augment=True, limit=128, test_limit=0)
    device = make_splits(data, val_split=0.2, seed=0, batch_size=64, augment=True, limit=128, test_limit=0,
                         data_on_device=True, initial_epoch=3)
    assert host.device_feed is None and device.device_feed is not None
    assert int(device.epoch.numpy()) == 3 and device.train.cardinality().numpy() == device.steps_per_epoch == 2
    assert set(next(iter(device.train))) >= {"idx", "dx", "dy", "flip"}


@pytest.mark.parametrize("changes, words", [
    (dict(flip="sometimes"), "Flip must be one of random, alternate"),
    (dict(translate=9), "Translation must be between 0 (off) and 8 pixels"),
    (dict(translate=-1), "Translation must be between 0 (off) and 8 pixels"),
    (dict(padding="wrap"), "Padding must be one of zero, reflect"),
])
def test_bad_augmentation_settings_are_refused_in_one_sentence(changes, words):
    with pytest.raises(ValueError) as info:
        TrainConfig(**changes)
    assert str(info.value).startswith(words) and str(info.value).count(".") <= 2


def test_defaults_keep_the_course_reports_augmentation():
    config = TrainConfig()
    assert (config.flip, config.translate, config.padding, config.data_on_device) == ("random", 4, "zero", False)


def test_train_flags_reach_the_config():
    from workbench.cli import build_parser
    from workbench.cli.config_args import new_config

    args = build_parser().parse_args(["train", "--dataset", "builtin", "--arch", "embedded_cnn", "--augment",
                                      "--flip", "alternate", "--translate", "2", "--padding", "reflect",
                                      "--data-on-device"])
    config = new_config(args)
    assert (config.flip, config.translate, config.padding, config.data_on_device) == ("alternate", 2, "reflect", True)
    plain = new_config(build_parser().parse_args(["train", "--dataset", "builtin", "--arch", "embedded_cnn"]))
    assert (plain.flip, plain.translate, plain.padding, plain.data_on_device) == ("random", 4, "zero", False)
    queued = build_parser().parse_args(["queue", "add", "--dataset", "builtin", "--arch", "embedded_cnn",
                                        "--translate", "3", "--flip", "alternate"])
    assert (queued.translate, queued.flip) == (3, "alternate")
    swept = build_parser().parse_args(["sweep", "--dataset", "builtin", "--arch", "embedded_cnn",
                                       "--padding", "reflect", "--grid", "translate=0,2"])
    assert swept.padding == "reflect"


def test_the_experiment_form_keeps_a_configs_augmentation_details():
    from workbench.gui.panels.experiment.form_state import FormState

    earlier = TrainConfig(dataset="builtin", arch="simple_cnn", augment=True, flip="alternate", translate=2,
                          padding="reflect", data_on_device=True)
    form = FormState()
    form.fill_from_config(earlier)
    again = form.to_config()
    assert (again.flip, again.translate, again.padding, again.data_on_device) == ("alternate", 2, "reflect", True)
    restored = FormState()
    assert restored.restore(form.saved(), ["builtin"]) == []
    assert restored.to_config().padding == "reflect" and restored.to_config().translate == 2


def test_on_a_gpu_the_feed_keeps_images_and_batches_there_and_matches_the_host():
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        pytest.skip("needs a GPU: the CPU case is the test above")
    from workbench.core.training.pipeline import Augmentation

    x = _images(300, side=32)
    aug = Augmentation(translate=2, padding="reflect", flip="alternate", cutout=8)
    host, _, _ = _pipeline(x, aug, seed=2, batch=128)
    plans, feed, _ = _pipeline(x, aug, seed=2, batch=128, on_device=True)
    assert feed.device == "/GPU:0" and "GPU" in feed.images.device
    batch = tf.function(feed.batch)
    for _ in range(2):
        device = [batch(plan) for plan in plans]
        assert all("GPU" in images.device for images, _ in device)
        np.testing.assert_array_equal(_epoch(host)[0], np.concatenate([b[0].numpy() for b in device]))
