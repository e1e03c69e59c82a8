"""`gui` and `screenshots`: the window, and its panels rendered to PNG."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from workbench.cli.common import EXIT_FAILED, CliError


def cmd_gui(args: argparse.Namespace) -> int:
    from workbench.gui.display_check import display_problem

    problem = display_problem()  # before Qt, which would abort the process with its own text
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_FAILED
    try:
        from workbench.gui.app import main as gui_main
    except ImportError as exc:
        raise CliError(f"The graphical interface is not available ({exc}).") from None
    return int(gui_main([]) or 0)


def cmd_screenshots(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from workbench.gui.screenshots import dataset_problem, take_screenshots

    problem = dataset_problem(args.dataset, args.data_dir)
    if problem:  # refused before anything is written (no silent switch to another dataset)
        raise CliError(problem)
    if args.model:
        from workbench.gui.model_screenshots import take_model_screenshots

        if not Path(args.model).is_file():
            raise CliError(f"{args.model} is not a model file.")
        try:
            paths = take_model_screenshots(Path(args.out), args.model, args.dataset, args.data_dir)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    else:
        paths = take_screenshots(Path(args.out), dataset_id=args.dataset, data_dir=args.data_dir)
    for path in paths:
        print(path)
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("gui", help="open the workbench window (the default)")
    p.set_defaults(func=cmd_gui)

    p = sub.add_parser("screenshots", help="render the main window's panels to PNG files")
    p.add_argument("--out", required=True, help="folder for the PNG files (created if missing)")
    p.add_argument("--dataset", default="builtin",
                   help="dataset shown and trained on: an id or name from `datasets`, or the path of an image "
                        "folder or archive (then added through the window first: import, grid, skipped files)")
    p.add_argument("--data-dir", help="folder or archive holding the dataset (default: the Keras cache)")
    p.add_argument("--model", help="instead of training a small run: a trained model (.h5/.keras) shown in Evaluate "
                                   "with Grad-CAM and calibration, the layers view, the Map and Classify (a copy is used)")
    p.set_defaults(func=cmd_screenshots)
