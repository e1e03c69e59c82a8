"""`train`: one line per epoch, Ctrl+C stops after the current batch and still saves."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from workbench.cli.archs_cmd import _arch_options
from workbench.cli.common import EXIT_FAILED, CliError, emit_json, finite


def _epoch_line(event: Any) -> str:
    def pct(v: float | None) -> str:
        return "   -  " if v is None else f"{100 * v:5.1f}%"

    val = ""
    if event.val_top1 is not None:
        val = f"  val loss {event.val_loss:.4f} top1 {pct(event.val_top1)} top5 {pct(event.val_top5)}"
    best = "  *best" if event.is_best else ""
    return (
        f"epoch {event.epoch + 1:>3}/{event.epochs}  loss {event.loss:.4f} top1 {pct(event.top1)} "
        f"top5 {pct(event.top5)}{val}  lr {event.learning_rate:.2e}  {event.seconds:.1f}s "
        f"{event.images_per_sec:,.0f} img/s{best}"
    )


def cmd_train(args: argparse.Namespace) -> int:
    from workbench.core.training import (
        EpochEnded,
        TrainConfig,
        TrainingFailed,
        TrainingFinished,
        TrainingStarted,
        TrainingStopped,
        train,
    )

    arch_options = _arch_options(args.arch, args.option)
    try:
        config = TrainConfig(
            dataset=args.dataset,
            arch=args.arch,
            arch_options=arch_options,
            epochs=args.epochs,
            batch_size=args.batch_size,
            optimizer=args.optimizer,
            learning_rate=args.lr,
            val_split=args.val_split,
            augment=args.augment,
            lr_schedule=args.lr_schedule,
            label_smoothing=args.label_smoothing,
            early_stopping_patience=args.early_stopping,
            seed=args.seed,
            limit=args.limit,
            test_limit=args.test_limit,
            data_dir=args.data_dir,
            run_dir=args.out,
            mixed_precision=args.mixed_precision,
            model_format=args.format,
            resume=args.resume,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.download:
        from workbench.core.datasets import dataset_available, download_dataset

        if not dataset_available(args.dataset, args.data_dir):
            download_dataset(args.dataset, args.data_dir)

    epochs: list[dict[str, Any]] = []
    stop = threading.Event()
    # Text lines go to stderr in --json mode so that stdout stays machine-readable.
    log = sys.stderr if args.json else sys.stdout

    def on_event(event: Any) -> None:
        if isinstance(event, TrainingStarted):
            resumed = f", resuming after epoch {event.initial_epoch}" if event.initial_epoch else ""
            print(
                f"training {event.arch} ({event.params:,} parameters) on {event.dataset}: "
                f"{event.train_images} train / {event.val_images} validation images, {event.device}{resumed}",
                file=log, flush=True,
            )
            print(f"run directory: {event.run_dir}", file=log, flush=True)
        elif isinstance(event, EpochEnded):
            epochs.append({
                "epoch": event.epoch + 1, "loss": finite(event.loss), "top1": finite(event.top1),
                "top5": finite(event.top5), "val_loss": finite(event.val_loss),
                "val_top1": finite(event.val_top1), "val_top5": finite(event.val_top5),
                "lr": finite(event.learning_rate), "seconds": event.seconds,
                "images_per_sec": event.images_per_sec,
            })
            print(_epoch_line(event), file=log, flush=True)

    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: Any) -> None:
        if stop.is_set():  # a second Ctrl+C means "really quit now"
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping after the current batch (Ctrl+C again to abort)…", file=sys.stderr, flush=True)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, on_sigint)
    try:
        final = train(config, on_event, stop)
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous)

    result: dict[str, Any] = {"status": type(final).__name__.removeprefix("Training").lower(),
                              "run_dir": final.run_dir, "model_path": getattr(final, "model_path", None),
                              "test_top1": finite(getattr(final, "test_top1", None)),
                              "test_top5": finite(getattr(final, "test_top5", None)),
                              "epochs": epochs}
    if isinstance(final, TrainingFinished):
        result["best_model_path"] = final.best_model_path
        summary = f"test top-1 {100 * final.test_top1:.2f}%  top-5 {100 * final.test_top5:.2f}%" if final.test_top1 is not None else "no test split evaluated"
        print(f"finished: {summary}; model saved to {final.model_path}", file=log, flush=True)
    elif isinstance(final, TrainingStopped):
        print(f"stopped after {final.epochs_completed} epoch(s); model saved to {final.model_path}", file=log, flush=True)
    elif isinstance(final, TrainingFailed):
        result["error"] = final.message
        result["diverged"] = final.diverged
        print(f"error: {final.message}", file=sys.stderr, flush=True)
    if args.json:
        emit_json(result)
    return EXIT_FAILED if isinstance(final, TrainingFailed) else 0


def add_parsers(sub) -> None:
    p = sub.add_parser("train", help="train a network; one line per epoch")
    p.add_argument("--dataset", required=True)
    p.add_argument("--arch", required=True)
    p.add_argument("--option", action="append", metavar="NAME=VALUE",
                   help="an architecture option, e.g. dropout=0.3 (repeatable; `archs` lists them)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--val-split", type=float, default=0.2)
    p.add_argument("--limit", type=int, help="cap the number of training images")
    p.add_argument("--test-limit", type=int, help="cap the number of test images evaluated at the end")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--augment", action="store_true", help="random crop with padding and horizontal flip")
    p.add_argument("--lr-schedule", default="constant", help="constant, cosine, step or plateau")
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--early-stopping", type=int, default=0, metavar="PATIENCE")
    p.add_argument("--mixed-precision", action="store_true", help="float16 compute on a GPU")
    p.add_argument("--format", choices=("h5", "keras"), default="h5", help="model file format")
    p.add_argument("--out", help="run directory (default: a new folder under ~/.cifar_workbench/runs)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last epoch")
    p.add_argument("--data-dir")
    p.add_argument("--download", action="store_true", help="download the dataset if it is missing")
    p.add_argument("--json", action="store_true", help="last stdout line: one JSON object")
    p.set_defaults(func=cmd_train)
