"""Command line: ``python main.py COMMAND`` (installed as ``workbench``); no command opens the GUI.

Every command drives the same core the GUI uses. Errors reach stderr as one sentence with a
non-zero exit code; ``--debug`` adds the traceback for bug reports.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Sequence

EXIT_USAGE = 2
EXIT_FAILED = 1


class CliError(Exception):
    """A problem the user can fix; printed as one sentence."""


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _emit_json(payload: Any) -> None:
    print(json.dumps(payload, default=_json_default), flush=True)


# --- datasets -------------------------------------------------------------------------------


def cmd_datasets(args: argparse.Namespace) -> int:
    from workbench.core.datasets import dataset_summaries

    rows = dataset_summaries(args.data_dir)
    if args.json:
        _emit_json(rows)
        return 0
    print(f"{'id':<16} {'classes':>7} {'train':>7} {'test':>7}  available")
    for row in rows:
        where = row.get("location") or "-"
        mark = f"yes ({where})" if row["available"] else "no"
        print(f"{row['id']:<16} {row['classes']:>7} {row['train_size']:>7} {row['test_size']:>7}  {mark}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from workbench.core.datasets import download_dataset

    def progress(done: int, total: int | None) -> None:
        if total:
            print(f"\r{args.dataset}: {done / 1e6:7.1f} / {total / 1e6:.1f} MB", end="", file=sys.stderr)
        else:
            print(f"\r{args.dataset}: {done / 1e6:7.1f} MB", end="", file=sys.stderr)

    path = download_dataset(args.dataset, args.data_dir, progress=progress, url=args.url)
    print(file=sys.stderr)
    print(f"{args.dataset} is ready in {path}")
    return 0


# --- architectures --------------------------------------------------------------------------


def cmd_archs(args: argparse.Namespace) -> int:
    from workbench.core.architectures import ARCHITECTURES, count_params

    if args.classes < 2:
        raise CliError(f"--classes must be at least 2 (got {args.classes}).")
    rows = [
        {"name": spec.name, "title": spec.title, "params": count_params(spec.name, args.classes),
         "description": spec.description, "options": dict(spec.options),
         "ranges": {k: list(v) for k, v in spec.ranges.items()}}
        for spec in ARCHITECTURES.values()
    ]
    if args.json:
        _emit_json(rows)
        return 0
    for row in rows:
        print(f"{row['name']:<18} {row['params']:>11,}  {row['title']}")
        if row["options"]:
            print(" " * 32 + "options: " + ", ".join(f"{k}={v:g}" for k, v in row["options"].items()))
    print("Change an option with `train --option NAME=VALUE` (repeatable).")
    return 0


def _arch_options(arch: str, pairs: list[str] | None) -> dict[str, Any]:
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


# --- training -------------------------------------------------------------------------------


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
                "epoch": event.epoch + 1, "loss": _finite(event.loss), "top1": _finite(event.top1),
                "top5": _finite(event.top5), "val_loss": _finite(event.val_loss),
                "val_top1": _finite(event.val_top1), "val_top5": _finite(event.val_top5),
                "lr": _finite(event.learning_rate), "seconds": event.seconds,
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
                              "test_top1": _finite(getattr(final, "test_top1", None)),
                              "test_top5": _finite(getattr(final, "test_top5", None)),
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
        _emit_json(result)
    return EXIT_FAILED if isinstance(final, TrainingFailed) else 0


# --- evaluate / classify ----------------------------------------------------------------------


def _load_model(args: argparse.Namespace) -> Any:
    from workbench.core.modelio import inspect_model_file, load_any_model

    if not args.architecture and Path(args.model).is_file():
        info = inspect_model_file(args.model)
        if info.weights_only:
            beside = sorted(Path(args.model).parent.glob("*.json"))
            hint = f" (for example --architecture {beside[0]})" if beside else " (one of `archs`, or a JSON architecture file)"
            raise CliError(
                f"{Path(args.model).name} holds weights only, no architecture: pass --architecture{hint}."
            )
    return load_any_model(
        args.model, trust=args.trust, preprocessing=args.preprocessing,
        class_names=_class_names_option(args), architecture=args.architecture,
    )


def _class_names_option(args: argparse.Namespace) -> list[str] | None:
    if not getattr(args, "labels", None):
        return None
    from workbench.core.datasets import DATASETS

    if args.labels in DATASETS:
        return list(DATASETS[args.labels].class_names)
    path = Path(args.labels)
    if not path.is_file():
        raise CliError(f"--labels must be a dataset id ({', '.join(DATASETS)}) or a text file with one name per line.")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cmd_evaluate(args: argparse.Namespace) -> int:
    from workbench.core.datasets import load_dataset
    from workbench.core.evaluation import evaluate

    loaded = _load_model(args)
    data = load_dataset(args.dataset, args.data_dir, download=args.download)
    x, y = data.x_test, data.y_test
    if args.limit:
        x, y = x[: args.limit], y[: args.limit]
    if loaded.num_classes != data.num_classes:
        raise CliError(
            f"The model has {loaded.num_classes} outputs but {args.dataset} has {data.num_classes} classes."
        )
    result = evaluate(loaded, x, y, data.class_names)
    if args.json:
        _emit_json({"top1": result.top1, "top5": result.top5, "n": result.n,
                    "per_class_accuracy": dict(zip(data.class_names, map(float, result.per_class_accuracy)))})
        return 0
    print(f"{Path(args.model).name} on {args.dataset} test ({result.n} images): "
          f"top-1 {100 * result.top1:.2f}%  top-5 {100 * result.top5:.2f}%")
    for name, acc in zip(data.class_names, result.per_class_accuracy):
        print(f"  {name:<16} {100 * acc:5.1f}%")
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    from workbench.core.classify import classify_images

    if args.top < 1:
        raise CliError(f"--top must be at least 1 (got {args.top}).")
    loaded = _load_model(args)
    results = classify_images(loaded, args.images, top=args.top)
    failures = 0
    if args.json:
        rows = []
        for r in results:
            row: dict[str, Any] = {"image": str(r.image), "top": [{"label": l, "prob": float(p)} for l, p in r.top]}
            if r.error:
                row["error"] = r.error
                failures += 1
            rows.append(row)
        _emit_json(rows)
    else:
        for r in results:
            if r.error:
                failures += 1
                print(f"{r.image}: {r.error}", file=sys.stderr)
                continue
            best = ", ".join(f"{label} {100 * prob:.1f}%" for label, prob in r.top)
            print(f"{r.image}: {best}")
    return EXIT_FAILED if failures == len(results) else 0


# --- GUI ----------------------------------------------------------------------------------------


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        from workbench.gui.app import main as gui_main
    except ImportError as exc:
        raise CliError(f"The graphical interface is not available ({exc}).") from None
    return int(gui_main([]) or 0)


def cmd_screenshots(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from workbench.gui.screenshots import take_screenshots

    paths = take_screenshots(Path(args.out), dataset_id=args.dataset, data_dir=args.data_dir)
    for path in paths:
        print(path)
    return 0


# --- parser -------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from workbench import __version__

    parser = argparse.ArgumentParser(
        prog="workbench",
        description="CIFAR experiment workbench. Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="print tracebacks for unexpected errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help="open the workbench window (the default)")
    p.set_defaults(func=cmd_gui)

    p = sub.add_parser("datasets", help="list datasets and whether they are on disk")
    p.add_argument("--data-dir", help="folder holding cifar-10-batches-py/ (or its archive)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("download", help="download a dataset (official archive, checksum verified)")
    p.add_argument("dataset")
    p.add_argument("--data-dir", help="where to put it (default: the Keras cache)")
    p.add_argument("--url", help="archive address (a mirror)")
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("archs", help="list network architectures with parameter counts")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_archs)

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

    for name, helptext, func in (
        ("evaluate", "top-1/top-5 and per-class accuracy of a model on a test split", cmd_evaluate),
        ("classify", "classify image files with a saved model", cmd_classify),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("model")
        if name == "evaluate":
            p.add_argument("--dataset", required=True)
            p.add_argument("--data-dir")
            p.add_argument("--limit", type=int)
            p.add_argument("--download", action="store_true")
        else:
            p.add_argument("images", nargs="+")
            p.add_argument("--top", type=int, default=5)
        p.add_argument("--preprocessing", help="for foreign models: raw_0_255, scale_0_1, scale_-1_1, mean_std")
        p.add_argument("--labels", help="class names: a dataset id or a text file, one name per line")
        p.add_argument("--architecture", help="for weights-only files: one of our networks or a JSON file")
        p.add_argument("--trust", action="store_true", help="allow Lambda layers (runs code from the file)")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)

    p = sub.add_parser("screenshots", help="render the main window's panels to PNG files")
    p.add_argument("--out", required=True)
    p.add_argument("--dataset", default="builtin")
    p.add_argument("--data-dir")
    p.set_defaults(func=cmd_screenshots)
    return parser


def _known_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [CliError, ValueError, OSError]
    for module, name in (
        ("workbench.core.datasets", "DatasetError"),
        ("workbench.core.modelio.load", "ModelLoadError"),
        ("workbench.core.images", "ImageReadError"),
    ):
        try:
            errors.append(getattr(__import__(module, fromlist=[name]), name))
        except (ImportError, AttributeError):
            pass
    return tuple(errors)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = cmd_gui
    if args.command not in (None, "gui", "screenshots"):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ chatter off the terminal
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except _known_errors() as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, CliError) else EXIT_FAILED
    except Exception as exc:  # a bug: still one sentence, the traceback only on request
        if args.debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
