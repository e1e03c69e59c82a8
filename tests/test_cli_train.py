"""`train` on the command line: --resume RUN_DIR alone, refusals that write nothing (exit 2), help for every
option, a batch progress bar only on a terminal. Real processes on the built-in set."""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, timeout=300):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def folder_state(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("cli-train") / "run"
    proc = run_cli("train", "--dataset", "builtin", "--arch", "simple_cnn", "--epochs", "1", "--batch-size", "64",
                   "--limit", "192", "--test-limit", "64", "--seed", "3", "--out", run)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "\r" not in proc.stdout and "ETA" not in proc.stdout  # no progress bar in a log
    return run


@pytest.mark.parametrize("args, words", [
    (["--seed", "4"], "was trained with --seed 3, so it must go on with it; leave --seed out to keep it."),
    (["--arch", "resnet20"], "was trained with --arch 'simple_cnn'"),
    (["--epochs", "1"], "already completed 1 of 1 epochs"),
    (["--epochs", "0"], "Epochs must be at least 1"),
    (["--out", "/elsewhere"], "--resume names the run folder already"),
])
def test_refused_resume_is_a_usage_error_and_writes_nothing(finished_run, args, words):
    before = folder_state(finished_run)
    proc = run_cli("train", "--resume", finished_run, *args)
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert folder_state(finished_run) == before


def test_resume_needs_only_the_run_folder(finished_run, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(finished_run, run)
    proc = run_cli("train", "--resume", run, "--epochs", "2", "--json")  # dataset, arch, seed … from config.json
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["status"] == "finished" and [e["epoch"] for e in result["epochs"]] == [2]
    saved = json.loads((run / "config.json").read_text())["config"]
    assert saved["seed"] == 3 and saved["epochs"] == 2 and saved["limit"] == 192


def test_missing_or_foreign_folders_get_one_sentence(tmp_path):
    proc = run_cli("train", "--resume", tmp_path / "nothing")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: There is no run folder {tmp_path / 'nothing'} to resume; "
                                   "give the folder of an earlier run.")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "model.h5").write_bytes(b"mine")
    proc = run_cli("train", "--dataset", "builtin", "--arch", "simple_cnn", "--out", mine)
    assert proc.returncode == 2 and "is not empty and holds no workbench run" in proc.stderr
    assert (mine / "model.h5").read_bytes() == b"mine" and os.listdir(mine) == ["model.h5"]
    proc = run_cli("train", "--arch", "simple_cnn")
    assert proc.returncode == 2 and "A new run needs --dataset and --arch" in proc.stderr


def _train_parser() -> argparse.ArgumentParser:
    from workbench.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["train"]


def test_every_train_option_has_help():
    parser = _train_parser()
    for action in parser._actions:
        assert action.help and action.help.strip(), action.option_strings
    text = parser.format_help()
    assert "(default: 30;" in text and "(default: adam)" in text  # defaults shown though the flags default to None


def test_batch_progress_bar_on_a_terminal_only():
    from workbench.cli.train_report import TrainReporter
    from workbench.core.training import BatchProgress, EpochEnded

    batches = [BatchProgress(epoch=0, batch=b, steps=4, loss=1.0, top1=0.5, top5=1.0, images_per_sec=100.0,
                             elapsed=b) for b in range(1, 5)]
    ended = EpochEnded(epoch=0, epochs=2, loss=1.0, top1=0.5, top5=1.0, val_loss=1.0, val_top1=0.5, val_top5=1.0,
                       learning_rate=1e-3, seconds=1.0, images_per_sec=100.0)
    for tty in (True, False):
        stream = io.StringIO()
        report = TrainReporter(stream, tty=tty)
        for event in (*batches, ended):
            report(event)
        text = stream.getvalue()
        lines = text.replace("\r", "\n").splitlines()
        assert lines[-1].startswith("epoch   1/2  loss 1.0000")
        if tty:
            assert "\r" in text and "[" + "#" * 24 + "]" in text and "batches/s" in text
        else:
            assert text.count("\n") == 1 and "\r" not in text  # a log gets the epoch line only


def test_no_import_cycle_between_runs_and_rundir():
    # core/runs.py reads run folders via training/rundir.py; rundir must not reach back into runs.
    source = (ROOT / "workbench" / "core" / "training" / "rundir.py").read_text()
    imported = {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)}
    assert "workbench.core.runs" not in imported


def test_work_after_the_last_epoch_shows_as_bars_or_one_line_per_phase():
    from workbench.cli.train_report import TrainReporter
    from workbench.core.training import EpochEnded, FinishingProgress

    def phase(name, done, total):
        return FinishingProgress(phase=name, done=done, total=total, seconds=0.5, elapsed=3.0)

    ended = EpochEnded(epoch=0, epochs=1, loss=1.0, top1=0.5, top5=1.0, val_loss=1.0, val_top1=0.5, val_top5=1.0,
                       learning_rate=1e-3, seconds=1.0, images_per_sec=100.0)
    events = [phase("validating", 0, 500), phase("validating", 500, 500), ended,
              phase("confusion matrix", 0, 2000), phase("confusion matrix", 2000, 2000), phase("saving", 0, 2),
              phase("testing with flips", 0, 2000), phase("testing with flips", 1200, 2000),
              phase("testing with flips", 2000, 2000), phase("saving", 1, 2), phase("saving", 2, 2)]
    for tty in (True, False):
        stream = io.StringIO()
        report = TrainReporter(stream, tty=tty)
        for event in events:
            report(event)
        report.close_bar()
        text = stream.getvalue()
        if tty:
            assert "testing with flips  [" in text and "2,000/2,000 images" in text and "validating  [" in text
            assert "saving the model…\n" in text and "saving the best epoch's model…\n" in text
        else:
            assert text.splitlines()[1:] == ["confusion matrix (2,000 images)…", "saving the model…",
                                             "testing with flips (2,000 images)…", "saving the best epoch's model…"]
