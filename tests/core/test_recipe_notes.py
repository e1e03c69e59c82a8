"""A recipe's note says what the run really does: the figures in the `fast` note are the network's and the
optimizer's own settings, and the form's optimizer label names the same momentum."""

from __future__ import annotations

import inspect

from workbench.core.architectures.airnet import build_airnet
from workbench.core.training.optim import make_optimizer
from workbench.core.training.recipes import apply_recipe, get_recipe
from workbench.gui.panels.experiment.text import OPTIMIZER_LABELS


def test_fast_note_matches_its_settings_and_the_form():
    note = get_recipe("fast").why
    config = apply_recipe("fast")
    assert config.arch == "airnet" and config.weight_decay == 0.0  # the L2 is the network's option, not AdamW's
    l2 = config.arch_options["weight_decay"]  # what the form's option shows once the recipe fills it
    assert l2 != inspect.signature(build_airnet).parameters["weight_decay"].default
    assert f"L2 penalty of {l2:.1e}".replace("e-04", "e-4") in note
    assert "L2 5e-4" not in note
    optimizer = make_optimizer(config.replace(optimizer="sgd"), steps_per_epoch=10)
    momentum = float(optimizer.momentum)
    assert optimizer.nesterov and f"Nesterov momentum {momentum:g}" in note
    assert OPTIMIZER_LABELS["sgd"] == f"SGD (Nesterov momentum {momentum:g})"
