"""Recipes, the fitted schedules and the new augmentation, without training."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.training import TrainConfig
from workbench.core.training.recipes import (
    BEST_RECIPE_FOR, RECIPES, apply_recipe, best_recipe_for, edited_fields, get_recipe, recipe_table,
)


def test_report_recipe_is_the_course_defaults():
    config = apply_recipe("report")
    defaults = TrainConfig()
    for name in ("optimizer", "learning_rate", "batch_size", "epochs", "lr_schedule", "augment",
                 "label_smoothing", "ema", "tta_flip", "cutout"):
        assert getattr(config, name) == getattr(defaults, name), name
    assert config.arch == "toy_resnet" and config.recipe == "report"


def test_every_recipe_resolves_to_a_valid_config_and_is_documented():
    for row in recipe_table():
        config = apply_recipe(row["name"])
        assert config.recipe == row["name"]
        assert row["summary"].endswith(".") and len(row["why"]) > 40
        assert edited_fields(config) == []
    assert {"report", "fast", "best"} <= set(RECIPES)
    fast = apply_recipe("fast")
    assert (fast.lr_schedule, fast.label_smoothing, fast.augment, fast.tta_flip) == ("triangle", 0.2, True, True)
    assert fast.lookahead and fast.tta_shift == 1 and fast.bias_lr_scale == 64 and fast.batch_size == 256
    assert fast.arch_options["whiten"] and fast.arch_options["dirac"] and not fast.arch_options["bn_scale"]
    assert fast.ema == 0 and 0 < apply_recipe("best").ema < 1  # fast averages by lookahead, not by an EMA


def test_explicit_settings_override_the_recipe_and_are_listed_as_edits():
    config = apply_recipe("fast", {"batch_size": 64, "epochs": 3}, base=TrainConfig(dataset="builtin"))
    assert config.batch_size == 64 and config.epochs == 3 and config.dataset == "builtin"
    assert config.lr_schedule == "triangle" and config.recipe == "fast"
    assert sorted(edited_fields(config)) == ["batch_size", "epochs"]
    # The recipe's own option dict is not shared with (or changed through) a config made from it.
    config.arch_options["width"] = 8
    assert "width" not in get_recipe("fast").settings["arch_options"]


def test_unknown_recipe_is_one_sentence():
    with pytest.raises(ValueError, match=r"Unknown recipe 'quick'; choose one of report, fast, best"):
        get_recipe("quick")


def test_every_report_network_has_a_best_recipe():
    from workbench.core.architectures import ARCHITECTURES, REPORT_ARCHITECTURES

    for arch in REPORT_ARCHITECTURES:
        assert best_recipe_for(arch) in RECIPES
        config = apply_recipe(best_recipe_for(arch), {"arch": arch})
        # Architecture unchanged (all_conv as the report ran it on CIFAR-10), test-time flip on top.
        assert config.arch == arch and config.tta_flip
        assert config.arch_options == ({"input_dropout": 0.0} if arch == "all_conv" else {})
        if arch != "all_conv":  # the others get a schedule that anneals to zero
            assert config.lr_schedule == "one_cycle"
    assert set(BEST_RECIPE_FOR) <= set(ARCHITECTURES)
    # all_conv's own dropouts regularise it: augmentation, or a one-cycle to 3e-3, on top under-fits it (README,
    # report networks); the report's constant Adam 1e-3 fits it.
    fit = apply_recipe("report_fit")
    assert best_recipe_for("all_conv") == "report_fit" and not fit.augment and fit.label_smoothing == 0.0
    assert (fit.optimizer, fit.learning_rate, fit.lr_schedule) == ("adam", 1e-3, "constant")


def test_config_refuses_bad_new_settings():
    for changes, words in [({"weight_decay": -1.0}, "Weight decay"), ({"cutout": 99}, "Cutout"),
                           ({"ema": 1.0}, "weight-average"), ({"minutes": 0.0}, "time budget"),
                           ({"steps_per_execution": 0}, "Steps per execution"), ({"tta_shift": 5}, "test-time shift"),
                           ({"bias_lr_scale": 0.0}, "batch-norm shift")]:
        with pytest.raises(ValueError, match=words):
            TrainConfig(**changes)


def _rates(name: str, total: int) -> list[float]:
    from workbench.core.training.optim import make_learning_rate

    schedule = make_learning_rate(TrainConfig(lr_schedule=name, learning_rate=0.4, epochs=1), total)
    return [float(schedule(step)) for step in range(total)]


def test_one_cycle_climbs_to_the_peak_then_anneals_to_zero_at_the_last_step():
    rates = _rates("one_cycle", 100)
    peak = int(np.argmax(rates))
    assert 20 <= peak <= 30 and rates[peak] == pytest.approx(0.4, rel=0.05)
    assert rates[0] < 0.1 * 0.4 and all(a <= b + 1e-9 for a, b in zip(rates[:peak], rates[1:peak + 1]))
    assert all(a >= b - 1e-9 for a, b in zip(rates[peak:], rates[peak + 1:]))
    assert rates[-1] == pytest.approx(0.0, abs=1e-6)


def test_triangle_is_airbench_s_start_peak_and_end():
    from workbench.core.training.schedules import shape

    rates = _rates("triangle", 100)
    assert rates[0] == pytest.approx(0.4 * shape("triangle", 0.01), rel=1e-4)  # step s runs at (s + 1) / total
    assert max(rates) == pytest.approx(0.4, rel=0.02)
    assert 21 <= int(np.argmax(rates)) <= 23 and rates[-1] == pytest.approx(0.4 * 0.07, rel=0.05)
    assert [round(shape("triangle", p), 3) for p in (0.0, 0.23, 1.0)] == [0.2, 1.0, 0.07]


def test_warmup_cosine_warms_up_then_follows_a_cosine_to_zero():
    rates = _rates("warmup_cosine", 200)
    assert rates[0] < rates[5] < rates[9] and max(rates) == pytest.approx(0.4, rel=0.02)
    assert rates[105] == pytest.approx(0.2, rel=0.05)  # half way through the cosine part: half the peak
    assert rates[-1] == pytest.approx(0.0, abs=1e-6)


def test_fitted_schedule_can_be_shortened_while_running():
    from workbench.core.training.optim import make_learning_rate

    schedule = make_learning_rate(TrainConfig(lr_schedule="one_cycle", learning_rate=1.0, epochs=10), 100)
    assert float(schedule(999)) == pytest.approx(0.0, abs=1e-6)  # 10 epochs x 100 steps
    assert float(schedule(199)) < 0.9  # still climbing
    schedule.set_total_steps(200)
    assert float(schedule(199)) == pytest.approx(0.0, abs=1e-6) and float(schedule(49)) == pytest.approx(1.0)


def test_cutout_blanks_one_square_per_image_and_keeps_the_shape():
    import tensorflow as tf

    from workbench.core.training.augment import cutout

    images = tf.constant(np.full((8, 32, 32, 3), 200, np.uint8))
    out = cutout(images, 8, seed=1).numpy()
    assert out.shape == (8, 32, 32, 3) and out.dtype == np.uint8
    blanked = (out[..., 0] == 0).sum(axis=(1, 2))
    assert (blanked > 0).all() and (blanked <= 64).all()
    assert ((out == 0) | (out == 200)).all()


def test_translate_keeps_shape_and_flips_are_off_for_mirror_unsafe_data():
    import tensorflow as tf

    from workbench.core.training.augment import crop_and_flip

    # A left-to-right ramp: a flip would put the largest value on the left.
    ramp = np.tile(np.arange(32, dtype=np.uint8)[None, None, :, None] * 5 + 10, (64, 32, 1, 1))
    unflipped = crop_and_flip(tf.constant(ramp), seed=3, flip=False).numpy()
    assert unflipped.shape == ramp.shape
    row = unflipped[:, 16, :, 0].astype(int)
    assert all(np.all(np.diff(r[r > 0]) > 0) for r in row)  # always increasing: never mirrored
    flipped = crop_and_flip(tf.constant(ramp), seed=3, flip=True).numpy()[:, 16, :, 0].astype(int)
    assert any(np.all(np.diff(r[r > 0]) < 0) for r in flipped)  # with flips some images run the other way


def test_pipeline_does_not_flip_mnist_digits(tmp_path):
    from workbench.core.datasets import get_info

    assert get_info("cifar10").mirror_safe and not get_info("mnist").mirror_safe


def test_limit_takes_a_random_subset_not_the_first_images_of_class_sorted_data():
    from workbench.core.training.pipeline import split_indices

    # A folder import lists its images class by class: 10 classes of 100 images each, in order.
    labels = np.repeat(np.arange(10), 100)
    train_idx, val_idx = split_indices(len(labels), 0.2, seed=0, limit=100)
    assert len(train_idx) == 100 and len(val_idx) == 25
    assert len(set(labels[train_idx])) == 10 and len(set(labels[val_idx])) >= 8
    assert list(train_idx) == sorted(train_idx) and not set(train_idx) & set(val_idx)


def test_a_recipe_sets_its_options_for_a_named_network_and_explicit_options_win():
    from workbench.core.training.recipes import edited_fields, recipe_table

    # report_fit trains all_conv with the input dropout off, as the report ran it on CIFAR-10
    fit = apply_recipe("report_fit", {"arch": "all_conv"})
    assert fit.arch_options == {"input_dropout": 0.0} and edited_fields(fit) == []
    fit = apply_recipe("report_fit", base=TrainConfig(arch="all_conv", arch_options={"inner_dropout": 0.3}))
    assert fit.arch_options == {"inner_dropout": 0.3, "input_dropout": 0.0}  # the base's other options stay
    mine = apply_recipe("report_fit", {"arch": "all_conv", "arch_options": {"input_dropout": 0.1}})
    assert mine.arch_options == {"input_dropout": 0.1}
    assert edited_fields(mine) == ["input_dropout"]  # the form says the run departs from its recipe
    assert apply_recipe("report_fit", {"arch": "toy_resnet"}).arch_options == {}  # other networks: untouched
    row = next(r for r in recipe_table() if r["name"] == "report_fit")
    assert row["network_options"] == {"all_conv": {"input_dropout": 0.0}}
