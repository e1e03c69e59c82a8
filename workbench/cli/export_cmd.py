"""`export MODEL --format savedmodel|litert|onnx --out PATH`: the model for use elsewhere, taking raw 0–255
pixels and returning probabilities, checked in its own runtime against Keras before it is placed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli.common import EXIT_FAILED, CliError, emit_json
from workbench.core.text import sanitize

CHECK_IMAGES = 200


def _open(args: argparse.Namespace):
    """(LoadedModel, check images, check labels) with the model opened the way evaluate opens it."""
    from workbench.cli.model_cmds import _check_model_path, _load_model, load_test_split, open_model_on_dataset

    if args.dataset is None:
        _check_model_path(args.model)
        return _load_model(args), None, None
    args.limit = args.limit or CHECK_IMAGES
    args.no_temperature = False
    loaded, _info = open_model_on_dataset(args, verb="check the export on")
    images, labels, _names = load_test_split(args)
    return loaded, images, labels


def _calibration_images(args: argparse.Namespace, loaded):
    if not args.calibration_dataset:
        return None
    import numpy as np

    from workbench.core.datasets import DatasetError, get_info, load_dataset
    from workbench.core.export.sources import CALIBRATION_IMAGES

    try:
        info = get_info(args.calibration_dataset)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    if info.num_classes != loaded.num_classes:
        raise CliError(f"--calibration-dataset {sanitize(args.calibration_dataset, 80)} has {info.num_classes} "
                       f"classes but the model has {loaded.num_classes}.")
    data = load_dataset(args.calibration_dataset, args.data_dir, download=args.download)
    idx = np.linspace(0, len(data.x_train) - 1, min(CALIBRATION_IMAGES, len(data.x_train))).astype(int)
    return np.asarray(data.x_train[idx])


def cmd_export(args: argparse.Namespace) -> int:
    from workbench.core.export import ExportError, check_request, export_model

    if args.quantize != "int8" and args.calibration_dataset:
        raise CliError("--calibration-dataset is for --quantize int8 only.")
    try:
        check_request(args.format, args.out, args.quantize)  # before the (slow) model load
    except ExportError as exc:
        raise CliError(str(exc)) from None
    loaded, images, labels = _open(args)
    source = f"the first {len(images)} test images of {sanitize(args.dataset, 80)}" if images is not None else None
    calibration = _calibration_images(args, loaded)
    say = (lambda _text: None) if args.json else (lambda text: print(sanitize(text, 300), flush=True))
    try:
        report = export_model(loaded, args.format, args.out, quantize=args.quantize, calibration_images=calibration,
                              check_images=images, check_labels=labels, check_source=source,
                              data_dir=args.data_dir, progress=say)
    except ExportError as exc:
        print(f"error: {sanitize(exc, 600)}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        emit_json(report.to_dict())
        return 0
    for note in report.notes:
        print(f"note: {sanitize(note, 600)}")
    check = report.check
    print(f"wrote {sanitize(report.path)} ({report.size_bytes / 1e6:.1f} MB, {report.seconds:.1f} s) and its model card "
          f"{sanitize(Path(report.card_md).name)}")
    if check is None:
        print(f"not checked: {sanitize(report.check_source, 300)}; pass --dataset to check it.")
        return 0
    line = (f"check on {sanitize(report.check_source, 200)}: agreement with Keras {100 * check.agreement:.1f} %, "
            f"max |Δp| {check.max_abs_diff:.2g}, {check.latency_ms:.2f} ms per image (Keras {check.keras_latency_ms:.2f} ms)")
    if report.top1_drop is not None:
        line += f", top-1 {100 * check.top1:.1f} % (Keras {100 * check.keras_top1:.1f} %, drop {100 * report.top1_drop:.1f} pt)"
    print(line)
    return 0


def add_parsers(sub) -> None:
    from workbench.cli.model_cmds import add_model_options
    from workbench.core.export import FORMATS, QUANTIZE

    helptext = "export a model to SavedModel, LiteRT or ONNX, taking raw pixels and returning probabilities"
    p = sub.add_parser("export", help=helptext, description=helptext + "; the export is checked in its own "
                       "runtime against Keras and a model card (MODEL.md, model.json) is written with it.")
    p.add_argument("model", help="the saved model: .h5 or .keras (weights-only files need --architecture)")
    p.add_argument("--format", required=True, choices=FORMATS, help="savedmodel (a folder), litert (.tflite) or onnx (.onnx)")
    p.add_argument("--out", required=True, help="where to write it (must not exist yet)")
    p.add_argument("--quantize", choices=QUANTIZE, default="none", help="LiteRT only: float16 or int8 weights")
    p.add_argument("--calibration-dataset", help="int8: the dataset whose training images calibrate it "
                   "(default: the model's own dataset)")
    p.add_argument("--dataset", help="check on this dataset's test images (default: the model's own dataset, if here)")
    p.add_argument("--data-dir", help="folder holding the dataset (default: the usual places)")
    p.add_argument("--limit", type=int, help=f"check on the first N test images (default {CHECK_IMAGES})")
    p.add_argument("--download", action="store_true", help="download the dataset if it is missing")
    add_model_options(p)
    p.set_defaults(func=cmd_export)
