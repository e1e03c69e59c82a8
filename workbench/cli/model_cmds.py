"""`evaluate` and `classify`: any saved model on a test split or on image files (or folders of them).

Both say which preprocessing and class names were used and what was done to the images to fit the
model; text from files (class names, file names) is sanitised before it is printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from workbench.cli.common import EXIT_FAILED, CliError, emit_json
from workbench.core.text import sanitize

# Classifying at least this many images shows a progress line (fewer finish before it would help).
CLASSIFY_PROGRESS_FROM = 10


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


def artefact_note(loaded: Any) -> str | None:
    from workbench.core.modelio.artefacts import ArtefactModel, inference_only_note

    model = getattr(loaded, "model", None)
    return inference_only_note(model.fmt) if isinstance(model, ArtefactModel) else None


def _model_facts(loaded: Any, also: str | None = None) -> dict[str, Any]:
    """What was loaded and decided about the model, for --json (null where the loader does not say);
    `also`: one more warning sentence (e.g. a --fit other than the one training used)."""
    warnings = getattr(loaded, "warnings", None)
    if also:
        warnings = (*(warnings or ()), also)
    return {
        "path": loaded.path,
        "input_shape": list(loaded.input_shape),
        "classes": loaded.num_classes,
        "preprocessing": loaded.preprocessing.describe(),
        "preprocessing_reason": getattr(loaded, "preprocessing_reason", None),
        "preprocessing_guessed": getattr(loaded, "preprocessing_guessed", None),
        "class_names_source": getattr(loaded, "class_names_source", None),
        "fit": getattr(loaded, "fit_rule", None),  # the resize rule training used, where recorded
        "temperature": getattr(loaded, "temperature", None),  # stored by `calibrate`; None: raw confidence
        "warnings": list(warnings) if warnings is not None else None,
        "inference_only": artefact_note(loaded),  # an exported SavedModel/LiteRT/ONNX: no layers, no calibration
    }


def _print_model_facts(loaded: Any, model_arg: str) -> None:
    """One line on the preprocessing and class names (stdout), then the loader's warnings (stderr)."""
    facts = _model_facts(loaded)
    line = f"{sanitize(Path(model_arg).name)}: preprocessing {sanitize(facts['preprocessing'])}"
    if facts["preprocessing_reason"]:
        guessed = " (guessed)" if facts["preprocessing_guessed"] else ""
        line += f"{guessed}, because {sanitize(facts['preprocessing_reason']).rstrip('.')}"
    if facts["class_names_source"]:
        line += f"; class names: {sanitize(facts['class_names_source']).rstrip('.')}"
    if facts["temperature"] is not None:  # the probabilities shown are scaled: say so beside them
        line += f"; confidence calibrated with temperature {facts['temperature']:.3g}"
    print(line + ".")
    if facts["inference_only"]:
        print(f"note: {facts['inference_only']}")
    for warning in facts["warnings"] or ():
        print(f"warning: {sanitize(warning)}", file=sys.stderr)


def _warn_fit(loaded: Any, fit: str | None) -> None:
    """A --fit other than the rule the model was trained with gets a warning sentence (stderr)."""
    from workbench.core.classify import fit_warning

    warning = fit_warning(loaded, fit)
    if warning:
        print(f"warning: {sanitize(warning)} Leave out --fit to use the model's own rule.", file=sys.stderr)


MODEL_KINDS = "give the path of a .h5, .keras, .tflite or .onnx file or of a SavedModel folder"


def _check_model_path(model: str) -> None:
    """A missing model file, a folder or a pipe is a usage error, told before anything slow starts."""
    from workbench.core.files import check_regular_file

    if Path(model).is_dir():  # an exported TensorFlow SavedModel is a folder
        if not (Path(model) / "saved_model.pb").is_file():
            raise CliError(f"{sanitize(model)} is a folder without saved_model.pb, so it is not a TensorFlow "
                           f"SavedModel; {MODEL_KINDS}.")
        return
    try:
        check_regular_file(model, "model file")
    except OSError as exc:
        raise CliError(f"{sanitize(exc.strerror or exc)}; {MODEL_KINDS}.") from None


def _check_limit(limit: int | None, verb: str = "evaluate") -> None:
    if limit is not None and limit < 1:
        raise CliError(f"--limit must be at least 1 (got {limit}); leave it out to {verb} the whole test split.")


