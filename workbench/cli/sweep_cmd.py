"""`sweep`: many `train` runs over a grid or random draws of settings, in one sweep folder, ranked at the end."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workbench.cli import train_cmd
from workbench.cli.common import EXIT_FAILED, CliError, emit_json
from workbench.cli.config_args import RUN_OPTIONS, arch_options, checked_minutes, given_options
from workbench.core.text import sanitize

def _pct(value: Any) -> str:
    return f"{100 * value:5.1f}%" if isinstance(value, (int, float)) else "   -  "


def _settings_text(settings: dict[str, Any]) -> str:
    from workbench.core.sweeps.runner import describe

    return " ".join(f"{k}={describe(v)}" for k, v in settings.items())


def _trial_line(trial: dict[str, Any]) -> str:
    extra = f" at epoch {trial['pruned_at_epoch']} (ASHA)" if trial.get("status") == "pruned" else ""
    message = f": {sanitize(trial['message'], 300)}" if trial.get("status") == "failed" and trial.get("message") else ""
    return (f"{trial['id']}  {_settings_text(trial['settings'])}  best val top-1 {_pct(trial.get('best_val_top1'))}"
            f"  test top-1 {_pct(trial.get('test_top1'))}  {trial.get('epochs', 0)} epoch(s)"
            f"  {trial.get('seconds', 0):.1f}s  {trial['status']}{extra}{message}")


def _base_config(args: argparse.Namespace) -> Any:
    from workbench.core.training import TrainConfig

    if args.dataset is None or args.arch is None:
        raise CliError("A sweep needs --dataset and --arch.")
    checked_minutes(args.minutes, "--minutes")
    return TrainConfig(**given_options(args), arch_options=arch_options(args.arch, args.option), runs_root=None)


def cmd_sweep(args: argparse.Namespace) -> int:
    try:
        return _sweep(args)
    finally:
        if args.ray is not None and "workbench.core.sweeps.ray_backend" in sys.modules:
            from workbench.core.sweeps.ray_backend import disconnect

            disconnect()  # also after a refusal that came once connected: no instance or temp folder left


def _sweep(args: argparse.Namespace) -> int:
    from workbench.core.sweeps.runner import new_sweep, run_sweep
    from workbench.core.sweeps.spec import make_spec
    from workbench.core.training.inputs import input_problem_for
    from workbench.paths import default_runs_root

    checked_minutes(args.sweep_minutes, "--sweep-minutes")
    if args.workers is not None and args.workers < 1:
        raise CliError(f"--workers must be at least 1 (got {args.workers}).")
    if args.workers is not None and args.ray is not None:
        raise CliError("--workers is for local worker processes; with --ray the Ray instance decides where trials run.")
    try:
        base = _base_config(args)
        problem = input_problem_for(base)
        if problem:
            raise CliError(problem)
        spec, configs = make_spec(base, args.grid or [], args.random or [], trials=args.trials, seed=args.sweep_seed,
                                  minutes=args.sweep_minutes)
        asha = {"eta": args.asha_eta, "min_epochs": args.asha_min_epochs} if args.asha else None
        if args.ray is not None:
            from workbench.core.sweeps.ray_backend import ray_problem

            if ray_problem():
                raise CliError(ray_problem())
            from workbench.core.sweeps.ray_backend import connect

            try:
                connect(args.ray)  # an unreachable cluster is refused before the sweep folder is made
            except ConnectionError as exc:
                raise CliError(str(exc)) from None
        backend = f"ray {args.ray}" if args.ray is not None else "local"
        folder, data, configs = new_sweep(spec, configs, args.runs_root or default_runs_root(), args.name, asha,
                                          backend)
    except ValueError as exc:  # SweepSpecError, SweepFolderError and TrainConfig's own sentences
        raise CliError(str(exc)) from None
    log = sys.stderr if args.json else sys.stdout
    print(f"sweep {folder.name}: {len(configs)} trial(s) on {backend}"
          + (f", ASHA eta {args.asha_eta} from epoch {args.asha_min_epochs}" if asha else "")
          + f"; folder {sanitize(str(folder), 1000)}", file=log, flush=True)
    ranked = run_sweep(folder, data, configs, on_trial=lambda t: print(_trial_line(t), file=log, flush=True),
                       ray_address=args.ray, workers=args.workers)
    print("\nrank  trial      best val  test top-1  epochs  status     settings", file=log)
    for place, trial in enumerate(ranked, 1):
        print(f"{place:>4}  {trial['id']:<9}  {_pct(trial.get('best_val_top1'))}    {_pct(trial.get('test_top1'))}"
              f"  {trial.get('epochs', 0):>6}  {trial['status']:<9}  {_settings_text(trial['settings'])}", file=log)
    if args.json:
        emit_json({"sweep_dir": str(folder), "name": folder.name, "backend": backend, "trials": ranked})
    return EXIT_FAILED if all(t["status"] in ("failed", "skipped") for t in ranked) else 0


def add_parsers(sub) -> None:
    from workbench.core.sweeps.spec import MAX_TRIALS

    train_parser = argparse.ArgumentParser(add_help=False)
    train_cmd.add_parsers(train_parser.add_subparsers())
    train_options = next(a for a in train_parser._actions if isinstance(a, argparse._SubParsersAction)).choices["train"]
    p = sub.add_parser(
        "sweep", help="train many runs over a grid or random settings, ranked; optional ASHA early stopping and Ray",
        description="Run one training per combination of --grid values, or per random draw of --random ranges "
                    "(--trials N), with every other train option fixed alongside. Trials land in one sweep folder "
                    f"(sweep.json + trial-001, ...) under the runs root; at most {MAX_TRIALS} trials. Names are "
                    "train settings (lr, batch-size, epochs, optimizer, ...) or option.NAME for an architecture option.",
    )
    # The same run options as `train`, with the same help: one place defines them.
    for action in train_options._actions:
        if action.dest in RUN_OPTIONS or action.dest == "option":
            p._add_action(action)
    p.add_argument("--grid", action="append", metavar="NAME=V1,V2", help="a setting and the values to try (repeatable)")
    p.add_argument("--random", action="append", metavar="NAME=LO:HI[:log]",
                   help="a number setting drawn uniformly from LO..HI (or evenly in log space with :log); repeatable")
    p.add_argument("--trials", type=int, metavar="N", help="random draws (per grid combination); needed with --random")
    p.add_argument("--sweep-seed", type=int, default=0, help="seed of the random draws (the runs keep --seed)")
    p.add_argument("--sweep-minutes", type=float, metavar="M",
                   help="the sweep's time budget: no new trial starts after this many minutes (--minutes is each run's own)")
    p.add_argument("--asha", action="store_true",
                   help="stop weak trials early (asynchronous successive halving, by validation top-1)")
    p.add_argument("--asha-eta", type=int, default=3, metavar="ETA",
                   help="ASHA keeps the top 1/ETA of trials at each rung")
    p.add_argument("--asha-min-epochs", type=int, default=1, metavar="EPOCHS",
                   help="epochs before the first ASHA rung; rungs follow at EPOCHS x ETA, x ETA^2, ...")
    p.add_argument("--ray", metavar="ADDRESS", help="run trials as Ray Tune trials on the Ray instance at ADDRESS "
                   "(host:port), or 'local' to start one here; needs the 'cluster' extra (pip install "
                   "'cifar-workbench[cluster]')")
    p.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: one per GPU, or one)")
    p.add_argument("--name", help="sweep folder name under the runs root (default: sweep-<date>-<time>)")
    p.add_argument("--runs-root", metavar="FOLDER", help="parent folder of the sweep folder (default: the runs root)")
    p.add_argument("--json", action="store_true", help="last stdout line: one JSON object with the ranked trials")
    p.set_defaults(func=cmd_sweep)
