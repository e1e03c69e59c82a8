"""The experiment form's FormState without Qt: the run's config, filling from a config or a recipe, and
the settings saved and restored as one object (raw ini text included, broken values refused by name)."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.gui_models.conftest import qt_modules_after_import
from workbench.core.training.config import BUDGET_EPOCH_CAP, TrainConfig
from workbench.core.training.recipes import apply_recipe
from workbench.gui.panels.experiment.form_state import CHOICES, NO_RECIPE, RANGES, FormState, stored_options

DATASETS = ["cifar10", "mnist", "builtin"]


def test_the_form_modules_need_no_qt():
    for module in ("form_state", "params", "text"):
        assert qt_modules_after_import(f"workbench.gui.panels.experiment.{module}") == [], module


def test_defaults_follow_the_report_and_the_first_choices():
    config = FormState().to_config()
    assert (config.epochs, config.batch_size, config.optimizer, config.learning_rate, config.val_split) == (
        30, 256, "adam", 1e-3, 0.2)
    assert config.arch == CHOICES["arch"][0] and config.limit is None and config.minutes is None
    assert config.recipe == NO_RECIPE and config.arch_options == {}


def test_a_config_comes_back_from_the_state_it_filled():
    earlier = apply_recipe("best", {"dataset": "mnist", "seed": 7, "limit": 500, "cutout": 12})
    form = FormState(data_dir="/data", runs_root="/runs", test_limit=100)
    form.fill_from_config(earlier)
    again = form.to_config()
    assert again.replace(data_dir=None, runs_root=None, test_limit=None) == earlier
    assert (again.data_dir, again.runs_root, again.test_limit) == ("/data", "/runs", 100)  # the window's stay


def test_a_time_budget_makes_the_epochs_a_cap_and_keeps_the_forms_own():
    form = FormState(epochs=12)
    form.fill_from_config(TrainConfig(minutes=20.0, epochs=99))
    assert form.epochs == 12 and form.to_config().epochs == BUDGET_EPOCH_CAP
    form.minutes = 0.0
    assert form.to_config().epochs == 12 and form.to_config().minutes is None


def test_options_record_only_what_differs_and_stay_with_their_architecture():
    form = FormState(arch="simple_cnn")
    form.options_by_arch["simple_cnn"] = {"dropout": 0.5}  # the default: not recorded
    assert form.options() == {} and form.option_values() == {"dropout": 0.5}
    form.options_by_arch["simple_cnn"] = {"dropout": 0.3}
    form.arch = "resnet20"
    assert form.options() == {}
    form.arch = "simple_cnn"
    assert form.to_config().arch_options == {"dropout": 0.3}
    form.fill_from_config(TrainConfig(arch="no_such_net"))  # an unknown network keeps the form's
    assert form.arch == "simple_cnn" and "no_such_net" not in form.options_by_arch


def test_recipe_note_says_which_fields_were_edited():
    form = FormState()
    assert form.recipe_note() == ("", False)
    form.choose_recipe("fast")
    note, edited = form.recipe_note()
    assert note.startswith("fast: ") and not edited
    form.batch_size = 64
    assert form.recipe_note() == ("fast (edited: batch size)", True)
    form.minutes = 20.0  # under a budget the epoch cap is not an edit
    assert "epochs" not in form.recipe_note()[0]
    form.choose_recipe(NO_RECIPE)
    assert form.recipe == NO_RECIPE and form.batch_size == 64  # "none" keeps the settings


def test_a_recipe_sets_its_options_for_the_chosen_network():
    form = FormState()
    form.arch = "all_conv"
    form.choose_recipe("report_fit")
    assert form.option_values()["input_dropout"] == 0.0 and form.option_values()["inner_dropout"] == 0.5
    assert form.to_config().arch_options == {"input_dropout": 0.0} and not form.recipe_note()[1]
    form.options_by_arch["all_conv"]["input_dropout"] = 0.2  # the user puts it back
    assert form.recipe_note() == ("report_fit (edited: input dropout)", True)


def test_recipe_settings_without_a_box_are_kept_saved_and_checked_on_restore():
    form = FormState()
    form.choose_recipe("fast")
    config = form.to_config()
    assert (config.lookahead, config.tta_shift, config.bias_lr_scale) == (True, 1, 64.0)
    saved = form.saved()
    again = FormState()
    assert again.restore(saved, ["cifar10", "builtin"]) == []
    assert again.to_config().lookahead and again.to_config().tta_shift == 1
    hostile = FormState()
    refused = hostile.restore({**saved, "tta_shift": "9", "bias_lr_scale": "-1", "lookahead": "maybe"},
                              ["cifar10", "builtin"])
    assert sorted(refused) == ["bias_lr_scale", "lookahead", "tta_shift"]
    assert hostile.to_config().tta_shift == 0 and hostile.to_config().bias_lr_scale == 1.0


def test_saved_settings_restore_the_same_state():
    form = FormState(dataset="mnist", arch="embedded_cnn", epochs=7, seed=2**31 - 1, learning_rate=0.0005,
                     augment=True, cutout=12, data_dir="/somewhere")
    form.choose_recipe("best")
    form.options_by_arch = {"embedded_cnn": {"conv2_filters": 16}, "resnet20": {}}
    saved = form.saved()
    assert json.loads(saved["arch_options"]) == {"embedded_cnn": {"conv2_filters": 16}}  # empty ones left out
    again = FormState()
    assert again.restore(saved, DATASETS) == []
    assert again == replace(form, options_by_arch={"embedded_cnn": {"conv2_filters": 16}})


def test_ini_text_is_read_back_as_the_right_types():
    raw = {key: str(value).lower() if isinstance(value, bool) else str(value)
           for key, value in FormState(epochs=9, augment=True, ema=0.99).saved().items()}
    form = FormState()
    assert form.restore(raw, DATASETS) == []
    assert form.epochs == 9 and form.augment is True and form.ema == 0.99 and form.data_dir is None


def test_broken_values_are_refused_by_name_and_keep_the_current_ones():
    broken = {"dataset": "no-such-dataset", "arch": "builtin", "epochs": "inf", "seed": "99999999999",
              "batch_size": "abc", "learning_rate": "nan", "label_smoothing": "7", "optimizer": "bogus",
              "augment": "maybe", "val_split": "-3", "limit": "12.5", "xla": "perhaps",
              "steps_per_execution": "0", "arch_options": '{"simple_cnn": {"no_such_option": 3}}'}
    form = FormState(epochs=5)
    refused = form.restore(broken, DATASETS)
    assert sorted(refused) == sorted(broken)
    assert form.epochs == 5 and form == FormState(epochs=5)


def test_stored_options_keep_only_known_networks_and_options():
    text = json.dumps({"simple_cnn": {"dropout": 0.3}, "resnet20": {"width": "wide"}, "nope": {"a": 1}})
    assert stored_options(text) == {"simple_cnn": {"dropout": 0.3}}
    assert stored_options("{not json") == {} and stored_options("[1]") == {}


_RAW = st.one_of(st.text(max_size=12), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                 st.booleans(), st.none(), st.lists(st.text(max_size=4), max_size=3))


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(FormState().saved())), _RAW, max_size=12))
def test_any_saved_values_give_a_form_that_makes_a_valid_config(saved):
    form = FormState()
    refused = form.restore(saved, DATASETS)
    assert set(refused) <= set(saved)
    for key, (lo, hi) in RANGES.items():
        assert lo <= getattr(form, key) <= hi, key
    for key, choices in CHOICES.items():
        assert getattr(form, key) in choices, key
    assert form.dataset in DATASETS + ["cifar10"]
    assert isinstance(form.to_config(), TrainConfig)  # never a config the form cannot hold
