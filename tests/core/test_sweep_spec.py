"""Sweep specs: grid and random parsing, seeded draws, and one sentence per bad setting."""

import math

import pytest

from workbench.core.sweeps.spec import SweepSpecError, make_spec
from workbench.core.training import TrainConfig

BASE = TrainConfig(dataset="builtin", arch="simple_cnn", epochs=2)


def test_grid_is_every_combination_with_flag_names_and_options():
    spec, configs = make_spec(BASE, ["lr=0.001,0.01", "option.dropout=0.1,0.3"], [])
    assert [(c.learning_rate, c.arch_options["dropout"]) for c in configs] == [
        (0.001, 0.1), (0.001, 0.3), (0.01, 0.1), (0.01, 0.3)]
    assert isinstance(configs[0].arch_options["dropout"], float)  # converted like `train --option`
    assert all(c.epochs == 2 and c.dataset == "builtin" for c in configs)  # fixed settings carried along


def test_random_draws_are_seeded_in_range_and_log_spread():
    _, a = make_spec(BASE, [], ["lr=1e-4:1e-1:log", "batch-size=16:128"], trials=20, seed=7)
    _, b = make_spec(BASE, [], ["lr=1e-4:1e-1:log", "batch-size=16:128"], trials=20, seed=7)
    _, c = make_spec(BASE, [], ["lr=1e-4:1e-1:log", "batch-size=16:128"], trials=20, seed=8)
    assert [x.learning_rate for x in a] == [x.learning_rate for x in b] != [x.learning_rate for x in c]
    assert all(1e-4 <= x.learning_rate <= 1e-1 and 16 <= x.batch_size <= 128 for x in a)
    assert all(isinstance(x.batch_size, int) for x in a)
    # log scale: about half the draws fall below the geometric middle (~3e-3), far below the linear one (0.05)
    assert sum(x.learning_rate < math.sqrt(1e-4 * 1e-1) for x in a) >= 5


def test_grid_times_random():
    _, configs = make_spec(BASE, ["optimizer=adam,sgd"], ["lr=1e-3:1e-2"], trials=3)
    assert [c.optimizer for c in configs] == ["adam"] * 3 + ["sgd"] * 3


@pytest.mark.parametrize("grid, random_, trials, words", [
    (["lr=0,0.1"], [], None, "--grid learning_rate=0.0: Learning rate must be positive"),
    (["foo=1"], [], None, "'foo' is not a setting a sweep can vary"),
    (["run_dir=a,b"], [], None, "'run_dir' is not a setting a sweep can vary"),
    (["epochs=a"], [], None, "'a' is not a whole number"),
    (["lr"], [], None, "must look like NAME=V1,V2"),
    (["option.nope=1"], [], None, "Unknown option 'nope' for simple_cnn"),
    (["optimizer=adam,nadam"], [], None, "Unknown optimizer 'nadam'"),
    ([], ["lr=0.1:0.01"], 2, "the low end must be below the high end"),
    ([], ["lr=0:0.1:log"], 2, "a log range needs a low end above 0"),
    ([], ["lr=1e-3:1e-1:ln"], 2, "NAME=LO:HI or NAME=LO:HI:log"),
    ([], ["optimizer=1:2"], 2, "not a number setting; vary it with --grid"),
    ([], ["val_split=0.1:1.5"], 2, "Validation split must be in [0, 1)"),
    ([], ["lr=1e-3:1e-1"], None, "A random sweep needs --trials N"),
    (["lr=0.1,0.2"], [], 3, "--trials is for --random sweeps"),
    (["lr=0.1"], ["lr=0.1:0.2"], 2, "learning_rate is varied twice"),
    ([], [], None, "A sweep needs at least one --grid"),
    (["seed=" + ",".join(str(i) for i in range(40)), "epochs=" + ",".join(str(i) for i in range(1, 30))], [], None,
     "would run 1160 trials"),
])
def test_bad_settings_get_one_sentence(grid, random_, trials, words):
    with pytest.raises(SweepSpecError) as caught:
        make_spec(BASE, grid, random_, trials=trials)
    message = str(caught.value)
    assert words in message and message.endswith(".") and "\n" not in message


def test_with_settings_changes_fields_and_network_options_once():
    from workbench.core.sweeps.spec import with_settings
    from workbench.core.training.recipes import apply_recipe

    base = apply_recipe("fast")
    changed = with_settings(base, ["flip=random", "batch-size=1024", "option.dirac=false", "option.width2=256"])
    assert changed.flip == "random" and changed.batch_size == 1024
    assert changed.arch_options["dirac"] is False and changed.arch_options["width2"] == 256
    assert changed.arch_options["whiten"] is True  # the recipe's other options stay
    assert with_settings(base, []) == base
    for bad, words in ((["lr=fast"], "'fast' is not a finite number"), (["colour=red"], "is not a setting that"),
                       (["option.dirac=maybe"], "needs a bool"), (["flip"], "must look like NAME=VALUE")):
        with pytest.raises(SweepSpecError, match=words):
            with_settings(base, bad)
