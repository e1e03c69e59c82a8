"""`queue`: add runs, list, run them one after another, reorder, remove, clear; and the report's table.

``queue run`` works the queue off until it is empty; Ctrl+C stops after the current batch and the
interrupted run resumes from its checkpoint the next time. ``queue report`` queues the course report's
six runs, ``queue report-table`` shows the report's table with our figures beside its own.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from workbench.cli.common import EXIT_FAILED, CliError, emit_json
from workbench.core.text import sanitize

MAX_CELL_CHARS = 60  # a run folder or message cut to this in the text listing (--json has it whole)


def _queue() -> Any:
    from workbench.core.runs.queue import RunQueue

    return RunQueue()


def _state() -> Any:
    from workbench.core.runs.queue import QueueError

    try:
        return _queue().state()
    except QueueError as exc:
        raise CliError(str(exc)) from None


def _edit(fn: Any) -> Any:
    from workbench.core.runs.queue import QueueError

    try:
        return fn()
    except QueueError as exc:
        raise CliError(str(exc)) from None


def cmd_add(args: argparse.Namespace) -> int:
    from workbench.cli.config_args import new_config, resume_config
    from workbench.core.datasets import DatasetError
    from workbench.core.training.errors import TrainingError
    from workbench.core.training.inputs import input_problem_for
    from workbench.core.training.session import check_run_folder

    try:
        config = resume_config(args) if args.resume is not None else new_config(args)
        problem = input_problem_for(config)
        if problem:
            raise CliError(problem)
        check_run_folder(config)  # refused now, not hours later when the queue reaches it
    except (ValueError, TrainingError, DatasetError) as exc:
        raise CliError(str(exc)) from None
    item = _edit(lambda: _queue().add(config, label=args.label or ""))
    if args.json:
        emit_json(item.to_dict())
    else:
        print(f"queued {item.id}: {sanitize(config.arch)} on {sanitize(config.dataset)}, {config.epochs} epoch(s)")
    return 0


def _row(position: int, item: Any) -> str:
    c = item.config
    what = f"{c.arch} on {c.dataset}, {c.epochs} ep" + (" (resume)" if c.resume else "")
    where = item.message or item.run_dir or ""
    if item.status in ("running", "stopped") and item.run_dir:
        from workbench.core.training.rundir import read_history

        what += f", {len(read_history(item.run_dir))}/{c.epochs} done"  # a running item's progress
    return f"{position:>3}  {item.id}  {item.status:<8} {sanitize(what, MAX_CELL_CHARS):<40} " \
           f"{sanitize(where, MAX_CELL_CHARS)}"


def cmd_list(args: argparse.Namespace) -> int:
    state = _state()
    if args.json:
        emit_json({"paused": state.paused, "items": [i.to_dict() for i in state.items]})
        return 0
    if not state.items:
        print("the queue is empty; add runs with `workbench queue add --dataset … --arch …`")
        return 0
    print("  #  id        status   run" + (" (queue paused)" if state.paused else ""))
    for n, item in enumerate(state.items, 1):
        print(_row(n, item))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from workbench.cli.train_report import TrainReporter
    from workbench.core.runs.queue import QueueError
    from workbench.core.runs.queue_runner import QueueRunner

    stop = threading.Event()
    log = sys.stderr if args.json else sys.stdout
    report = TrainReporter(log)
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: Any) -> None:
        if stop.is_set():
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        stop.set()
        report.close_bar()
        print("\nstopping after the current batch; the run resumes at the next `queue run` "
              "(Ctrl+C again to abort)…", file=sys.stderr, flush=True)

    def on_item(item: Any) -> None:
        report.close_bar()
        text = f"[queue] {item.id} {item.status}: {item.config.arch} on {item.config.dataset}"
        if item.message:
            text += f" — {item.message}"
        print(sanitize(text, 2000), file=log, flush=True)

    if args.resume_paused:
        _edit(lambda: _queue().set_paused(False))
    runner = QueueRunner(_queue(), on_event=report, on_item=on_item, stop=stop)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, on_sigint)
    try:
        ran = runner.run()
    except QueueError as exc:
        raise CliError(str(exc)) from None
    finally:
        report.close_bar()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous)
    state = _state()
    left = sum(1 for i in state.items if i.status in ("queued", "running", "stopped"))
    if not ran and state.paused and left:
        print("the queue is paused; `workbench queue run --resume` runs it again", file=log)
    elif not ran:
        print("the queue is empty: nothing to run", file=log)
    if args.json:
        emit_json({"ran": [i.to_dict() for i in ran], "left": left, "paused": state.paused})
    return EXIT_FAILED if any(i.status == "failed" for i in ran) else 0


def cmd_remove(args: argparse.Namespace) -> int:
    _edit(lambda: _queue().remove(args.id))
    print(f"removed {args.id}")
    return 0


def cmd_move(args: argparse.Namespace) -> int:
    if args.position < 1:
        raise CliError(f"POS counts from 1 (got {args.position}).")
    state = _edit(lambda: _queue().move(args.id, args.position))
    where = next(n for n, i in enumerate(state.items, 1) if i.id == args.id)
    print(f"moved {args.id} to position {where}")
    return 0


def cmd_clear(args: argparse.Namespace) -> int:
    queue = _queue()
    state = _edit(lambda: queue.clear(finished_only=args.finished))
    kept = f"; {len(state.items)} item(s) kept" if state.items else ""
    aside = f"; the unreadable queue file was kept as {queue.set_aside}" if queue.set_aside else ""
    print(("cleared the finished items" if args.finished else "cleared the queue") + kept + aside)
    return 0


def cmd_pause(args: argparse.Namespace) -> int:
    _edit(lambda: _queue().set_paused(not args.undo))
    print("the queue is paused: it stops after the current run" if not args.undo else "the queue is no longer paused")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from workbench.core.runs.report_table import report_runs

    extra = {"data_dir": args.data_dir} if args.data_dir else {}
    entries = [(spec.config(**extra), spec.label) for spec in report_runs(args.dataset)]
    items = _edit(lambda: _queue().add_many(entries))
    for item in items:
        print(f"queued {item.id}: {item.label} ({item.config.arch}, {item.config.epochs} epochs, "
              f"batch {item.config.batch_size}, {item.config.optimizer})")
    print("run them with `workbench queue run`; `workbench queue report-table` shows the table")
    return 0


def cmd_report_table(args: argparse.Namespace) -> int:
    from workbench.core.runs.report_table import COLUMNS, report_table, table_markdown

    rows = report_table(dataset=args.dataset)
    if args.json:
        emit_json([r.to_json() for r in rows])
    elif args.markdown:
        print(table_markdown(rows))
    else:
        cells = [r.cells() for r in rows]
        widths = {k: max(len(h), *(len(c[k]) for c in cells)) for k, h in COLUMNS}
        print("  ".join(h.ljust(widths[k]) for k, h in COLUMNS))
        for c in cells:
            print("  ".join(c[k].ljust(widths[k]) for k, _ in COLUMNS))
        print("Report = the course report's own figure; — = no finished run yet (or no figure in the report); "
              "a figure only from a run on the whole training set.")
    return 0


def _train_parser() -> argparse.ArgumentParser:
    """`train`'s own parser, so that `queue add` takes exactly the same options."""
    from workbench.cli import train_cmd

    holder = argparse.ArgumentParser(add_help=False).add_subparsers()
    train_cmd.add_parsers(holder)
    return holder.choices["train"]


