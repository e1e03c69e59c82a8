"""`train`: one line per epoch (a batch progress bar too on a terminal); Ctrl+C stops after the current
batch and still saves; ``--resume RUN_DIR`` continues a run with the settings stored in its folder."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from workbench.cli.common import EXIT_FAILED, CliError, emit_json, finite
from workbench.cli.config_args import new_config, resume_config
from workbench.cli.train_report import MAX_MESSAGE_CHARS, TrainReporter
from workbench.core.text import sanitize

def _recipe_lines() -> list[str]:
    from workbench.core.training.recipes import RECIPES

    lines = []
    for recipe in RECIPES.values():
        settings = ", ".join(f"{k}={v}" for k, v in recipe.settings.items())
        lines += [f"{recipe.name}: {recipe.summary}", f"    why: {recipe.why}", f"    settings: {settings}"]
        lines += [f"    on {arch}: " + ", ".join(f"{k}={v}" for k, v in options.items())
                  for arch, options in recipe.network_options.items()]
    return lines


def cmd_recipes(args: argparse.Namespace) -> int:
    from workbench.core.training.recipes import BEST_RECIPE_FOR, recipe_table

    if args.json:
        emit_json({"recipes": recipe_table(), "best_recipe_for": dict(BEST_RECIPE_FOR)})
        return 0
    print("\n".join(_recipe_lines()))
    print("best recipe per network: " + ", ".join(f"{a} -> {r}" for a, r in BEST_RECIPE_FOR.items()))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from workbench.core.training import TrainingFailed, TrainingFinished, TrainingStopped, train
    from workbench.core.datasets import DatasetError
    from workbench.core.training.errors import TrainingError
    from workbench.core.training.inputs import input_problem_for
    from workbench.core.training.session import check_run_folder

    if args.recipe == "help":
        return cmd_recipes(args)
    try:
        if args.resume is not None and args.recipe is not None:
            raise CliError("--resume continues with the settings stored in the run; leave --recipe out.")
        config = resume_config(args) if args.resume is not None else new_config(args)
        problem = input_problem_for(config)  # a network that cannot take the images: refused, nothing written
        if problem:
            raise CliError(problem)
        check_run_folder(config)  # a folder we may not use is a usage error, refused before any work
        imported = _import_summary(config.dataset)
    except (ValueError, TrainingError, DatasetError) as exc:
        raise CliError(str(exc)) from None
    if args.download:
        from workbench.core.datasets import dataset_available, download_dataset

        if not dataset_available(config.dataset, config.data_dir):
            download_dataset(config.dataset, config.data_dir)

    stop = threading.Event()
    # Text lines go to stderr in --json mode so that stdout stays machine-readable.
    log = sys.stderr if args.json else sys.stdout
    report = TrainReporter(log)
    report.budget = config.minutes
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: Any) -> None:
        if stop.is_set():  # a second Ctrl+C means "really quit now"
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        stop.set()
        report.close_bar()
        print("\nstopping after the current batch (Ctrl+C again to abort)…", file=sys.stderr, flush=True)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, on_sigint)
    try:
        final = train(config, report, stop)
    finally:
        report.close_bar()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous)

    result: dict[str, Any] = {"status": type(final).__name__.removeprefix("Training").lower(),
                              "run_dir": final.run_dir, "model_path": getattr(final, "model_path", None),
                              "test_top1": finite(getattr(final, "test_top1", None)),
                              "test_top5": None if report.top5_note else finite(getattr(final, "test_top5", None)),
                              "epochs": report.epochs}
    if imported is not None:
        result["import"] = imported  # what `datasets add --json` says about the same folder
    if report.top5_note:
        result["top5_note"] = report.top5_note  # why every top5 above is null
    if report.batch_size_reductions:
        result["batch_size_reductions"] = report.batch_size_reductions  # 1-based epochs, like "epochs"
    model = sanitize(getattr(final, "model_path", None), MAX_MESSAGE_CHARS)
    trained_s = sum(e["seconds"] for e in report.epochs)
    result["recipe"] = config.recipe or None
    result["training_seconds"] = trained_s
    if isinstance(final, TrainingFinished):
        result["best_model_path"] = final.best_model_path
        reached = _reached_line(report.epochs, final, trained_s)
        if reached:
            print(reached, file=log, flush=True)
        top5 = f"  top-5 {100 * final.test_top5:.2f}%" if final.test_top5 is not None and not report.top5_note else ""
        summary = (f"test top-1 {100 * final.test_top1:.2f}%{top5}"
                   if final.test_top1 is not None else "no test split evaluated")
        print(f"finished: {summary}; model saved to {model}", file=log, flush=True)
    elif isinstance(final, TrainingStopped):
        print(f"stopped after {final.epochs_completed} epoch(s); model saved to {model}", file=log, flush=True)
    elif isinstance(final, TrainingFailed):
        from workbench.core.tf_import import start_output

        if start_output().strip():  # TensorFlow's start-up lines, kept aside, may say why
            print(start_output().rstrip(), file=sys.stderr, flush=True)
        result["error"] = final.message
        result["diverged"] = final.diverged
        print(f"error: {sanitize(final.message, MAX_MESSAGE_CHARS)}", file=sys.stderr, flush=True)
    if args.json:
        emit_json(result)
    return EXIT_FAILED if isinstance(final, TrainingFailed) else 0


def _import_summary(dataset: str) -> dict[str, Any] | None:
    """For --dataset PATH (a folder or archive of images): the import's summary, with its skipped files, leaks
    and split; one line of it on the terminal. None for a built-in or named dataset."""
    from workbench.core.datasets import DATASETS
    from workbench.core.datasets.import_summary import import_summary
    from workbench.core.datasets.resolve import looks_like_path, open_spec
    from workbench.core.datasets.user_datasets import find_user_dataset

    if dataset in DATASETS or find_user_dataset(dataset) is not None or not looks_like_path(dataset):
        return None
    result = open_spec(dataset)  # imported once: train then loads the same cache
    print(f"imported {sanitize(result.root, MAX_MESSAGE_CHARS)}: {result.summary()}; split: "
          f"{result.split.describe()}", file=sys.stderr, flush=True)
    return import_summary(result)


def _reached_line(epochs: list[dict[str, Any]], final: Any, seconds: float) -> str | None:
    """"reached X % after Y min": the last epoch's validation top-1 (the test's when there is no validation)."""
    last = epochs[-1] if epochs else {}
    value, what = last.get("val_top1"), "validation"
    if value is None:
        value, what = final.test_top1, "test"
    if value is None:
        return None
    return f"reached {100 * value:.2f}% {what} top-1 after {seconds / 60:.1f} min of training"


def _default(field: str) -> Any:
    """TrainConfig's default for ``field``, so the help text cannot drift from it."""
    from workbench.core.training import TrainConfig

    return TrainConfig.__dataclass_fields__[field].default


