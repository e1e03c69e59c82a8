"""The queue's runner: works the queue off one run at a time through the core ``train`` in a child process.

It holds the queue's runner lock (``queue.run.lock``) while it runs; an item still "running" when
nobody holds that lock was left by a dead process and resumes from its checkpoint (or starts again in
the folder the queue made for it, when it died before its first epoch). Qt-free; TensorFlow loads
only when a run starts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from workbench.core.runs.queue import (
    MAX_MESSAGE_CHARS, PENDING, RUN_LOCK, QueueError, QueueItem, RunQueue, lock_fd,
)
from workbench.core.training.checkpoint import checkpoint_path
from workbench.core.training.config import TrainConfig
from workbench.core.training.errors import TrainingError
from workbench.core.training.lock import LOCK_FILE, RunLock
from workbench.core.training.rundir import new_run_dir, read_history
from workbench.paths import default_runs_root

def _has_checkpoint(run_dir: str | None) -> bool:
    return bool(run_dir) and checkpoint_path(run_dir).is_file()


def _unstarted(item: QueueItem) -> bool:
    """True when the queue started ``item`` in its folder and the run died before finishing an epoch there."""
    if item.status not in ("running", "stopped") or not item.run_dir or _has_checkpoint(item.run_dir):
        return False
    folder = Path(item.run_dir)
    if folder.is_symlink() or not folder.is_dir():
        return False
    notes: list[str] = []
    return not read_history(folder, notes) and not notes  # an unreadable history is never thrown away


def _empty_for_restart(folder: str) -> None:
    """Remove what a run killed before its first epoch wrote (config.json, logs, an empty history), under
    the folder's run lock so that a run writing there now is never touched (TrainingError then)."""
    lock = RunLock.acquire(Path(folder))
    try:
        for entry in list(os.scandir(folder)):
            if entry.name == LOCK_FILE:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.remove(entry.path)
    finally:
        lock.release()


_DYING_HOLDER_S = 10.0  # a killed runner's training process dies with it a moment later and frees the folder


def _wait_for_folder(run_dir: str) -> None:
    """Wait (briefly) until nobody holds the run lock of an interrupted item's folder: the training process of
    a runner killed a moment ago is still exiting. A live writer is left for ``plan_config`` to report."""
    deadline = time.monotonic() + _DYING_HOLDER_S
    while True:
        try:
            RunLock.acquire(Path(run_dir)).release()
            return
        except TrainingError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.1)
        except OSError:
            return


def plan_config(item: QueueItem) -> tuple[TrainConfig, str]:
    """The config to train ``item`` with, and its run folder: a resume where an interrupted run left an epoch,
    the same folder started again where it died before its first epoch (docs/QUEUE.md).

    A new run's folder is created here, before training, so that a crash leaves it recorded in the queue.
    """
    config = item.config
    if item.status in ("running", "stopped") and item.run_dir and Path(item.run_dir).is_dir() \
            and not Path(item.run_dir).is_symlink():
        _wait_for_folder(item.run_dir)
    if item.status in ("running", "stopped") and _has_checkpoint(item.run_dir):
        return config.replace(resume=True, run_dir=item.run_dir, runs_root=None), item.run_dir
    if _unstarted(item):
        _empty_for_restart(item.run_dir)
        return config.replace(run_dir=item.run_dir), item.run_dir
    if config.run_dir:
        return config, config.run_dir
    folder = new_run_dir(config.runs_root or default_runs_root(), config.dataset, config.arch)
    return config.replace(run_dir=str(folder)), str(folder)


def _drop_empty(folder: str) -> bool:
    """Remove the folder created for a run that wrote nothing into it; True when it is gone."""
    path = Path(folder)
    with contextlib.suppress(OSError):
        if path.is_dir() and not any(n != LOCK_FILE for n in os.listdir(path)):
            with contextlib.suppress(FileNotFoundError):
                (path / LOCK_FILE).unlink()
            path.rmdir()
    return not path.exists()


_FINAL_STATUS = {"TrainingFinished": "done", "TrainingStopped": "stopped", "TrainingFailed": "failed"}