def open_model_on_dataset(args: argparse.Namespace, verb: str = "evaluate") -> tuple[Any, Any]:
    """(LoadedModel, DatasetInfo) for a command over a test split (evaluate, embed): --limit, the model
    path and the dataset are checked, and the class counts compared, before the test split is read."""
    from workbench.core.datasets import DatasetError, get_info

    _check_limit(args.limit, verb)
    _check_model_path(args.model)
    try:
        info = get_info(args.dataset)  # a built-in id, a user dataset's name or an image folder / archive
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    loaded = _load_model(args)
    if getattr(args, "no_temperature", False):  # evaluate only: the raw confidence, to compare
        loaded = loaded.without_temperature()
    # Checked from the registry before the (possibly large) test split is read.
    if loaded.num_classes != info.num_classes:
        raise CliError(
            f"{sanitize(Path(args.model).name)} has {loaded.num_classes} outputs but {args.dataset} has "
            f"{info.num_classes} classes; pick a --dataset with {loaded.num_classes} classes."
        )
    return loaded, info


def load_test_split(args: argparse.Namespace) -> Any:
    """(images, labels, class names) of the first --limit test images of --dataset."""
    from workbench.core.datasets import load_dataset

    data = load_dataset(args.dataset, args.data_dir, download=args.download)
    return data.x_test[: args.limit], data.y_test[: args.limit], data.class_names


def cmd_evaluate(args: argparse.Namespace) -> int:
    from workbench.cli.progress import Progress
    from workbench.core.classify import fit_for, fit_warning
    from workbench.core.evaluation import FLIP_STEP, EvaluationError, evaluate, fit_steps, flip_for

    loaded, info = open_model_on_dataset(args)
    fit = fit_for(loaded, args.fit)
    try:
        steps = fit_steps(getattr(info, "image_shape", (32, 32, 3)), loaded.input_shape, fit)
    except EvaluationError as exc:
        raise CliError(f"{sanitize(Path(args.model).name)} cannot be evaluated on {args.dataset}: {exc}") from None
    try:
        flip = flip_for(loaded, bool(getattr(info, "mirror_safe", False)), args.tta)
    except EvaluationError as exc:
        raise CliError(str(exc)) from None
    if not args.json:
        _print_model_facts(loaded, args.model)
        _warn_fit(loaded, args.fit)
        for step in steps:
            print(f"note: {step}{f' (--fit {fit})' if step.startswith('resized') else ''}.")
        if flip:
            why = " (the model's run measured itself so; --tta off to skip)" if args.tta == "auto" else ""
            print(f"note: {FLIP_STEP}{why}.")
    x, y, class_names = load_test_split(args)
    with Progress("evaluating", len(y), unit="images") as bar:
        result = evaluate(loaded, x, y, class_names, fit=fit, flip=flip,
                          progress=lambda done, _: bar.update(done))
    note = result.top5_note  # 5 classes or fewer: top-5 is always 100 %, so it is not reported
    if args.json:
        facts = {"top1": result.top1, "top5": None if note else result.top5, "k": result.k, "n": result.n,
                 "tta_flip": flip, "ece": result.ece, "reliability": result.reliability.as_json(),
                 "temperature": result.temperature}
        if note:
            facts["top5_note"] = note
        emit_json({**facts, "per_class_accuracy": result.per_class(), "steps": list(result.steps),
                   "model": _model_facts(loaded, fit_warning(loaded, args.fit))})
        return 0
    top5 = f"({note})" if note else f"top-{result.k} {100 * result.top5:.2f}%"
    print(f"{sanitize(Path(args.model).name)} on {args.dataset} test ({result.n} images): "
          f"top-1 {100 * result.top1:.2f}%  {top5}")
    print(f"calibration: ECE {result.ece:.4f} (15 bins); {sanitize(loaded.calibration_text(), 600)}")
    for name, acc in result.per_class().items():
        shown = "   no images" if acc is None else f"{100 * acc:5.1f}%"
        print(f"  {sanitize(name, 40):<16} {shown}")
    return 0


def _row(r) -> dict[str, Any]:
    row: dict[str, Any] = {"image": str(r.image), "top": [{"label": l, "prob": p} for l, p in r.top]}
    if r.error:
        row["error"] = r.error
    else:
        row["steps"] = list(r.steps)
        row["size"] = list(r.original_size) if r.original_size else None
    return row


def image_files(paths: list[str]) -> Any:
    """The image files in PATHs (folders searched recursively), or a sentence when there are none (classify, explain)."""
    from workbench.core.images.errors import ImageReadError
    from workbench.core.images.find import collect_image_files

    try:
        found = collect_image_files(paths)
    except ImageReadError as exc:
        raise CliError(str(exc)) from None
    if not found.files:
        raise CliError(f"No image files found in {', '.join(sanitize(p) for p in paths)} "
                       f"({found.skipped} other file(s) skipped); images end in .png, .jpg, .bmp, .gif, .tif or .webp.")
    return found


