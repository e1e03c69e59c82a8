"""`archs`: the networks with their parameter counts and options."""

from __future__ import annotations

import argparse
from typing import Any

from workbench.cli.common import CliError, emit_json


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
        emit_json(rows)
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


def add_parsers(sub) -> None:
    p = sub.add_parser("archs", help="list network architectures with parameter counts")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_archs)
