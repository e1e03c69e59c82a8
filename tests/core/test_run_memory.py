"""Memory across restarts: a run cut short is found to be offered again, and a resumed run's result counts
all its parts (epochs and wall time). Real tiny runs on the built-in set, stopped as the window stops them."""

from __future__ import annotations

import json
import shutil
import threading

import pytest

from workbench.core.runs.cut_short import cut_short_run, find_cut_short
from workbench.core.training import BatchProgress, TrainConfig, TrainingFinished, TrainingStopped, engine, train
from workbench.core.training.lock import RunLock
from workbench.core.training.run_time import run_wall_seconds


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    """A 3-epoch run stopped in its second epoch (what closing the window mid-run leaves)."""
    interval, engine.PROGRESS_INTERVAL_S = engine.PROGRESS_INTERVAL_S, 0.0  # put back below: other tests throttle
    root = tmp_path_factory.mktemp("runs")
    config = TrainConfig(dataset="builtin", arch="embedded_cnn", epochs=3, batch_size=32, limit=128,
                         test_limit=64, run_dir=str(root / "20261206-120000-builtin-embedded_cnn"))
    stop = threading.Event()

    def on_event(event):
        if isinstance(event, BatchProgress) and event.epoch == 1 and event.batch == 2:
            stop.set()

    try:
        final = train(config, on_event, stop)
    finally:
        engine.PROGRESS_INTERVAL_S = interval
    assert isinstance(final, TrainingStopped) and final.epochs_completed == 1, final
    return root, config


def test_a_stopped_run_and_a_crashed_one_are_found_a_running_one_is_not(stopped_run, tmp_path):
    root, config = stopped_run
    runs = tmp_path / "runs"
    shutil.copytree(root, runs)
    stopped = runs / "20261206-120000-builtin-embedded_cnn"
    found = find_cut_short(runs)
    assert found is not None and found.run_dir == str(stopped)
    assert (found.status, found.epochs_done, found.epochs_planned) == ("stopped", 1, 3)
    assert found.trained_seconds is not None and found.trained_seconds > 0
    assert found.describe().startswith(f"Run {stopped.name} stopped at epoch 1 of 3, 0:")
    assert found.describe().endswith(" trained")

    crashed = runs / "20261206-130000-builtin-embedded_cnn"  # a crash or power cut leaves no result.json
    shutil.copytree(stopped, crashed)
    (crashed / "result.json").unlink()
    (crashed / "checkpoint" / "last.h5").touch()  # checkpointed last: the newest
    found = find_cut_short(runs)
    assert found.run_dir == str(crashed) and found.status == "incomplete"
    assert "was cut short at epoch 1 of 3" in found.describe()

    lock = RunLock.acquire(crashed)  # training now (in this process or another): not offered
    try:
        assert cut_short_run(crashed) is None
        assert find_cut_short(runs).run_dir == str(stopped)
    finally:
        lock.release()
    assert find_cut_short(runs, dismissed=[found.key]).run_dir == str(stopped)  # dismissed at this epoch
    assert find_cut_short(runs, last_started=str(stopped)).run_dir == str(stopped)  # the window's own run first
    assert find_cut_short(runs, dismissed=[found.key, f"{stopped}@1"]) is None


def test_a_finished_or_diverged_run_is_not_offered(stopped_run, tmp_path):
    root, _config = stopped_run
    run = tmp_path / "run"
    shutil.copytree(next(root.iterdir()), run)
    result = json.loads((run / "result.json").read_text())
    (run / "result.json").write_text(json.dumps({**result, "status": "failed", "diverged": True}))
    assert cut_short_run(run) is None
    (run / "result.json").write_text(json.dumps({**result, "status": "finished"}))
    assert cut_short_run(run) is None
    shutil.rmtree(run / "checkpoint")
    (run / "result.json").unlink()
    assert cut_short_run(run) is None  # no completed epoch: nothing to resume


def test_a_resumed_run_counts_all_its_parts(stopped_run, tmp_path):
    root, config = stopped_run
    run = tmp_path / "run"
    shutil.copytree(next(root.iterdir()), run)
    first = json.loads((run / "result.json").read_text())
    assert first["epochs_completed"] == 1 and first["epochs_planned"] == 3 and first["minutes"] is None
    first_part = first["wall_seconds"]
    assert first_part > 0
    final = train(config.replace(run_dir=str(run), resume=True))
    assert isinstance(final, TrainingFinished) and final.epochs_completed == 3
    result = json.loads((run / "result.json").read_text())
    assert result["epochs_completed"] == 3 and result["epochs_planned"] == 3
    from workbench.core.training.rundir import read_history

    history = read_history(run)
    second_part = history[-1]["wall_seconds"]  # this part's clock started again at 0
    assert history[0]["wall_seconds"] <= first_part
    assert result["wall_seconds"] >= history[0]["wall_seconds"] + second_part
    assert final.wall_seconds == pytest.approx(result["wall_seconds"], abs=0.5)
    assert cut_short_run(run) is None


def test_wall_time_adds_each_part():
    rows = [{"epoch": 0, "wall_seconds": 10.0}, {"epoch": 1, "wall_seconds": 20.0},
            {"epoch": 2, "wall_seconds": 30.0},  # a new part that began at epoch 2 (slower start)
            {"epoch": 3, "wall_seconds": 5.0}, {"epoch": 4, "wall_seconds": 11.0}]  # and one at epoch 3
    assert run_wall_seconds(rows, starts=[2]) == 20.0 + 30.0 + 11.0
    assert run_wall_seconds([{"epoch": 0, "seconds": 4.0}, {"epoch": 1, "seconds": 5.0}]) == 9.0
    assert run_wall_seconds([]) is None


def test_a_time_budget_is_a_budget_in_result_json(tmp_path):
    config = TrainConfig(dataset="builtin", arch="embedded_cnn", epochs=1000, minutes=0.02, batch_size=64,
                         limit=64, test_limit=32, run_dir=str(tmp_path / "run"))
    final = train(config)
    assert isinstance(final, TrainingFinished), final
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["minutes"] == 0.02 and result["epochs_planned"] is None and result["epoch_cap"] == 1000
    assert result["epochs_completed"] == final.epochs_completed < 1000


def test_a_run_killed_mid_way_is_found_once_its_process_is_gone(tmp_path):
    """kill -9 of a training process (a crash, the OOM killer): while it trains its folder is locked and not
    offered; once it is dead the run is found, cut short at its last checkpointed epoch."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    run = tmp_path / "runs" / "killed"
    code = ("from workbench.core.training import TrainConfig, train\n"
            f"train(TrainConfig(dataset='builtin', arch='embedded_cnn', epochs=200, batch_size=32, limit=128,"
            f" test_limit=64, run_dir={str(run)!r}))\n")
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen([sys.executable, "-c", code], cwd=root,
                             env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while not (run / "checkpoint" / "last.h5").exists():
            assert child.poll() is None, child.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "no epoch was checkpointed in time"
            time.sleep(0.2)
        assert find_cut_short(tmp_path / "runs") is None  # training now: its lock is held
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    found = find_cut_short(tmp_path / "runs")
    assert found is not None and found.run_dir == str(run) and found.status == "incomplete"
    assert found.epochs_done >= 1 and found.epochs_planned == 200
    assert found.describe().startswith(f"Run killed was cut short at epoch {found.epochs_done} of 200")
