"""`runs`: the runs table on the command line — list, sort, filter, export; tag, note, rename, delete, restore."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli.common import CliError, emit_json

MAX_CELL_CHARS = 40  # a terminal table cell; --json and the exports carry the full text


def _root(args: argparse.Namespace) -> Path:
    if args.root:
        return Path(args.root)
    from workbench.paths import default_runs_root

    return Path(default_runs_root())


def _run_dir(args: argparse.Namespace) -> Path:
    """RUN as a folder name under the runs root (a sweep's trial: SWEEP/trial-001), or a path to a run folder."""
    from workbench.core.training.rundir import CONFIG_FILE

    candidates = [_root(args) / args.run] + ([Path(args.run)] if "/" in args.run else [])
    for candidate in candidates:
        if args.run not in ("", ".", "..") and (candidate / CONFIG_FILE).is_file():
            return candidate
    raise CliError(f"There is no run {args.run!r} in {_root(args)}; give a folder name from `runs` "
                   "(or a path to a run folder, or --root DIR).")


def _table(args: argparse.Namespace):
    from workbench.core.runs import filters as run_filters
    from workbench.core.runs import table as run_table

    root = _root(args)
    if args.root and not root.is_dir():
        raise CliError(f"--root {root} is not a folder; give the folder that holds your runs.")
    table = run_table.load_table(root)
    known = run_table.all_columns(table)
    try:
        rows = run_filters.filter_rows(table.rows, args.filter or [], known)
    except run_filters.FilterError as exc:
        raise CliError(f"--filter: {exc}") from None
    if args.sort:
        if args.sort not in known:
            raise CliError(f"--sort {args.sort!r} is not a column; choose one of: {', '.join(known)}.")
        rows = run_filters.sort_rows(rows, args.sort, descending=args.desc)
    if args.columns:
        columns = [c.strip() for c in args.columns.split(",") if c.strip()]
        unknown = [c for c in columns if c not in known]
        if unknown or not columns:
            raise CliError(f"--columns names {', '.join(unknown) or 'nothing'}, which is not a column; "
                           f"choose from: {', '.join(known)}.")
    else:
        columns = run_table.default_columns(table)
    return table, rows, columns


def cmd_runs(args: argparse.Namespace) -> int:
    if args.action:
        return args.action_func(args)
    from workbench.core.runs import export as run_export
    from workbench.core.runs import table as run_table
    from workbench.core.atomic_write import write_text_atomic
    from workbench.core.text import sanitize

    if args.csv and args.markdown:
        raise CliError("Give either --csv or --markdown, not both.")
    table, rows, columns = _table(args)
    if args.csv or args.markdown:
        path = Path(args.csv or args.markdown)
        if not path.parent.is_dir():
            raise CliError(f"{path.parent} is not a folder; choose where to write the export.")
        text = run_export.to_csv(rows, columns) if args.csv else run_export.to_markdown(rows, columns)
        write_text_atomic(path, text)
        print(f"Wrote {len(rows)} runs to {path}.")
        return 0
    if args.json:
        emit_json({"root": str(_root(args)), "columns": columns, "diff": run_table.settings_diff(rows),
                   "notes": list(table.notes),
                   "runs": [{"run_dir": r.run_dir, **r.values, "notes": list(r.notes)} for r in rows]})
        return 0
    if not rows:
        print(f"No runs in {_root(args)}" + (" match the filters." if args.filter else "."))
        return 0
    cells = [[run_table.title(c) for c in columns]]
    cells += [[sanitize(run_export.cell_text(r, c), MAX_CELL_CHARS) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for row in cells:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    print(f"{len(rows)} of {len(table.rows)} runs in {_root(args)}.")
    for note in table.notes + tuple(n for r in rows for n in r.notes):
        print(f"note: {note}")
    return 0


def _labels(fn):
    def run(args: argparse.Namespace) -> int:
        from workbench.core.runs.meta import MetaError

        try:
            meta = fn(_run_dir(args), args)
        except MetaError as exc:
            raise CliError(str(exc)) from None
        if args.json:
            emit_json({"run": args.run, "name": meta.name, "tags": list(meta.tags), "note": meta.note})
        else:
            print(f"{args.run}: name {meta.name or '(folder name)'}; tags {' '.join(meta.tags) or '(none)'}.")
        return 0
    return run


def _tag(run_dir: Path, args: argparse.Namespace):
    from workbench.core.runs import meta as run_meta

    return run_meta.remove_tag(run_dir, args.tag) if args.remove else run_meta.add_tag(run_dir, args.tag)


def _note(run_dir: Path, args: argparse.Namespace):
    from workbench.core.runs import meta as run_meta

    return run_meta.set_note(run_dir, args.text)


def _rename(run_dir: Path, args: argparse.Namespace):
    from workbench.core.runs import meta as run_meta

    return run_meta.set_name(run_dir, args.name)


def _delete(args: argparse.Namespace) -> int:
    from workbench.core.runs.trash import TrashError, delete_run

    try:
        target = delete_run(_run_dir(args))
    except TrashError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json({"run": args.run, "trashed": str(target)})
    else:
        print(f"Moved {args.run} to {target}; `runs restore {args.run}` brings it back.")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from workbench.core.runs.trash import TrashError, find_trashed, restore_run

    # A sweep's trial was trashed inside its sweep folder: SWEEP/trial-001 looks in SWEEP/.trash.
    sweep, _, name = args.run.rpartition("/")
    if sweep.startswith("/") or ".." in Path(sweep).parts:
        raise CliError(f"runs restore {args.run!r}: give a name from `runs trash` or SWEEP/trial-NNN, "
                       "not a path outside the runs folder.")
    try:
        target = restore_run(find_trashed(_root(args) / sweep, name))
    except TrashError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json({"run": args.run, "restored": str(target)})
    else:
        print(f"Restored {args.run} as {target}.")
    return 0


def _trash(args: argparse.Namespace) -> int:
    from workbench.core.runs.trash import list_trash

    entries = list_trash(_root(args))
    if args.json:
        emit_json(entries)
        return 0
    for e in entries:
        print(f"{Path(e['path']).name}  (from {e['original']})")
    print(f"{len(entries)} deleted runs in {_root(args) / '.trash'}.")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", help="the runs table: list, sort, filter, export, label, delete and restore runs",
                       description="One row per run with its settings and results. Without --columns the "
                                   "table shows the settings that differ between the listed runs.")
    p.add_argument("--root", metavar="DIR", help="folder holding the run folders (default: the workbench runs folder)")
    p.add_argument("--sort", metavar="FIELD", help="sort by this column (e.g. test_top1, arch, started)")
    p.add_argument("--desc", action="store_true", help="sort from largest to smallest")
    p.add_argument("--filter", action="append", metavar="EXPR",
                   help="keep runs matching EXPR: FIELD=VALUE, FIELD!=VALUE, FIELD>NUMBER (also <, >=, <=), "
                        "FIELD~TEXT, or plain text; repeat to combine (sweep=NAME lists one sweep's trials)")
    p.add_argument("--columns", metavar="A,B", help="comma-separated columns to show (default: name, dataset, "
                                                   "arch, the differing settings, main results)")
    p.add_argument("--json", action="store_true", help="print strict JSON with every field of every run")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--csv", metavar="FILE", help="write the listed runs to a CSV file instead of printing")
    out.add_argument("--markdown", metavar="FILE", help="write the listed runs as a Markdown table instead of printing")
    p.set_defaults(func=cmd_runs, action=None)
    actions = p.add_subparsers(dest="action", metavar="[ACTION]")  # optional: none lists the table

    def action(name: str, helptext: str, func) -> argparse.ArgumentParser:
        a = actions.add_parser(name, help=helptext, description=helptext)
        a.add_argument("--root", metavar="DIR", default=argparse.SUPPRESS,
                       help="folder holding the run folders (default: the workbench runs folder)")
        a.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print strict JSON")
        a.set_defaults(action_func=func)
        return a

    t = action("tag", "add a tag to a run (or remove it with --remove)", _labels(_tag))
    t.add_argument("run", metavar="RUN", help="run folder name, SWEEP/trial-NNN for a sweep's trial, or a path")
    t.add_argument("tag", metavar="TAG", help="one word: letters, digits, . : + - _")
    t.add_argument("--remove", action="store_true", help="remove the tag instead of adding it")
    n = action("note", "set a run's note (an empty TEXT clears it)", _labels(_note))
    n.add_argument("run", metavar="RUN", help="run folder name (or path)")
    n.add_argument("text", metavar="TEXT", help="the note")
    r = action("rename", "set a run's display name (the folder keeps its name; empty NAME clears it)",
               _labels(_rename))
    r.add_argument("run", metavar="RUN", help="run folder name (or path)")
    r.add_argument("name", metavar="NAME", help="the display name")
    d = action("delete", "move a run to the trash folder under the runs root (undo with `runs restore`)", _delete)
    d.add_argument("run", metavar="RUN", help="run folder name (or path)")
    s = action("restore", "bring a deleted run back from the trash", _restore)
    s.add_argument("run", metavar="RUN", help="the run's old folder name (the newest deletion; SWEEP/trial-NNN for a sweep's trial) or its trash name")
    action("trash", "list the deleted runs", _trash)
