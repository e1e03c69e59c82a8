"""Training in a child process (core/training/child.py): real spawned processes on the built-in set."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from workbench.core.training.checkpoint import checkpoint_path
from workbench.core.training.child import ChildOutput, TrainingProcessDied, start, train_in_child
from workbench.core.training.config import TrainConfig
from workbench.core.training.events import (
    BatchProgress, EpochEnded, TrainingFailed, TrainingFinished, TrainingStarted, TrainingStopped,
)

FINAL = (TrainingFinished, TrainingStopped, TrainingFailed)
REPO = Path(__file__).resolve().parents[2]


def quick(tmp_path: Path, **changes) -> TrainConfig:
    base = dict(dataset="builtin", arch="embedded_cnn", epochs=2, batch_size=64, limit=256, test_limit=64,
                run_dir=str(tmp_path / "run"))
    base.update(changes)
    return TrainConfig(**base)


def _gone(pid: int) -> bool:
    """No process and no zombie: /proc has no entry once the parent has reaped it."""
    return not Path(f"/proc/{pid}").exists()


def test_events_pickle_as_they_are():
    started = TrainingStarted("r", "builtin", "embedded_cnn", "CPU", 1, 2, 0, 4, 256, 64, ("a",),
                              probe_images=np.zeros((2, 8, 8, 3), np.uint8))
    for event in (started, BatchProgress(0, 1, 4, 1.0, 0.5, float("nan"), 10.0, 1.0),
                  TrainingProcessDied("m", exitcode=-9), ChildOutput(("line",))):
        back = pickle.loads(pickle.dumps(event))
        assert type(back) is type(event) and repr(back) == repr(event)


def test_events_arrive_in_order_and_end_with_one_final_event(tmp_path):
    handle = start(quick(tmp_path))
    events = list(handle.events())
    engine = [e for e in events if not isinstance(e, ChildOutput)]
    assert isinstance(engine[0], TrainingStarted)
    assert [e.epoch for e in engine if isinstance(e, EpochEnded)] == [0, 1]
    assert isinstance(events[-1], TrainingFinished), events[-1]
    assert sum(isinstance(e, FINAL) for e in events) == 1
    batches = [(e.epoch, e.batch) for e in engine if isinstance(e, BatchProgress)]
    assert batches == sorted(batches)
    # TensorFlow's start-up lines came back as output, not on this process's stderr
    assert any(isinstance(e, ChildOutput) for e in events)
    assert handle.process.exitcode == 0 and _gone(handle.pid)


def test_stop_ends_the_child_within_seconds_and_saves_it_as_stopped(tmp_path):
    stop = threading.Event()
    handle = start(quick(tmp_path, epochs=60, limit=1024))
    asked = None
    final = None
    for event in handle.events(stop):
        if isinstance(event, EpochEnded) and asked is None:
            stop.set()
            asked = time.monotonic()
        final = event
    assert isinstance(final, TrainingStopped), final
    assert time.monotonic() - asked < 15  # a batch, the model saved, the process gone
    assert _gone(handle.pid)
    assert json.loads((tmp_path / "run" / "result.json").read_text())["status"] == "stopped"


def test_kill_9_says_what_happened_and_the_run_resumes(tmp_path):
    config = quick(tmp_path, epochs=60, limit=1024)
    handle = start(config)
    final = None
    for event in handle.events():
        if isinstance(event, EpochEnded) and handle.process.is_alive():
            deadline = time.monotonic() + 30  # the checkpoint is written on a background thread
            while not checkpoint_path(config.run_dir).is_file() and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(handle.pid, signal.SIGKILL)
        final = event
    assert isinstance(final, TrainingProcessDied), final
    assert final.exitcode == -signal.SIGKILL
    assert "SIGKILL" in final.message and "resumed" in final.message
    assert final.epochs_completed >= 1 and final.run_dir == config.run_dir
    assert "Last lines the training process wrote" in final.details and len(final.details.splitlines()) > 1
    assert _gone(handle.pid)
    resumed = train_in_child(config.replace(resume=True, epochs=final.epochs_completed + 1))
    assert isinstance(resumed, TrainingFinished), resumed
    assert resumed.epochs_completed == final.epochs_completed + 1


def test_the_parent_never_imports_tensorflow(tmp_path):
    code = ("import sys; from workbench.core.training.child import train_in_child; "
            "from workbench.core.training.config import TrainConfig\n"
            "if __name__ == '__main__':\n"
            f"    f = train_in_child(TrainConfig(dataset='builtin', arch='embedded_cnn', epochs=1, limit=128, "
            f"test_limit=32, run_dir={str(tmp_path / 'run')!r}))\n"
            "    print(type(f).__name__, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    script = tmp_path / "parent.py"
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.stdout.split() == ["TrainingFinished", "False", "False"], out.stdout + out.stderr
    assert "cuInit" not in out.stderr and "absl" not in out.stderr  # the child's fd 2 went to its log


def test_a_queue_item_whose_process_is_killed_fails_with_the_signal_and_the_queue_goes_on(tmp_path):
    import multiprocessing

    from workbench.core.runs.queue import RunQueue
    from workbench.core.runs.queue_runner import QueueRunner

    queue = RunQueue(tmp_path / "home" / "queue.json")
    common = dict(dataset="builtin", arch="embedded_cnn", batch_size=64, test_limit=64, runs_root=str(tmp_path / "runs"))
    doomed = queue.add(TrainConfig(**common, epochs=60, limit=1024))
    after = queue.add(TrainConfig(**common, epochs=1, limit=128))

    def kill_on_first_epoch(event):
        if isinstance(event, EpochEnded) and event.epochs == 60:
            for child in multiprocessing.active_children():  # the queue's training process
                os.kill(child.pid, signal.SIGKILL)

    ran = QueueRunner(queue, on_event=kill_on_first_epoch).run()
    assert [(i.id, i.status) for i in ran] == [(doomed.id, "failed"), (after.id, "done")]
    assert "SIGKILL" in queue.state().item(doomed.id).message
