"""`evaluate` and `classify`: any saved model on a test split or on image files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from workbench.cli.common import EXIT_FAILED, CliError, emit_json


def _load_model(args: argparse.Namespace) -> Any:
    """The model named on the command line, opened by the core's one entry point (`open_model`)."""
    from workbench.core.architectures import ARCHITECTURES
    from workbench.core.modelio import NEEDS_ARCHITECTURE, ModelLoadError, open_model

    names = _class_names_option(args)
    if args.preprocessing is not None:
        from workbench.core.modelio.preprocessing import PreprocessingError, preprocessing_from

        try:
            preprocessing_from(args.preprocessing)
        except PreprocessingError as exc:
            raise CliError(f"--preprocessing: {exc}") from None
    opening = open_model(
        args.model, trust=args.trust, architecture=args.architecture,
        preprocessing=args.preprocessing, preprocessing_reason="chosen with --preprocessing",
        class_names=names, class_names_source=f"--labels {args.labels}" if names is not None else "",
    )
    if opening.needs == NEEDS_ARCHITECTURE:
        name = Path(args.model).name
        hint = (f"--architecture {opening.suggested_architecture} (it fits the weights)"
                if opening.suggested_architecture else
                f"--architecture with one of ours ({', '.join(ARCHITECTURES)}) or a Keras JSON architecture file")
        raise CliError(f"{name} holds weights only, no architecture: pass {hint}.")
    if opening.loaded is None:
        message = opening.message
        if opening.needs:  # trust: say it in the flag's terms
            message = message.rstrip(".") + "; pass --trust to load it anyway."
        raise ModelLoadError(message)
    return opening.loaded


def _class_names_option(args: argparse.Namespace) -> list[str] | None:
    if not getattr(args, "labels", None):
        return None
    from workbench.core.datasets import DATASETS
    from workbench.core.files import check_regular_file
    from workbench.core.modelio.limits import MAX_METADATA_BYTES

    if args.labels in DATASETS:
        return list(DATASETS[args.labels].class_names)
    path = Path(args.labels)
    if not path.is_file():
        raise CliError(f"--labels must be a dataset id ({', '.join(DATASETS)}) or a text file with one name per line.")
    if check_regular_file(path, "labels file").st_size > MAX_METADATA_BYTES:
        raise CliError(f"--labels {path} is larger than {MAX_METADATA_BYTES // 2**20} MiB; "
                       "give a text file with one class name per line.")
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError:
        raise CliError(f"--labels {path} is not a UTF-8 text file with one class name per line.") from None


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
        emit_json({"top1": result.top1, "top5": result.top5, "n": result.n,
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
        emit_json(rows)
    else:
        for r in results:
            if r.error:
                failures += 1
                print(f"{r.image}: {r.error}", file=sys.stderr)
                continue
            best = ", ".join(f"{label} {100 * prob:.1f}%" for label, prob in r.top)
            print(f"{r.image}: {best}")
    return EXIT_FAILED if failures == len(results) else 0


def add_parsers(sub) -> None:
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
