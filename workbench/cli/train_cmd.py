"""`train`: one line per epoch (a batch progress bar too on a terminal); Ctrl+C stops after the current
batch and still saves; ``--resume RUN_DIR`` continues a run with the settings stored in its folder."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any, TextIO

from workbench.cli.archs_cmd import _arch_options
from workbench.cli.common import EXIT_FAILED, CliError, emit_json, finite
from workbench.cli.progress import Progress
from workbench.core.text import sanitize

# Longest error message we print: enough for any of our sentences with two long paths in them.
MAX_MESSAGE_CHARS = 2000

# Flag -> TrainConfig field for the options a run is made of. Their parser default is None, so that a
# flag the user gave can be told from one left out: a resumed run takes what was left out from its folder.
RUN_OPTIONS = {
    "dataset": "dataset", "arch": "arch", "epochs": "epochs", "batch_size": "batch_size", "lr": "learning_rate",
    "optimizer": "optimizer", "val_split": "val_split", "limit": "limit", "test_limit": "test_limit",
    "seed": "seed", "augment": "augment", "lr_schedule": "lr_schedule", "label_smoothing": "label_smoothing",
    "early_stopping": "early_stopping_patience", "mixed_precision": "mixed_precision", "format": "model_format",
    "data_dir": "data_dir", "weight_decay": "weight_decay", "cutout": "cutout", "ema": "ema",
    "tta_flip": "tta_flip", "minutes": "minutes", "xla": "xla", "steps_per_execution": "steps_per_execution",
}


def _epoch_line(event: Any, top5: bool = True) -> str:
    """One epoch's figures; `top5=False` leaves top-5 out (5 classes or fewer: it is always 100 %)."""
    def pct(v: float | None) -> str:
        return "   -  " if v is None else f"{100 * v:5.1f}%"

    val = ""
    if event.val_top1 is not None:
        val = f"  val loss {event.val_loss:.4f} top1 {pct(event.val_top1)}"
        val += f" top5 {pct(event.val_top5)}" if top5 else ""
    best = "  *best" if event.is_best else ""
    return (
        f"epoch {event.epoch + 1:>3}/{event.epochs}  loss {event.loss:.4f} top1 {pct(event.top1)}"
        + (f" top5 {pct(event.top5)}" if top5 else "")
        + f"{val}  lr {event.learning_rate:.2e}  {event.seconds:.1f}s {event.images_per_sec:,.0f} img/s{best}"
    )


def _flag(field: str) -> str:
    flag = next(f for f, name in RUN_OPTIONS.items() if name == field) if field != "arch_options" else "option"
    return "--" + flag.replace("_", "-")


def _resume_config(args: argparse.Namespace) -> Any:
    """The stored config of ``--resume RUN_DIR`` with the flags given now; contradicting flags are refused."""
    from workbench.core.training.errors import TrainingError
    from workbench.core.training.session import RESUME_FIXED, stored_run_config

    if args.out is not None and args.out != args.resume:
        raise CliError("--resume names the run folder already; leave --out out (or give the same folder).")
    try:
        stored = stored_run_config(args.resume)
    except TrainingError as exc:
        raise CliError(str(exc)) from None
    given = {f: getattr(args, flag) for flag, f in RUN_OPTIONS.items() if getattr(args, flag) is not None}
    if args.option:
        given["arch_options"] = _arch_options(stored.arch, args.option)
    for field in RESUME_FIXED:
        if field in given and given[field] != getattr(stored, field):
            raise CliError(
                f"The run in {args.resume} was trained with {_flag(field)} {getattr(stored, field)!r}, "
                f"so it must go on with it; leave {_flag(field)} out to keep it."
            )
    return stored.replace(**given, resume=True, run_dir=args.resume, runs_root=None)


def _new_config(args: argparse.Namespace) -> Any:
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
    given = {f: getattr(args, flag) for flag, f in RUN_OPTIONS.items() if getattr(args, flag) is not None}
    if args.option or recipe is None or args.arch is not None and args.arch != recipe.settings.get("arch", args.arch):
        given["arch_options"] = _arch_options(arch, args.option)  # a recipe's options belong to its own network
    if args.minutes is not None and args.epochs is None:
        from workbench.core.training.config import BUDGET_EPOCH_CAP

        given["epochs"] = BUDGET_EPOCH_CAP  # the time budget decides how many epochs
    if recipe is None:
        return TrainConfig(**given, run_dir=args.out)
    return apply_recipe(recipe.name, {**given, "run_dir": args.out})


def _recipe_lines() -> list[str]:
    from workbench.core.training.recipes import RECIPES

    lines = []
    for recipe in RECIPES.values():
        settings = ", ".join(f"{k}={v}" for k, v in recipe.settings.items())
        lines += [f"{recipe.name}: {recipe.summary}", f"    why: {recipe.why}", f"    settings: {settings}"]
    return lines


def cmd_recipes(args: argparse.Namespace) -> int:
    from workbench.core.training.recipes import BEST_RECIPE_FOR, recipe_table

    if args.json:
        emit_json({"recipes": recipe_table(), "best_recipe_for": dict(BEST_RECIPE_FOR)})
        return 0
    print("\n".join(_recipe_lines()))
    print("best recipe per network: " + ", ".join(f"{a} -> {r}" for a, r in BEST_RECIPE_FOR.items()))
    return 0