def add_parsers(sub) -> None:
    from workbench.core.training.config import (
        BUDGET_EPOCH_CAP,
        FLIPS,
        LR_SCHEDULES,
        MAX_TRANSLATE,
        MODEL_FORMATS,
        OPTIMIZERS,
        PADDINGS,
    )

    p = sub.add_parser(
        "train", help="train a network, or continue one with --resume RUN_DIR; one line per epoch",
        description="Train a network on a dataset. A new run needs --dataset and --arch; --resume RUN_DIR "
                    "continues an earlier run with the settings stored in its folder. On --resume, settings "
                    "that shape the weights (--dataset, --arch, --option, --optimizer, --lr-schedule, --ema, "
                    "--val-split, --seed, --limit, --format) come from the run and may only be repeated "
                    "unchanged; the others (--epochs to extend the run, --batch-size, --lr, --augment, --flip, "
                    "--translate, --padding, --label-smoothing, --early-stopping, --test-limit, --mixed-precision, "
                    "--data-on-device, --data-dir) "
                    "may be changed.",
    )
    p.add_argument("--recipe", metavar="NAME",
                   help="start from a named recipe (`recipes` lists them); flags given explicitly "
                        "override its settings; `--recipe help` describes them")
    p.add_argument("--minutes", type=float,
                   help="time budget instead of an epoch count: the schedule is fitted to the measured speed so "
                        "the learning rate anneals by then, and the run ends at the step the plan reaches, "
                        "inside an epoch if that is where the minutes run out "
                        f"(--epochs then only caps it; default cap {BUDGET_EPOCH_CAP})")
    p.add_argument("--dataset", help="dataset id (`datasets` lists them); required for a new run")
    p.add_argument("--arch", help="network architecture (`archs` lists them); required for a new run")
    p.add_argument("--option", action="append", metavar="NAME=VALUE",
                   help="an architecture option, e.g. dropout=0.3 (repeatable; `archs` lists them)")
    p.add_argument("--epochs", type=int, help=f"total epochs to train (default: {_default('epochs')}; "
                   "on --resume: the run's own; give more to extend a finished run)")
    p.add_argument("--batch-size", type=int, help=f"images per training step (default: {_default('batch_size')})")
    p.add_argument("--lr", type=float, help=f"learning rate (default: {_default('learning_rate')})")
    p.add_argument("--optimizer", choices=OPTIMIZERS, help=f"optimizer (default: {_default('optimizer')})")
    p.add_argument("--val-split", type=float, metavar="FRACTION",
                   help="fraction of the training images held out for validation, in [0, 1) "
                        f"(default: {_default('val_split')})")
    p.add_argument("--limit", type=int, help="cap the number of training images (default: all)")
    p.add_argument("--test-limit", type=int, help="cap the number of test images evaluated at the end "
                   "(default: all; 0 skips the test)")
    p.add_argument("--seed", type=int,
                   help=f"random seed for the split, shuffles and initial weights (default: {_default('seed')})")
    p.add_argument("--augment", action="store_true", default=None,
                   help="random crop with padding, and horizontal flip where a mirrored image keeps its class "
                        "(not for MNIST digits)")
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES,
                   help=f"how the learning rate changes (default: {_default('lr_schedule')})")
    p.add_argument("--label-smoothing", type=float, metavar="AMOUNT",
                   help=f"label smoothing, in [0, 1) (default: {_default('label_smoothing')})")
    p.add_argument("--early-stopping", type=int, metavar="PATIENCE",
                   help="stop after this many epochs without a better validation top-1 (default: 0 = off)")
    p.add_argument("--mixed-precision", action="store_true", default=None, help="float16 compute on a GPU")
    p.add_argument("--weight-decay", type=float, help="decoupled weight decay applied by the optimizer "
                   "(default: 0 = none; AdamW then uses its own 0.004)")
    p.add_argument("--cutout", type=int, metavar="PIXELS",
                   help="blank one random square of this side per training image (default: 0 = off)")
    p.add_argument("--ema", type=float, metavar="MOMENTUM",
                   help="validate and save an exponential average of the weights, e.g. 0.99 (default: 0 = off)")
    p.add_argument("--tta-flip", action="store_true", default=None,
                   help="final test averages each image with its mirror image (mirror-safe datasets only)")
    p.add_argument("--tta-shift", type=int, metavar="PIXELS",
                   help="with the test-time flip, also average views moved this many pixels up-left and down-right "
                        "(airbench's 6 views; default: 0 = the mirror only)")
    p.add_argument("--bias-lr-scale", type=float, metavar="X",
                   help="batch-norm shifts learn X times faster than the other weights (airbench: 64; SGD only)")
    p.add_argument("--lookahead", action=argparse.BooleanOptionalAction, default=None,
                   help="airbench's lookahead: every 5 steps pull the weights toward a slow average")
    p.add_argument("--xla", action="store_true", default=None,
                   help="compile the training step with XLA (measured: no gain on a 2-core CPU; try it on a GPU)")
    p.add_argument("--steps-per-execution", type=int, metavar="N",
                   help="training steps per call into TensorFlow; more helps small networks on a GPU (default: 1)")
    p.add_argument("--flip", choices=FLIPS,
                   help="with --augment: random (each image mirrored with p 0.5 every epoch) or alternate "
                        "(airbench: a seeded half of the images in epoch 0, then each one every other epoch) "
                        f"(default: {_default('flip')})")
    p.add_argument("--translate", type=int, metavar="PIXELS",
                   help=f"with --augment: shift each image up to this many pixels each way, 0 to {MAX_TRANSLATE} "
                        f"(default: {_default('translate')})")
    p.add_argument("--padding", choices=PADDINGS,
                   help=f"what a shift uncovers: zero or reflect (default: {_default('padding')})")
    p.add_argument("--data-on-device", action="store_true", default=None,
                   help="keep the training images on the GPU and augment each batch there (single-device runs; "
                        "the same batches as the host pipeline)")
    p.add_argument("--format", choices=MODEL_FORMATS, help=f"model file format (default: {_default('model_format')})")
    p.add_argument("--out", metavar="RUN_DIR",
                   help="folder for a new run: new or empty (default: a new folder under ~/.cifar_workbench/runs)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR from its last completed epoch (or finish its files)")
    p.add_argument("--data-dir", help="folder holding the dataset files (default: the usual places)")
    p.add_argument("--download", action="store_true", help="download the dataset if it is missing")
    p.add_argument("--json", action="store_true", help="last stdout line: one JSON object")
    p.set_defaults(func=cmd_train)
    r = sub.add_parser("recipes", help="list the training recipes `train --recipe` takes, with their settings",
                       description="The named recipes: what each sets and why, and the recipe that serves each "
                                   "network best.")
    r.add_argument("--json", action="store_true", help="one JSON object instead of text")
    r.set_defaults(func=cmd_recipes)
