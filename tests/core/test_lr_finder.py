"""Learning-rate finder: a real sweep on the built-in set falls, then explodes; a suggestion inside it;
nothing written; too little data refused in one sentence."""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

import pytest

from workbench.core.training import TrainConfig
from workbench.core.training.errors import TrainingError
from workbench.core.training.lr_finder import DIVERGENCE_FACTOR, find_learning_rate

# seed 3: with the stateless batches its sweep explodes well inside the 100 steps (seed 0 only rose 3x, not 4x)
CONFIG = TrainConfig(dataset="builtin", arch="simple_cnn", batch_size=32, limit=512, seed=3)


def _files_under(folder: str) -> set[str]:
    return {str(p) for p in Path(folder).rglob("*")} if os.path.isdir(folder) else set()


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    from workbench.core.datasets import load_dataset

    load_dataset("builtin")  # whatever the dataset itself caches is there before we look
    home = os.environ["WORKBENCH_HOME"]
    before = _files_under(home) | _files_under(os.environ["WORKBENCH_CACHE"])
    progress = []
    runs = tmp_path_factory.mktemp("runs")
    result = find_learning_rate(CONFIG.replace(runs_root=str(runs)),
                                on_progress=lambda done, total: progress.append((done, total)))
    after = _files_under(home) | _files_under(os.environ["WORKBENCH_CACHE"]) | _files_under(str(runs))
    return result, progress, after - before


def test_curve_falls_then_explodes(sweep):
    result, progress, _ = sweep
    losses = result.losses
    lowest = losses.index(min(losses))
    assert 0 < lowest < len(losses) - 1
    assert min(losses) < 0.97 * losses[0]  # training made progress at moderate rates
    assert result.diverged and len(losses) < 100  # stopped early ...
    assert losses[-1] > DIVERGENCE_FACTOR * min(losses)  # ... because the loss exploded
    assert list(result.learning_rates) == sorted(result.learning_rates)  # the rate only grows
    assert progress[-1] == (len(losses), 100)


def test_suggestion_lies_inside_the_sweep_below_the_minimum(sweep):
    result, _, _ = sweep
    assert result.learning_rates[0] <= result.suggestion <= result.min_loss_rate
    assert result.rule == "steepest descent"
    assert result.explanation.startswith("Suggested ") and result.explanation.endswith(".")
    assert f"{result.suggestion:.2g}" in result.explanation


def test_sweep_writes_nothing(sweep):
    _, _, new_files = sweep
    assert new_files == set()


def test_too_little_data_is_refused_in_one_sentence():
    with pytest.raises(TrainingError, match=r"at least one full batch of 64 training images but there are only 40"):
        find_learning_rate(TrainConfig(dataset="builtin", arch="embedded_cnn", batch_size=64, limit=40, val_split=0.2))


@pytest.mark.parametrize("kwargs, words", [
    (dict(steps=5), "between 20 and"),
    (dict(start=1.0, end=0.1), "0 < start < end"),
])
def test_bad_sweep_settings_are_refused_before_any_work(kwargs, words):
    with pytest.raises(TrainingError, match=words):
        find_learning_rate(CONFIG, **kwargs)


def test_cancel_stops_the_sweep():
    stop = threading.Event()
    stop.set()
    with pytest.raises(TrainingError, match="cancelled"):
        find_learning_rate(CONFIG.replace(limit=64), stop=stop)


def test_suggestion_rules_on_made_up_curves():
    from workbench.core.training.lr_finder import _result

    rates = [1e-5 * 10 ** (i / 20) for i in range(60)]
    # Flat, then a steep fall centred at index 30, a minimum at 45, then a rise.
    losses = [2.0 - 1.0 / (1 + math.exp(-(i - 30) / 3)) if i <= 45 else 1.0 + 0.2 * (i - 45) for i in range(60)]
    steep = _result(rates, losses, losses, diverged=True, batch_size=8, train_images=80)
    assert steep.rule == "steepest descent" and math.isclose(steep.suggestion, rates[30])
    assert "rose at higher rates" in steep.explanation
    still_falling = _result(rates[:40], losses[:40], losses[:40], diverged=False, batch_size=8, train_images=80)
    assert "where the sweep ended" in still_falling.explanation
    early_minimum = [1.0, 0.9, 0.95] + [1.0 + i for i in range(20)]
    short = _result(rates[:23], early_minimum, early_minimum, diverged=True, batch_size=8, train_images=80)
    assert short.rule == "minimum / 10" and math.isclose(short.suggestion, rates[1] / 10)
