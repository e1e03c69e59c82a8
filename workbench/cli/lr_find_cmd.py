"""`lr-find`: a short learning-rate sweep on a fresh copy of the network; prints the suggested rate and
the loss curve as text (nothing is written, no run folder is made)."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from workbench.cli.common import CliError, emit_json
from workbench.cli.config_args import arch_options, given_options
from workbench.cli.progress import Progress

# Flag -> TrainConfig field of the training settings that shape the sweep.
SWEEP_OPTIONS = {
    "dataset": "dataset", "arch": "arch", "batch_size": "batch_size", "optimizer": "optimizer",
    "val_split": "val_split", "limit": "limit", "seed": "seed", "augment": "augment",
    "label_smoothing": "label_smoothing", "data_dir": "data_dir",
}
CURVE_ROWS = 16  # lines of the text curve: enough to see the dip and the rise, short enough for a terminal
BAR_WIDTH = 40


def curve_lines(result: Any) -> list[str]:
    """The smoothed loss against the rate as text bars, with the suggestion's row marked."""
    n = len(result.losses)
    picks = sorted({round(i * (n - 1) / (CURVE_ROWS - 1)) for i in range(CURVE_ROWS)}) if n > 1 else [0]
    nearest = min(range(n), key=lambda i: abs(math.log(result.learning_rates[i] / result.suggestion)))
    picks = sorted(set(picks) | {nearest})
    # Bars span the lowest loss to the first one: the exploded tail would flatten the dip; longer ones end in ">".
    low = min(result.losses)
    high = max(result.losses[0], low * 1.05)
    lines = []
    for i in picks:
        share = (result.losses[i] - low) / (high - low)
        bar = "#" * (1 + int((BAR_WIDTH - 1) * min(1.0, share))) + (">" if share > 1 else "")
        mark = "  <- suggested" if i == nearest else ""
        lines.append(f"  lr {result.learning_rates[i]:9.2e}  loss {result.losses[i]:8.4f}  {bar}{mark}")
    return lines


def cmd_lr_find(args: argparse.Namespace) -> int:
    from workbench.core.datasets import DatasetError
    from workbench.core.training import TrainConfig
    from workbench.core.training.errors import TrainingError
    from workbench.core.training.lr_finder import find_learning_rate, sweep_problem

    if args.dataset is None or args.arch is None:
        raise CliError("lr-find needs --dataset and --arch.")
    try:
        config = TrainConfig(**given_options(args, SWEEP_OPTIONS), arch_options=arch_options(args.arch, args.option))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    problem = sweep_problem(config, args.start, args.end, args.steps)
    if problem:
        raise CliError(problem.replace("start ", "--start ").replace("end ", "--end ")
                       .replace("steps (", "--steps ("))
    log = sys.stderr if args.json else sys.stdout
    # A bar on a terminal only: in a log one line at the first (compiling) batch would show a false ETA.
    bar = Progress("learning-rate sweep", args.steps, unit="batches", stream=log, tty=True) if log.isatty() else None
    try:
        result = find_learning_rate(config, start=args.start, end=args.end, steps=args.steps,
                                    on_progress=(lambda done, total: bar.update(done)) if bar else None)
    except (TrainingError, DatasetError) as exc:
        raise CliError(str(exc)) from None
    finally:
        if bar is not None:
            bar.close()
    print(f"suggested learning rate: {result.suggestion:.3g} ({result.rule})", file=log)
    print(result.explanation, file=log)
    if result.diverged:
        print(f"the sweep stopped after {len(result.losses)} of {args.steps} batches: the loss exploded", file=log)
    print("\n".join(curve_lines(result)), file=log, flush=True)
    if args.json:
        emit_json(result.to_dict())
    return 0


def add_parsers(sub) -> None:
    from workbench.core.training.config import OPTIMIZERS
    from workbench.core.training.lr_finder import DEFAULT_END, DEFAULT_START, DEFAULT_STEPS

    p = sub.add_parser(
        "lr-find", help="suggest a learning rate from a short sweep (fastai's lr_find); writes nothing",
        description="Train a fresh copy of the network for a few batches while the learning rate grows "
                    "exponentially from --start to --end, and suggest the rate where the loss fell fastest. "
                    "Takes the same data and network options as `train`; nothing is saved.",
    )
    p.add_argument("--dataset", help="dataset id (`datasets` lists them)")
    p.add_argument("--arch", help="network architecture (`archs` lists them)")
    p.add_argument("--option", action="append", metavar="NAME=VALUE",
                   help="an architecture option, e.g. dropout=0.3 (repeatable)")
    p.add_argument("--batch-size", type=int, help="images per step, as in the run you plan (default: 256)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, help="optimizer, as in the run you plan (default: adam)")
    p.add_argument("--val-split", type=float, metavar="FRACTION",
                   help="fraction of the training images held out (not used by the sweep) (default: 0.2)")
    p.add_argument("--limit", type=int, help="cap the number of training images (default: all)")
    p.add_argument("--seed", type=int, help="random seed for the split and initial weights (default: 0)")
    p.add_argument("--augment", action="store_true", default=None, help="augment the images as `train --augment`")
    p.add_argument("--label-smoothing", type=float, metavar="AMOUNT", help="label smoothing, in [0, 1) (default: 0)")
    p.add_argument("--data-dir", help="folder holding the dataset files (default: the usual places)")
    p.add_argument("--start", type=float, default=DEFAULT_START, help="learning rate of the first batch")
    p.add_argument("--end", type=float, default=DEFAULT_END, help="learning rate of the last batch")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="batches in the sweep")
    p.add_argument("--json", action="store_true", help="last stdout line: one JSON object with the curve")
    p.set_defaults(func=cmd_lr_find)
