"""Every way a local sweep's parent ends also ends its workers: SIGTERM and SIGHUP take Ctrl+C's clean path
(the running trial stops and keeps its model, sweep.json says so) and kill -9 of the parent kills the worker
(parent-death signal). A real sweep subprocess on tiny data, its process group walked in /proc."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ("--dataset", "builtin", "--arch", "simple_cnn", "--batch-size", "64", "--limit", "192", "--test-limit", "64")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="walks /proc")


def session_members(sid: int) -> list[tuple[int, str]]:
    """(pid, command) of every live process in session ``sid`` (the sweep and whatever it started)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append((int(entry), cmd[:200]))
    return found


def wait_until(predicate, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.25)
    return predicate()


def start_sweep(tmp_path, hup=signal.SIG_DFL):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT), WORKBENCH_HOME=str(tmp_path / "home"),
               WORKBENCH_CACHE=str(tmp_path / "cache"))
    # Output to a file, not a pipe: an orphaned worker holding the pipe would keep the test waiting for good.
    with open(tmp_path / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "sweep", *TINY, "--epochs", "500", "--grid", "lr=0.001,0.01",
             "--workers", "1", "--runs-root", str(tmp_path), "--name", "sig"],
            stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=tmp_path,
            start_new_session=True,  # its own session: every process it starts can be found by session id
            # SIGHUP's disposition is inherited through exec: a suite started under nohup would hand the sweep an
            # ignored SIGHUP, which it rightly keeps; each test says which one it means.
            preexec_fn=lambda: signal.signal(signal.SIGHUP, hup))
    history = tmp_path / "sig" / "trial-001" / "history.csv"

    def training() -> bool:
        return history.is_file() and len(history.read_text().splitlines()) >= 2  # an epoch is done

    if not wait_until(training, 240):
        proc.kill()
        end_group(proc)
        pytest.fail(f"the sweep never trained an epoch: {(tmp_path / 'stderr.txt').read_text()[-2000:]}")
    return proc


def end_group(proc) -> list[tuple[int, str]]:
    """Waits for the sweep's session to empty; returns (and kills) the processes that outlived it."""
    wait_until(lambda: not session_members(proc.pid), 60)
    left = session_members(proc.pid)
    for pid, _ in left:  # the test's own leftovers, so a failure does not leave a trainer running
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return left


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_the_trial_mark_the_sweep_and_leave_no_process(tmp_path, signum):
    proc = start_sweep(tmp_path)
    assert len(session_members(proc.pid)) >= 3  # the sweep, its training process and multiprocessing's resource tracker at least
    os.kill(proc.pid, signum)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    left = end_group(proc)
    err = (tmp_path / "stderr.txt").read_text()
    assert left == [], f"still running after the sweep ended: {left}"
    assert proc.returncode == 128 + signum, err[-2000:]
    assert "Traceback" not in err and signal.Signals(signum).name in err
    stored = json.loads((tmp_path / "sig" / "sweep.json").read_text())
    assert stored["stopped_by"] == signal.Signals(signum).name
    first, second = stored["trials"]
    assert first["status"] == "stopped" and first["epochs"] >= 1  # stopped after its batch, like Ctrl+C
    assert (tmp_path / "sig" / first["run_dir"] / "model.h5").is_file()  # and kept its model
    assert second["status"] == "skipped"  # never started


def test_a_sweep_started_under_nohup_keeps_training_through_sighup(tmp_path):
    proc = start_sweep(tmp_path, hup=signal.SIG_IGN)
    history = tmp_path / "sig" / "trial-001" / "history.csv"
    epochs = len(history.read_text().splitlines())
    os.kill(proc.pid, signal.SIGHUP)
    assert wait_until(lambda: len(history.read_text().splitlines()) > epochs, 120)  # still training after it
    assert proc.poll() is None
    os.kill(proc.pid, signal.SIGTERM)  # and SIGTERM still stops it the clean way
    proc.wait(timeout=120)
    assert end_group(proc) == []
    assert proc.returncode == 128 + signal.SIGTERM
    assert json.loads((tmp_path / "sig" / "sweep.json").read_text())["stopped_by"] == "SIGTERM"


def test_kill_9_of_the_parent_kills_its_worker(tmp_path):
    proc = start_sweep(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    left = end_group(proc)
    assert left == [], f"outlived a killed parent: {left}"