def cmd_classify(args: argparse.Namespace) -> int:
    from workbench.cli.progress import Progress
    from workbench.core.classify import classify_images, fit_warning, input_shape_for_images

    if args.top < 1:
        raise CliError(f"--top must be at least 1 (got {args.top}).")
    _check_model_path(args.model)
    found = image_files(args.images)
    loaded = _load_model(args)
    input_shape_for_images(loaded)  # refuse a model images cannot feed before reading any
    if not args.json:
        _print_model_facts(loaded, args.model)
        _warn_fit(loaded, args.fit)
    many = len(found.files) >= CLASSIFY_PROGRESS_FROM
    with Progress("classifying", len(found.files) if many else None, unit="images") as bar:
        results = classify_images(loaded, found.files, top=args.top, fit=args.fit, keep_inputs=False,
                                  progress=(lambda done, _: bar.update(done)) if many else None)
    failures = sum(not r.ok for r in results)
    if args.json:
        emit_json({"model": _model_facts(loaded, fit_warning(loaded, args.fit)), "images": [_row(r) for r in results], "skipped": found.skipped})
    else:
        for r in results:
            if r.error:
                print(f"{sanitize(r.image)}: {sanitize(r.error, 400)}", file=sys.stderr)
                continue
            best = ", ".join(f"{sanitize(label, 40)} {100 * prob:.1f}%" for label, prob in r.top)
            print(f"{sanitize(r.image)}: {best}")
            if r.steps:
                print(f"  ({'; '.join(r.steps)})")
        if found.skipped:
            print(f"skipped {found.skipped} file(s) in the folders that are not images.", file=sys.stderr)
    return EXIT_FAILED if failures == len(results) else 0


def add_parsers(sub) -> None:
    from workbench.core.evaluation import TTA_CHOICES

    for name, helptext, func in (
        ("evaluate", "top-1/top-5 and per-class accuracy of a model on a test split", cmd_evaluate),
        ("classify", "classify image files (or the images in folders) with a saved model", cmd_classify),
    ):
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.add_argument("model", help="the saved model: .h5 or .keras (weights-only files need --architecture), "
                       "or an exported SavedModel folder, .tflite or .onnx (inference only)")
        if name == "evaluate":
            add_test_split_options(p)
            p.add_argument("--no-temperature", action="store_true",
                           help="ignore a temperature stored by `calibrate` (the model's raw confidence)")
            p.add_argument("--tta", choices=TTA_CHOICES, default="auto",
                           help="test-time flip: average each image with its mirror image (auto: as the "
                                "model's training run measured its own figure, where images may be mirrored)")
        else:
            p.add_argument("images", nargs="+", help="image files, or folders whose images (searched "
                           "recursively, sorted) are classified; other files in folders are skipped")
            p.add_argument("--top", type=int, default=5, help="how many labels to show per image, best first")
        add_model_options(p)
        p.set_defaults(func=func)


def add_test_split_options(p: argparse.ArgumentParser, verb: str = "evaluate") -> None:
    """--dataset, --data-dir, --limit and --download: the test split a model runs on (evaluate, embed)."""
    p.add_argument("--dataset", required=True, help="the test split to use: cifar10, cifar100, "
                   "cifar100-coarse or builtin (see `datasets`)")
    p.add_argument("--data-dir", help="folder holding the dataset (default: the usual places)")
    p.add_argument("--limit", type=int, help=f"{verb} only the first N test images (at least 1)")
    p.add_argument("--download", action="store_true", help="download the dataset if it is missing")


def add_model_options(p: argparse.ArgumentParser) -> None:
    """How a saved model is opened and fed (what `_load_model` reads), and --json."""
    from workbench.core.images.fit import FIT_MODES

    p.add_argument("--fit", choices=FIT_MODES, default=None,
                   help="how images of another size or shape are fitted to the model's input: cut the "
                        "centre (crop), add black bars (pad) or stretch them (default: the rule the "
                        "model was trained with, else crop)")
    p.add_argument("--preprocessing", help="for foreign models: raw_0_255, scale_0_1, scale_-1_1, mean_std")
    p.add_argument("--labels", help="class names: a dataset id or a text file, one name per line")
    p.add_argument("--architecture", help="for weights-only files: one of our networks or a JSON file")
    p.add_argument("--trust", action="store_true", help="allow Lambda layers (runs code from the file)")
    p.add_argument("--json", action="store_true", help="print the result as one line of JSON")