class _Reporter:
    """Turns training events into terminal output: a batch bar on a TTY, one line per epoch everywhere."""

    def __init__(self, log: TextIO, tty: bool | None = None) -> None:
        self.log = log
        self.tty = log.isatty() if tty is None else tty
        self.epochs: list[dict[str, Any]] = []
        self.top5_note: str | None = None  # why top-5 is left out (5 classes or fewer), once the run says
        self.batch_size_reductions: list[dict[str, Any]] = []  # out-of-memory halvings, for --json
        self._bar: Progress | None = None

    budget: float | None = None  # the run's time budget in minutes: epochs are then counted, not planned

    def _print(self, text: str) -> None:
        self.close_bar()
        print(text, file=self.log, flush=True)

    def close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __call__(self, event: Any) -> None:
        from workbench.core.training import BatchProgress, BatchSizeReduced, EpochEnded, TrainingStarted

        if isinstance(event, TrainingStarted):
            resumed = f", resuming after epoch {event.initial_epoch}" if event.initial_epoch else ""
            self._print(
                f"training {sanitize(event.arch)} ({event.params:,} parameters) on {sanitize(event.dataset)}: "
                f"{event.train_images} train / {event.val_images} validation images, {event.device}{resumed}"
            )
            self._print(f"run directory: {sanitize(event.run_dir, MAX_MESSAGE_CHARS)}")
            self.top5_note = event.top5_note
            shape = "×".join(str(d) for d in event.image_shape)
            self._print(f"images {shape}, {event.augmentation}"
                        + (f"; {event.top5_note}, so it is not reported" if event.top5_note else ""))
        elif isinstance(event, BatchProgress) and self.tty:
            if self._bar is None:
                self._bar = Progress(f"epoch {event.epoch + 1}", event.steps, unit="batches",
                                     stream=self.log, tty=True)
            self._bar.update(event.batch)
        elif isinstance(event, EpochEnded):
            self.epochs.append({
                "epoch": event.epoch + 1, "loss": finite(event.loss), "top1": finite(event.top1),
                "top5": None if self.top5_note else finite(event.top5), "val_loss": finite(event.val_loss),
                "val_top1": finite(event.val_top1), "val_top5": None if self.top5_note else finite(event.val_top5),
                "lr": finite(event.learning_rate), "seconds": event.seconds,
                "images_per_sec": event.images_per_sec,
            })
            line = _epoch_line(event, top5=self.top5_note is None)
            if self.budget is not None:  # "epoch 3/1000" would show the cap, not a plan
                line = line.replace(f"/{event.epochs}", f" ({self.budget:g}-min budget)", 1)
            self._print(line)
        elif isinstance(event, BatchSizeReduced):  # out of memory: the run goes on with half the batch
            self._print(sanitize(event.message))
            self.batch_size_reductions.append({"from_epoch": event.from_epoch + 1, "batch_size": event.batch_size,
                                               "learning_rate": event.learning_rate})


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
        config = _resume_config(args) if args.resume is not None else _new_config(args)
        problem = input_problem_for(config)  # a network that cannot take the images: refused, nothing written
        if problem:
            raise CliError(problem)
        check_run_folder(config)  # a folder we may not use is a usage error, refused before any work
    except (ValueError, TrainingError, DatasetError) as exc:
        raise CliError(str(exc)) from None
    if args.download:
        from workbench.core.datasets import dataset_available, download_dataset

        if not dataset_available(config.dataset, config.data_dir):
            download_dataset(config.dataset, config.data_dir)

    stop = threading.Event()
    # Text lines go to stderr in --json mode so that stdout stays machine-readable.
    log = sys.stderr if args.json else sys.stdout
    report = _Reporter(log)
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
        result["error"] = final.message
        result["diverged"] = final.diverged
        print(f"error: {sanitize(final.message, MAX_MESSAGE_CHARS)}", file=sys.stderr, flush=True)
    if args.json:
        emit_json(result)
    return EXIT_FAILED if isinstance(final, TrainingFailed) else 0


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
    from workbench.core.training.config import BUDGET_EPOCH_CAP, LR_SCHEDULES, MODEL_FORMATS, OPTIMIZERS

    p = sub.add_parser(
        "train", help="train a network, or continue one with --resume RUN_DIR; one line per epoch",
        description="Train a network on a dataset. A new run needs --dataset and --arch; --resume RUN_DIR "
                    "continues an earlier run with the settings stored in its folder. On --resume, settings "
                    "that shape the weights (--dataset, --arch, --option, --optimizer, --lr-schedule, --ema, "
                    "--val-split, --seed, --limit, --format) come from the run and may only be repeated "
                    "unchanged; the others (--epochs to extend the run, --batch-size, --lr, --augment, "
                    "--label-smoothing, --early-stopping, --test-limit, --mixed-precision, --data-dir) "
                    "may be changed.",
    )
    p.add_argument("--recipe", metavar="NAME",
                   help="start from a named recipe (report, fast, best, report_tuned); flags given explicitly "
                        "override its settings; `--recipe help` describes them")
    p.add_argument("--minutes", type=float,
                   help="time budget instead of an epoch count: the schedule is fitted to the measured speed so "
                        "the learning rate anneals by then, and the run ends at the last epoch that fits "
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
    p.add_argument("--xla", action="store_true", default=None,
                   help="compile the training step with XLA (measured: no gain on a 2-core CPU; try it on a GPU)")
    p.add_argument("--steps-per-execution", type=int, metavar="N",
                   help="training steps per call into TensorFlow; more helps small networks on a GPU (default: 1)")
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
