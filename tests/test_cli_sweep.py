"""`sweep` on the command line: a grid and a random sweep on the built-in set (local worker processes), results
in the sweep folder and ranked; ASHA stopping the weaker trial; refusals that write nothing (exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ("--dataset", "builtin", "--arch", "simple_cnn", "--batch-size", "64", "--limit", "192", "--test-limit", "64")


def run_cli(*args, timeout=300):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def check_sweep_folder(folder: Path, out: dict) -> list[dict]:
    stored = json.loads((folder / "sweep.json").read_text())
    assert stored["kind"] == "sweep" and stored["name"] == folder.name
    assert sorted(p.name for p in folder.iterdir()) == ["sweep.json", "trial-001", "trial-002"]
    for trial in stored["trials"]:
        run = folder / trial["run_dir"]
        assert (run / "config.json").is_file() and (run / "history.csv").is_file() and (run / "model.h5").is_file()
        config = json.loads((run / "config.json").read_text())
        flat = {**config.get("config", config), **config.get("config", config).get("arch_options", {})}
        for name, value in trial["settings"].items():  # the run was trained with the trial's settings
            assert flat.get(name.removeprefix("option.")) == value, (name, flat)
    ranked = out["trials"]
    scores = [t["best_val_top1"] for t in ranked]
    assert scores == sorted(scores, reverse=True) and all(s is not None for s in scores)
    assert {t["id"] for t in ranked} == {t["id"] for t in stored["trials"]}
    return ranked


def test_grid_sweep_runs_every_combination_ranked(tmp_path):
    proc = run_cli("sweep", *TINY, "--epochs", "1", "--grid", "lr=0.001,0.01", "--runs-root", tmp_path,
                   "--name", "grid", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranked = check_sweep_folder(tmp_path / "grid", json.loads(proc.stdout.splitlines()[-1]))
    assert sorted(t["settings"]["learning_rate"] for t in ranked) == [0.001, 0.01]
    assert all(t["status"] == "finished" and t["epochs"] == 1 and t["test_top1"] is not None for t in ranked)
    lines = proc.stderr.splitlines()  # --json: the text goes to stderr
    assert sum(line.startswith("trial-00") for line in lines) == 2  # one line per finished trial
    assert any(line.strip().startswith("rank") for line in lines)


def test_random_sweep_with_asha_stops_the_weaker_trial_at_the_rung(tmp_path):
    proc = run_cli("sweep", *TINY, "--epochs", "2", "--random", "lr=1e-5:1e-2:log", "--trials", "2",
                   "--sweep-seed", "15", "--asha", "--asha-eta", "2", "--asha-min-epochs", "1",
                   "--runs-root", tmp_path, "--name", "rand", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranked = check_sweep_folder(tmp_path / "rand", json.loads(proc.stdout.splitlines()[-1]))
    # One CPU worker: trial-001 (lr 0.0079) reaches the rung first; seed 15 draws a tiny lr (1e-5) for trial-002.
    first, second = sorted(ranked, key=lambda t: t["id"])
    assert all(1e-5 <= t["settings"]["learning_rate"] <= 1e-2 for t in ranked)
    assert first["status"] == "finished" and first["epochs"] == 2  # alone at the rung: it goes on
    history = [(Path(tmp_path / "rand" / t["run_dir"] / "history.csv").read_text().splitlines()) for t in (first, second)]
    at_rung = [float(h[1].split(",")[5]) for h in history]  # val_top1 after epoch 1
    if at_rung[1] > at_rung[0]:
        assert second["status"] == "finished"
    else:  # below the top 1/2 at rung 1: stopped there, its model kept
        assert second["status"] == "pruned" and second["pruned_at_epoch"] == 1 and second["epochs"] < 2
        assert "(ASHA)" in proc.stderr


@pytest.mark.parametrize("args, words", [
    (("--grid", "lr=0,0.1"), "--grid learning_rate=0.0: Learning rate must be positive (got 0.0)."),
    (("--grid", "colour=red"), "'colour' is not a setting a sweep can vary"),
    (("--random", "lr=1e-3:1e-1"), "A random sweep needs --trials N"),
    (("--grid", "lr=0.1", "--name", "../x"), "--name '../x' must be a plain folder name"),
    (("--grid", "lr=0.1", "--asha", "--asha-eta", "1"), "--asha-eta of at least 2"),
    (("--grid", "lr=0.1", "--workers", "0"), "--workers must be at least 1 (got 0)."),
])
def test_bad_sweeps_are_refused_in_one_sentence_and_write_nothing(tmp_path, args, words):
    root = tmp_path / "root"
    proc = run_cli("sweep", *TINY, *args, "--runs-root", root, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not root.exists() or not any(root.iterdir())


def test_ray_missing_is_one_sentence():
    try:
        import ray  # noqa: F401
        pytest.skip("ray is installed here")
    except ImportError:
        pass
    proc = run_cli("sweep", *TINY, "--grid", "lr=0.1", "--ray", "local", timeout=120)
    assert proc.returncode == 2 and "--ray needs Ray Tune, which is not installed" in proc.stderr


def test_time_budget_starts_no_trial_after_it_ends(tmp_path):
    proc = run_cli("sweep", *TINY, "--grid", "lr=0.001,0.01", "--sweep-minutes", "0.000001", "--runs-root", tmp_path,
                   "--name", "late", "--json", timeout=120)
    assert proc.returncode == 1, proc.stderr[-2000:]  # nothing ran: a failure, not a usage error
    stored = json.loads((tmp_path / "late" / "sweep.json").read_text())
    assert [t["status"] for t in stored["trials"]] == ["skipped", "skipped"]
    assert sorted(p.name for p in (tmp_path / "late").iterdir()) == ["sweep.json"]


def test_every_sweep_option_has_help_and_the_train_options():
    import argparse

    from workbench.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    sweep = sub.choices["sweep"]
    flags = {s for a in sweep._actions for s in a.option_strings}
    assert {"--lr", "--epochs", "--option", "--limit", "--grid", "--random", "--trials", "--asha", "--ray"} <= flags
    assert all(a.help for a in sweep._actions if a.option_strings)
