"""`archs`: the networks with their parameter counts and options."""

from __future__ import annotations

import argparse

from workbench.cli.common import CliError, emit_json


def cmd_archs(args: argparse.Namespace) -> int:
    from workbench.core.architectures import ARCHITECTURES, count_params, input_problem, parse_input_shape, shape_text

    if args.classes < 2:
        raise CliError(f"--classes must be at least 2 (got {args.classes}).")
    try:
        shape = parse_input_shape(args.input_shape)
    except ValueError as exc:
        raise CliError(f"--input-shape: {exc}") from None
    rows = []
    for spec in ARCHITECTURES.values():
        refused = input_problem(spec.name, shape)
        rows.append(
            {"name": spec.name, "title": spec.title, "input_shape": list(shape),
             "params": None if refused else count_params(spec.name, args.classes, input_shape=shape),
             "refused": refused, "description": spec.description, "options": dict(spec.options),
             "ranges": {k: list(v) for k, v in spec.ranges.items()}}
        )
    if args.json:
        emit_json(rows)
        return 0
    print(f"Parameters for {shape_text(shape)} images and {args.classes} classes:")
    for row in rows:
        count = "—" if row["refused"] else f"{row['params']:,}"
        print(f"{row['name']:<18} {count:>11}  {row['title']}")
        if row["refused"]:
            print(" " * 32 + row["refused"])
        elif row["options"]:
            print(" " * 32 + "options: " + ", ".join(f"{k}={v:g}" for k, v in row["options"].items()))
    print("Change an option with `train --option NAME=VALUE` (repeatable).")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("archs", help="list network architectures with parameter counts")
    p.add_argument("--classes", type=int, default=10, help="number of classes the networks are counted for")
    p.add_argument("--input-shape", default="32x32x3", metavar="HxWxC",
                   help="image height x width x channels the networks are built for, e.g. 28x28x1; "
                        "networks that cannot take it say why instead of a count")
    p.add_argument("--json", action="store_true",
                   help="print one JSON list: per network its input_shape, params (null when refused), "
                        "refused (the reason or null), options and their ranges")
    p.set_defaults(func=cmd_archs)