def add_parsers(sub) -> None:
    q = sub.add_parser("queue", help="a queue of runs trained one after another; the report's table",
                       description="Queue runs and train them one after another (the queue is kept in "
                                   "~/.cifar_workbench/queue.json and survives a crash: the interrupted run "
                                   "resumes). `queue report` queues the course report's runs.")
    qs = q.add_subparsers(dest="queue_command", metavar="ACTION", required=True)

    add = qs.add_parser("add", parents=[_train_parser()], conflict_handler="resolve",
                        help="queue a run; takes every `train` option",
                        description="Queue a run with the same options as `train` (a new run needs --dataset "
                                    "and --arch; --resume RUN_DIR queues the continuation of a run).")
    add.add_argument("--label", help="a name shown in the queue (default: none)")
    add.add_argument("--json", action="store_true", help="print the queued item as one JSON object")
    add.set_defaults(func=cmd_add)

    ls = qs.add_parser("list", help="the queued runs in order, with their status")
    ls.add_argument("--json", action="store_true", help="one JSON object with every item")
    ls.set_defaults(func=cmd_list)

    run = qs.add_parser("run", help="train the queued runs one after another until the queue is empty",
                        description="Train the queue's runs in order. A failed run does not stop the queue. "
                                    "Ctrl+C stops after the current batch; that run resumes next time.")
    run.add_argument("--resume", dest="resume_paused", action="store_true", help="unpause a paused queue first")
    run.add_argument("--json", action="store_true", help="last stdout line: one JSON object")
    run.set_defaults(func=cmd_run)

    rm = qs.add_parser("remove", help="remove one item (by the id `queue list` shows)")
    rm.add_argument("id", metavar="ID", help="the item's id")
    rm.set_defaults(func=cmd_remove)

    mv = qs.add_parser("move", help="move an item to another position (1 = next to run)")
    mv.add_argument("id", metavar="ID", help="the item's id")
    mv.add_argument("position", metavar="POS", type=int, help="its new position, counting from 1")
    mv.set_defaults(func=cmd_move)

    cl = qs.add_parser("clear", help="empty the queue (a run in progress stays)")
    cl.add_argument("--finished", action="store_true", help="remove only done and failed items")
    cl.set_defaults(func=cmd_clear)

    pa = qs.add_parser("pause", help="stop the queue after the current run (--undo unpauses)")
    pa.add_argument("--undo", action="store_true", help="unpause instead")
    pa.set_defaults(func=cmd_pause)

    rep = qs.add_parser("report", help="queue the course report's networks with the report's settings",
                        description="Queue the report's runs: on CIFAR-10 toy_resnet, embedded_cnn and all_conv; "
                                    "on CIFAR-100 all_conv, toy_resnet_deep and simple_cnn; Adam, batch 256, "
                                    "30 epochs, validation split 0.2.")
    rep.add_argument("--dataset", choices=("cifar10", "cifar100", "both"), default="both",
                     help="which half of the report to queue")
    rep.add_argument("--data-dir", help="folder holding the dataset files (default: the usual places)")
    rep.set_defaults(func=cmd_report)

    tab = qs.add_parser("report-table", help="the report's table: our finished runs beside the report's figures")
    tab.add_argument("--dataset", choices=("cifar10", "cifar100", "both"), default="both", help="which rows")
    fmt = tab.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON array, one object per row")
    fmt.add_argument("--markdown", action="store_true", help="a Markdown table")
    tab.set_defaults(func=cmd_report_table)