@dataclass
class QueueRunner:
    """Works off the queue, one run at a time, through the core ``train`` in a child process (same engine, same
    events; a run whose process dies fails with the signal named, and the queue goes on).

    ``on_event(event)`` gets every engine event; ``on_item(item)`` each item as its status changes.
    ``stop`` ends the current run after its batch (the item resumes next time) and then the runner.
    """

    queue: RunQueue
    on_event: Callable[[Any], None] | None = None
    on_item: Callable[[QueueItem], None] | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    train_fn: Callable[..., Any] | None = None  # default: child.train_in_child; tests may count calls through it
    _lock: int | None = field(default=None, init=False, repr=False)  # the runner lock's fd while held

    def run(self) -> list[QueueItem]:
        """Run until the queue is empty, paused or stopped; return the items run, in their final state.

        QueueError when another window or process is running this queue already.
        """
        self.acquire()
        try:
            return self._loop()
        finally:
            self.release()

    def acquire(self) -> None:
        """Take the runner lock for this queue (QueueError when another window or process holds it)."""
        if self._lock is not None:
            return
        fd = lock_fd(self.queue.path.with_name(RUN_LOCK), blocking=False)
        if fd is None:
            raise QueueError("The queue is already running in another window or process; "
                             "wait for it, or pause it there.")
        self._lock = fd

    def release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def next_item(self) -> QueueItem | None:
        """The next item to run (an interrupted one first, in list order), or None when empty or paused."""
        state = self.queue.state()
        if state.paused:
            return None
        return next((i for i in state.items if i.status in PENDING), None)

    def begin(self, item: QueueItem) -> tuple[QueueItem, TrainConfig] | None:
        """Mark ``item`` running with its run folder; the config to train it with (None: it failed already)."""
        try:
            config, run_dir = plan_config(item)
        except OSError as exc:  # the runs folder cannot be created: this item fails, the next may work
            self._finish(item, "failed", None, f"Could not create a run folder: {exc}")
            return None
        except TrainingError as exc:  # another process writes in the folder it was started in
            self._finish(item, "failed", item.run_dir, str(exc))
            return None
        running = replace(item, status="running", run_dir=run_dir, message="")
        self.queue._update(item.id, status="running", run_dir=run_dir, message="")
        self._tell(running)
        return running, config

    def end(self, item: QueueItem, config: TrainConfig, final: Any) -> QueueItem:
        """Record the engine's final event for ``item``: done, failed (the queue goes on) or stopped."""
        status = _FINAL_STATUS.get(type(final).__name__, "failed")
        message = getattr(final, "message", "") if status == "failed" else ""
        if status == "stopped":
            message = "Stopped; it resumes from its last completed epoch when the queue runs again."
        run_dir = item.run_dir or ""
        folder = getattr(final, "run_dir", None) or (run_dir if run_dir and Path(run_dir).is_dir() else None)
        if status == "failed" and not config.resume and run_dir != item.config.run_dir and _drop_empty(run_dir):
            folder = None  # a run refused at start leaves no folder behind, like a refused `train`
        return self._finish(item, status, folder, message)

    def _loop(self) -> list[QueueItem]:
        train = self.train_fn
        if train is None:  # each run in its own process: a crash ends that item, not the queue
            from workbench.core.training.child import train_in_child as train
        done: list[QueueItem] = []
        while not self.stop.is_set():
            item = self.next_item()
            if item is None:
                break
            started = self.begin(item)
            if started is None:
                done.append(replace(item, status="failed"))
                continue
            item, config = started
            done.append(self.end(item, config, train(config, self._event, self.stop)))
        return done

    def _finish(self, item: QueueItem, status: str, run_dir: str | None, message: str) -> QueueItem:
        self.queue._update(item.id, status=status, run_dir=run_dir, message=message[:MAX_MESSAGE_CHARS])
        final = replace(item, status=status, run_dir=run_dir, message=message[:MAX_MESSAGE_CHARS])
        self._tell(final)
        return final

    def _event(self, event: Any) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _tell(self, item: QueueItem) -> None:
        if self.on_item is not None:
            self.on_item(item)
