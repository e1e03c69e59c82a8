"""`queue` on the command line: add/list/move/remove/clear, a SIGKILLed `queue run` resumed, the report table."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.core.runs.queue import RunQueue
from workbench.core.training.rundir import read_history

REPO = Path(__file__).resolve().parents[1]
TINY = ["--dataset", "builtin", "--arch", "embedded_cnn", "--epochs", "1", "--batch-size", "64",
        "--limit", "128", "--test-limit", "64"]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _ids(capsys):
    main(["queue", "list", "--json"])
    return [i["id"] for i in json.loads(capsys.readouterr().out.strip().splitlines()[-1])["items"]]


def test_add_list_move_remove_clear(home, capsys):
    assert main(["queue", "add", *TINY, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)["id"]
    assert main(["queue", "add", *TINY, "--seed", "7", "--label", "seven"]) == 0
    capsys.readouterr()
    second = _ids(capsys)[1]
    assert RunQueue().state().item(second).config.seed == 7
    assert main(["queue", "move", second, "1"]) == 0
    assert _ids(capsys) == [second, first]
    assert main(["queue", "list"]) == 0
    text = capsys.readouterr().out
    assert "embedded_cnn on builtin" in text and text.index(second) < text.index(first)
    assert main(["queue", "remove", second]) == 0
    assert _ids(capsys) == [first]
    assert main(["queue", "remove", "deadbeef"]) == 2
    assert "no item 'deadbeef'" in capsys.readouterr().err
    assert main(["queue", "clear"]) == 0
    assert _ids(capsys) == []


def test_add_refuses_what_train_would_refuse_and_writes_nothing(home, capsys):
    assert main(["queue", "add", "--dataset", "builtin", "--arch", "no_such_net"]) == 2
    assert "Unknown architecture" in capsys.readouterr().err
    assert main(["queue", "add", *TINY, "--epochs", "0"]) == 2
    assert not (home / "queue.json").exists()


def test_a_broken_queue_file_is_one_sentence_and_clear_repairs_it(home, capsys):
    home.mkdir()
    (home / "queue.json").write_text('{"format": 1, "items": [{"id": 3}]}')
    assert main(["queue", "list"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: The queue file") and "queue clear" in err and "\n" not in err
    assert main(["queue", "clear"]) == 0
    assert main(["queue", "list"]) == 0


def test_a_killed_queue_run_resumes_its_run_from_the_checkpoint(home, tmp_path, capsys):
    """SIGKILL a `queue run` in its second epoch; the next `queue run` resumes that run and finishes it."""
    assert main(["queue", "add", "--dataset", "builtin", "--arch", "embedded_cnn", "--epochs", "3",
                 "--batch-size", "32", "--limit", "1024", "--test-limit", "64"]) == 0
    env = {**os.environ, "PYTHONPATH": str(REPO), "WORKBENCH_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, str(REPO / "main.py"), "queue", "run"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        folder = None
        while time.monotonic() < deadline:
            item = RunQueue().state().items[0]
            folder = Path(item.run_dir) if item.run_dir else None
            if folder and (folder / "checkpoint" / "last.h5").exists() and len(read_history(folder)) >= 1:
                break
            assert proc.poll() is None, "the queue ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("no epoch completed in time")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (folder / "result.json").exists()  # killed mid-run, not after it ended
    item = RunQueue().state().items[0]
    assert item.status == "running"  # what a dead process leaves behind
    capsys.readouterr()
    assert main(["queue", "list"]) == 0
    listed = capsys.readouterr().out
    assert "running" in listed and "/3 done" in listed  # its progress, read from the run's history

    assert main(["queue", "run"]) == 0
    item = RunQueue().state().items[0]
    assert item.status == "done" and Path(item.run_dir) == folder
    stored = json.loads((folder / "config.json").read_text())
    assert stored["resumed"] and stored["resumed"][0]["from_epoch"] >= 1
    assert [r["epoch"] for r in read_history(folder)] == [0, 1, 2]
    assert json.loads((folder / "result.json").read_text())["status"] == "finished"


@pytest.mark.parametrize("field, value, words", [
    ("epochs", 1.5, "epochs is 1.5, not a whole number"),
    ("epochs", True, "epochs is true, not a whole number"),
    ("epochs", 1e18, "epochs is 1e+18, not a whole number"),
    ("epochs", 10**18, "epochs is 1000000000000000000, more than 1,000,000,000"),
    ("batch_size", "64", "batch_size is '64', not a whole number"),
    ("learning_rate", float("nan"), "learning_rate is NaN, not a finite number"),
    ("augment", 1, "augment is 1, not true or false"),
])
def test_a_hand_edited_queue_item_with_a_bad_number_is_one_sentence(home, capsys, field, value, words):
    assert main(["queue", "add", *TINY]) == 0
    assert main(["queue", "add", *TINY, "--seed", "3"]) == 0
    path = home / "queue.json"
    data = json.loads(path.read_text())
    data["items"][1]["config"][field] = value
    path.write_text(json.dumps(data))
    before = path.read_bytes()
    capsys.readouterr()
    for command in (["queue", "list"], ["queue", "add", *TINY], ["queue", "run"]):
        assert main(command) == 2, command
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: The queue file") and f"item 2's {words}" in err and "\n" not in err, err
    assert path.read_bytes() == before  # a refused command writes nothing
    assert main(["queue", "clear"]) == 0
    assert "kept as" in capsys.readouterr().out
    assert (home / "queue.json.broken").read_bytes() == before and _ids(capsys) == []


@pytest.mark.parametrize("named", [True, False], ids=["with --out", "without --out"])
def test_a_queue_run_killed_before_its_first_epoch_starts_again_in_its_folder(home, tmp_path, capsys, named):
    """SIGKILL `queue run` after the run wrote config.json but before its first epoch ended: the next
    `queue run` starts the run again in the same folder (docs/QUEUE.md), instead of 'already holds a run'."""
    out = tmp_path / "named-run"
    assert main(["queue", "add", "--dataset", "builtin", "--arch", "embedded_cnn", "--epochs", "1",
                 "--batch-size", "16", "--limit", "4096", "--test-limit", "64",
                 *(["--out", str(out)] if named else [])]) == 0
    env = {**os.environ, "PYTHONPATH": str(REPO), "WORKBENCH_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, str(REPO / "main.py"), "queue", "run"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            item = RunQueue().state().items[0]
            folder = Path(item.run_dir) if item.run_dir else None
            if folder and (folder / "config.json").exists():
                break
            assert proc.poll() is None, "the queue ended before it could be killed"
            time.sleep(0.02)
        else:
            pytest.fail("the run never wrote its config.json")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert read_history(folder) == [] and not (folder / "checkpoint" / "last.h5").exists()  # before epoch 1
    assert RunQueue().state().items[0].status == "running"
    if named:
        assert folder == out
    capsys.readouterr()
    assert main(["queue", "run"]) == 0
    item = RunQueue().state().items[0]
    assert item.status == "done", item.message
    assert Path(item.run_dir) == folder and [r["epoch"] for r in read_history(folder)] == [0]
    assert json.loads((folder / "result.json").read_text())["status"] == "finished"
    runs = folder.parent
    assert named or [p.name for p in runs.iterdir() if not p.name.startswith(".")] == [folder.name]  # no orphan
