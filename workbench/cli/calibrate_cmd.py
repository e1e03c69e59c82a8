"""`calibrate MODEL --dataset ID`: fit a temperature on images the model did not train on, report the
calibration error before and after on held-out images, and store the temperature in the model file
(atomically) so classify and evaluate use it. Refused with one sentence, writing nothing, when the file
is read-only or the temperature would not lower the held-out error."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli.common import CliError, emit_json
from workbench.core.text import sanitize


def cmd_calibrate(args: argparse.Namespace) -> int:
    from workbench.cli.model_cmds import _check_model_path, _load_model
    from workbench.cli.progress import Progress
    from workbench.core.calibrate_model import calibrate_model
    from workbench.core.datasets import DatasetError, get_info

    _check_model_path(args.model)
    try:
        info = get_info(args.dataset)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    loaded = _load_model(args)
    if loaded.num_classes != info.num_classes:
        raise CliError(f"{sanitize(Path(args.model).name)} has {loaded.num_classes} outputs but {args.dataset} "
                       f"has {info.num_classes} classes; pick a --dataset with {loaded.num_classes} classes.")
    previous = loaded.calibration
    with Progress("predicting", None, unit="images") as bar:
        outcome = calibrate_model(loaded, args.dataset, args.data_dir, store=True,
                                  progress=lambda done, total: bar.update(done))
    record = outcome.record
    if args.json:
        emit_json({"temperature": record.value, "fitted_on": record.split, "fit_images": record.images,
                   "held_out": outcome.held_split, "held_out_images": outcome.before.n,
                   "ece_before": outcome.before.ece, "ece_after": outcome.after.ece,
                   "nll_before": outcome.fit.nll_before, "nll_after": outcome.fit.nll_after,
                   "reliability_before": outcome.before.as_json(), "reliability_after": outcome.after.as_json(),
                   "note": outcome.note or None, "stored_in": str(outcome.stored),
                   "replaced_temperature": previous.value if previous is not None else None})
        return 0
    if outcome.note:
        print(f"note: {sanitize(outcome.note, 600)}")
    print(f"{sanitize(Path(args.model).name)}: {sanitize(outcome.summary(), 600)}.")
    if outcome.fit.at_bound:
        print("note: the best temperature lies at the end of the search range; the model's confidence "
              "barely depends on its input.")
    replaced = f" (replacing {previous.value:.3f})" if previous is not None else ""
    print(f"stored temperature {record.value:.3f} in {sanitize(str(outcome.stored))}{replaced}; "
          "classify and evaluate now use it (evaluate --no-temperature shows the raw confidence).")
    return 0


def add_parsers(sub) -> None:
    helptext = "fit a temperature so the model's confidence matches its accuracy, and store it in the file"
    p = sub.add_parser("calibrate", help=helptext, description=helptext + ". It is fitted on the model's "
                       "training run's validation split where that can be rebuilt, else on half of the test "
                       "split; the calibration error (ECE) is reported on images it was not fitted on.")
    p.add_argument("model", help="the saved model: .h5 or .keras (it is rewritten atomically with the temperature)")
    p.add_argument("--dataset", required=True, help="the dataset the model classifies (see `datasets`)")
    p.add_argument("--data-dir", help="folder holding the dataset (default: the run's own, else the usual places)")
    p.add_argument("--preprocessing", help="for foreign models: raw_0_255, scale_0_1, scale_-1_1, mean_std")
    p.add_argument("--labels", help="class names: a dataset id or a text file, one name per line")
    p.add_argument("--architecture", help="for weights-only files: one of our networks or a JSON file")
    p.add_argument("--trust", action="store_true", help="allow Lambda layers (runs code from the file)")
    p.add_argument("--json", action="store_true", help="print the result as one line of JSON")
    p.set_defaults(func=cmd_calibrate)
