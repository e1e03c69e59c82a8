"""What `train`, `queue add`, `sweep` and `lr-find` share: the run options' flags, architecture options,
time budgets, and the TrainConfig a command line makes (a new run, or a resumed one)."""

from __future__ import annotations

import argparse
import math
from typing import Any, Mapping

from workbench.cli.common import CliError

# Flag -> TrainConfig field for the options a run is made of. Their parser default is None, so that a
# flag the user gave can be told from one left out: a resumed run takes what was left out from its folder.
RUN_OPTIONS = {
    "dataset": "dataset", "arch": "arch", "epochs": "epochs", "batch_size": "batch_size", "lr": "learning_rate",
    "optimizer": "optimizer", "val_split": "val_split", "limit": "limit", "test_limit": "test_limit",
    "seed": "seed", "augment": "augment", "lr_schedule": "lr_schedule", "label_smoothing": "label_smoothing",
    "early_stopping": "early_stopping_patience", "mixed_precision": "mixed_precision", "format": "model_format",
    "data_dir": "data_dir", "weight_decay": "weight_decay", "cutout": "cutout", "ema": "ema",
    "tta_flip": "tta_flip", "tta_shift": "tta_shift", "bias_lr_scale": "bias_lr_scale", "lookahead": "lookahead",
    "minutes": "minutes", "xla": "xla", "steps_per_execution": "steps_per_execution",
    "flip": "flip", "translate": "translate", "padding": "padding", "data_on_device": "data_on_device",
}


def given_options(args: argparse.Namespace, options: Mapping[str, str] = RUN_OPTIONS) -> dict[str, Any]:
    """TrainConfig fields of the flags the user gave (left-out flags are None and stay out)."""
    return {field: getattr(args, flag) for flag, field in options.items() if getattr(args, flag) is not None}


def flag_for(field: str) -> str:
    """The command-line flag of a TrainConfig field (``learning_rate`` -> ``--lr``)."""
    flag = next(f for f, name in RUN_OPTIONS.items() if name == field) if field != "arch_options" else "option"
    return "--" + flag.replace("_", "-")


def checked_minutes(value: float | None, flag: str) -> float | None:
    """A time budget in minutes from ``flag``: None, or a finite number above 0 (nan, inf, 0 and less refused)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise CliError(f"{flag} must be a number of minutes above 0 (got {value:g}).")
    return value


def arch_options(arch: str, pairs: list[str] | None) -> dict[str, Any]:
    """``["dropout=0.3", "width=32"]`` -> checked, converted options for ``arch``."""
    from workbench.core.architectures import get_arch, resolve_options

    raw: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise CliError(f"--option needs NAME=VALUE (got {pair!r}).")
        raw[name.strip()] = value.strip()
    try:
        resolved = resolve_options(arch, **raw)
        defaults = get_arch(arch).options
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return {k: resolved[k] for k in raw if resolved[k] != defaults[k]}


def resume_config(args: argparse.Namespace) -> Any:
    """The stored config of ``--resume RUN_DIR`` with the flags given now; contradicting flags are refused."""
    from workbench.core.training.errors import TrainingError
    from workbench.core.training.session import RESUME_FIXED, stored_run_config

    if args.out is not None and args.out != args.resume:
        raise CliError("--resume names the run folder already; leave --out out (or give the same folder).")
    try:
        stored = stored_run_config(args.resume)
    except TrainingError as exc:
        raise CliError(str(exc)) from None
    checked_minutes(args.minutes, "--minutes")
    given = given_options(args)
    if args.option:
        given["arch_options"] = arch_options(stored.arch, args.option)
    for field in RESUME_FIXED:
        if field in given and given[field] != getattr(stored, field):
            raise CliError(
                f"The run in {args.resume} was trained with {flag_for(field)} {getattr(stored, field)!r}, "
                f"so it must go on with it; leave {flag_for(field)} out to keep it."
            )
    return stored.replace(**given, resume=True, run_dir=args.resume, runs_root=None)


def new_config(args: argparse.Namespace) -> Any:
    from workbench.core.training import TrainConfig
    from workbench.core.training.recipes import apply_recipe, get_recipe

    recipe = None
    if args.recipe is not None:
        try:
            recipe = get_recipe(args.recipe)
        except ValueError as exc:
            raise CliError(f"{str(exc).rstrip('.')}; `train --recipe help` describes them.") from None
    arch = args.arch or (recipe.settings.get("arch") if recipe else None)
    if args.dataset is None or arch is None:
        needs = "--dataset and --arch" if recipe is None else ("--dataset" if arch else "--dataset and --arch "
                                                               f"(recipe {recipe.name} fits any network)")
        raise CliError(f"A new run needs {needs} (or --resume RUN_DIR to continue an earlier run).")
    checked_minutes(args.minutes, "--minutes")
    given = given_options(args)
    if args.option or recipe is None or args.arch is not None and args.arch != recipe.settings.get("arch", args.arch):
        given["arch_options"] = arch_options(arch, args.option)  # a recipe's options belong to its own network
    if args.minutes is not None and args.epochs is None:
        from workbench.core.training.config import BUDGET_EPOCH_CAP

        given["epochs"] = BUDGET_EPOCH_CAP  # the time budget decides how many epochs
    if recipe is None:
        return TrainConfig(**given, run_dir=args.out)
    return apply_recipe(recipe.name, {**given, "run_dir": args.out})
