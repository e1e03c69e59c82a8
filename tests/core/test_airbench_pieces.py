"""airbench94's pieces in the `fast` recipe, on tiny data: the whitening stem, identity initialisation, the
faster batch-norm shifts, lookahead and the six-view test-time augmentation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.core.architectures.whitening import patch_covariance, whitening_weights
from workbench.core.training.tta import tta_probabilities, tta_views


def _correlated_images(n: int = 64, seed: int = 0) -> np.ndarray:
    """Smooth random images: neighbouring pixels and the three channels are strongly correlated, as in photos."""
    rng = np.random.default_rng(seed)
    base = np.cumsum(np.cumsum(rng.normal(0, 6, (n, 16, 16, 1)), axis=1), axis=2)
    colour = base + rng.normal(0, 4, (n, 16, 16, 3))
    return np.clip(colour - colour.mean() + 128, 0, 255).astype(np.uint8)


def _patches(images: np.ndarray) -> np.ndarray:
    x = images.astype(np.float64) / 255.0
    windows = np.lib.stride_tricks.sliding_window_view(x, (2, 2), axis=(1, 2))
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, 12)


def test_whitening_decorrelates_the_patches_it_was_fitted_on():
    images = _correlated_images()
    raw = np.corrcoef(_patches(images).T)
    assert np.abs(raw[np.triu_indices(12, 1)]).mean() > 0.5  # the fixture really is correlated
    kernel, bias = whitening_weights(images, eps=1e-9)
    assert kernel.shape == (2, 2, 3, 24) and bias.shape == (24,)
    out = _patches(images) @ kernel.reshape(12, 24) + bias
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4)  # the bias centres each output
    cov = np.cov(out[:, :12].T, bias=True)
    np.testing.assert_allclose(cov, np.eye(12), atol=2e-3)  # decorrelated, unit variance
    np.testing.assert_allclose(out[:, 12:], -out[:, :12], atol=1e-5)  # the second half is the negation


def test_eps_keeps_the_weakest_directions_from_being_blown_up():
    images = _correlated_images()
    _, cov = patch_covariance(images, 2)
    weakest = np.linalg.eigvalsh(cov)[0]
    strong_eps, _ = whitening_weights(images, eps=100 * weakest)
    no_eps, _ = whitening_weights(images, eps=1e-12)
    assert np.abs(strong_eps).max() < np.abs(no_eps).max() / 3


def test_whitening_needs_images():
    with pytest.raises(ValueError, match="at least one training image"):
        whitening_weights(np.zeros((0, 8, 8, 3), np.uint8))


def test_dirac_starts_each_group_convolution_as_the_identity():
    from workbench.core.architectures import build_model

    model = build_model("airnet", 10, input_shape=(16, 16, 3), width1=8, width2=16, width3=16, dirac=True)
    conv = model.get_layer("group2_conv1").kernel.numpy()  # 8 -> 16 channels
    assert conv.shape == (3, 3, 8, 16)
    for i in range(8):
        expected = np.zeros((3, 3, 8))
        expected[1, 1, i] = 1.0
        np.testing.assert_array_equal(conv[:, :, :, i], expected)
    assert np.abs(conv[:, :, :, 8:]).sum() > 0  # the filters beyond the inputs keep their random start
    plain = build_model("airnet", 10, input_shape=(16, 16, 3), width1=8, width2=16, width3=16)
    assert not np.allclose(plain.get_layer("group2_conv1").kernel.numpy()[1, 1, 0, 0], 1.0)


def test_scale_free_batch_norm_and_frozen_whitening_stem():
    from workbench.core.architectures import build_model

    model = build_model("airnet", 10, input_shape=(16, 16, 3), width1=8, width2=8, width3=8, whiten=True,
                        bn_scale=False, gelu=True, bn_momentum=0.4)
    bn = model.get_layer("group1_bn1")
    assert bn.gamma is None and bn.beta is not None and bn.momentum == pytest.approx(0.4)
    assert not model.get_layer("whiten").trainable
    assert model.get_layer("group1_gelu1") is not None


def test_batch_norm_shifts_take_a_scaled_step():
    import keras

    from workbench.core.training import TrainConfig
    from workbench.core.training.optim import make_optimizer

    def one_step(scale: float) -> tuple[np.ndarray, np.ndarray]:
        keras.utils.set_random_seed(1)
        inputs = keras.Input((4,))
        x = keras.layers.Dense(3, name="first")(inputs)
        x = keras.layers.BatchNormalization(scale=False, name="bn")(x)
        model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
        config = TrainConfig(optimizer="sgd", learning_rate=0.01, bias_lr_scale=scale)
        model.compile(optimizer=make_optimizer(config, 1), loss="sparse_categorical_crossentropy")
        before = [model.get_layer("bn").beta.numpy().copy(), model.get_layer("first").kernel.numpy().copy()]
        x_ = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
        model.train_on_batch(x_, np.arange(16) % 2)
        return (model.get_layer("bn").beta.numpy() - before[0], model.get_layer("first").kernel.numpy() - before[1])

    beta1, kernel1 = one_step(1.0)
    beta64, kernel64 = one_step(64.0)
    assert np.abs(beta1).max() > 0
    np.testing.assert_allclose(beta64, 64 * beta1, rtol=1e-4)  # the first step has no momentum yet
    np.testing.assert_allclose(kernel64, kernel1, rtol=1e-5)  # every other weight takes the usual step


def test_six_views_are_airbench_s_weights_and_shifts():
    images = np.arange(2 * 5 * 5 * 1, dtype=np.uint8).reshape(2, 5, 5, 1)
    views = tta_views(images, 1)
    assert len(views) == 6 and sum(w for w, _ in views) == pytest.approx(1.0)
    assert [w for w, _ in views] == pytest.approx([0.25, 0.25, 0.125, 0.125, 0.125, 0.125])
    (_, same), (_, mirror), (_, up_left), _, (_, down_right), _ = views
    np.testing.assert_array_equal(mirror, images[:, :, ::-1])
    # Moved by one pixel with reflection: up-left view's pixel (1, 1) is the original (0, 0).
    np.testing.assert_array_equal(up_left[:, 1:, 1:], images[:, :-1, :-1])
    np.testing.assert_array_equal(up_left[:, 0, 1:], images[:, 1, :-1])  # the reflected row (no edge copy)
    np.testing.assert_array_equal(down_right[:, :-1, :-1], images[:, 1:, 1:])
    assert len(tta_views(images, 0)) == 2


def test_multi_view_probabilities_are_the_weighted_mean():
    images = np.random.default_rng(0).integers(0, 256, (3, 6, 6, 3), dtype=np.uint8)
    predict = lambda v: np.stack([v.reshape(len(v), -1).mean(1) / 255, v[:, 0, 0, 0] / 255.0], 1)  # noqa: E731
    expected = sum(w * predict(v) for w, v in tta_views(images, 2))
    np.testing.assert_allclose(tta_probabilities(predict, images, 2), expected)


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    """The fast recipe whole, on 256 built-in images: whitening, lookahead, six views, a time budget."""
    from workbench.core.training import TrainingFinished, train
    from workbench.core.training.recipes import apply_recipe

    run_dir = tmp_path_factory.mktemp("fast") / "run"
    config = apply_recipe("fast", {"dataset": "builtin", "limit": 256, "test_limit": 64, "batch_size": 64,
                                   "epochs": 3, "run_dir": str(run_dir), "val_split": 0.25})
    final = train(config)
    assert isinstance(final, TrainingFinished), final
    return config, final


def test_the_run_whitens_from_its_training_images_only(fast_run):
    import keras

    from workbench.core.datasets import load_dataset
    from workbench.core.training.pipeline import split_indices

    config, final = fast_run
    model = keras.saving.load_model(final.model_path, compile=False)
    data = load_dataset("builtin")
    train_idx, val_idx = split_indices(len(data.x_train), config.val_split, config.seed, config.limit)
    kernel, bias = whitening_weights(data.x_train[train_idx])
    np.testing.assert_allclose(model.get_layer("whiten").kernel.numpy(), kernel, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(model.get_layer("whiten").bias.numpy(), bias, rtol=1e-4, atol=1e-3)
    with_val, _ = whitening_weights(data.x_train[np.concatenate([train_idx, val_idx])])
    assert not np.allclose(with_val, kernel, atol=1e-4)  # the held-out images would have changed it


def test_the_saved_model_says_its_views_and_evaluate_reproduces_the_run(fast_run):
    from workbench.core.datasets import load_dataset
    from workbench.core.evaluation import SHIFT_STEP, evaluate, flip_for
    from workbench.core.modelio import load_any_model

    config, final = fast_run
    model = load_any_model(final.model_path)
    assert model.trained_with_flip_tta and model.trained_tta_shift == 1
    data = load_dataset("builtin")
    x, y = data.x_test[:64], data.y_test[:64]
    result = evaluate(model, x, y, list(data.class_names), flip=flip_for(model, mirror_safe=True))
    assert SHIFT_STEP.format(shift=1) in result.steps
    assert result.top1 == pytest.approx(final.test_top1, abs=1e-6)  # the run's own figure, reproduced
    stored = json.loads(Path(final.run_dir, "config.json").read_text())["config"]
    assert stored["lookahead"] and stored["tta_shift"] == 1 and stored["bias_lr_scale"] == 64.0
