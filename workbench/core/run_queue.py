"""A persisted queue of training runs: ``workbench_home()/queue.json`` and the runner that works it off.

Every change is a read-modify-write under a short OS lock (``queue.json.lock``) and lands with an
atomic replace, so a CLI ``queue add`` and a window running the queue never lose each other's edits.
The runner holds a second OS lock (``queue.run.lock``) for as long as it runs: flock dies with the
process, so an item still marked "running" while nobody holds that lock was left by a dead process
and is resumed from its checkpoint the next time the queue runs. Qt-free; TensorFlow loads only when
a run starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

from workbench.core.file_lock import lock_fd
from workbench.core.files import open_regular_file
from workbench.core.training.config import TrainConfig
from workbench.core.training.lock import LOCK_FILE
from workbench.core.training.rundir import CHECKPOINT_DIR, new_run_dir, write_json_atomic
from workbench.paths import default_runs_root, workbench_home

QUEUE_FILE = "queue.json"
EDIT_LOCK = "queue.json.lock"
RUN_LOCK = "queue.run.lock"
FORMAT = 1
MAX_QUEUE_BYTES = 8 * 1024 * 1024  # a queue of thousands of runs is well under this; anything bigger is not ours
MAX_ITEMS = 10_000  # far beyond any hand-made queue; bounds the work of reading a planted file
MAX_MESSAGE_CHARS = 2000  # a failure sentence with two long paths in it
STATUSES = ("queued", "running", "done", "failed", "stopped")
PENDING = ("running", "stopped", "queued")  # what the runner still has to do, in list order
_ID = re.compile(r"^[0-9a-f]{4,32}$")
CHECKPOINT_DATA = "last.h5"  # checkpoint/last.h5: a run with it has an epoch to resume from


class QueueError(Exception):
    """The queue cannot be read or changed; the message is one sentence."""


@dataclass(frozen=True)
class QueueItem:
    id: str
    config: TrainConfig
    status: str = "queued"
    run_dir: str | None = None
    message: str = ""  # why it failed or stopped, one sentence
    label: str = ""  # e.g. "report: CIFAR-10 model 1"
    added: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "config": self.config.to_dict(), "status": self.status, "run_dir": self.run_dir,
                "message": self.message, "label": self.label, "added": self.added}


@dataclass(frozen=True)
class QueueState:
    items: tuple[QueueItem, ...] = ()
    paused: bool = False

    def item(self, item_id: str) -> QueueItem | None:
        return next((i for i in self.items if i.id == item_id), None)


def queue_path(home: str | os.PathLike | None = None) -> Path:
    return Path(home) if home is not None else workbench_home() / QUEUE_FILE


def _broken(path: Path, why: str) -> QueueError:
    return QueueError(f"The queue file {path} is not a valid queue ({why}); "
                      "run `workbench queue clear` to start an empty one.")


def _item_from(raw: Any, path: Path, index: int) -> QueueItem:
    where = f"item {index + 1}"
    if not isinstance(raw, dict):
        raise _broken(path, f"{where} is not an object")
    item_id, status = raw.get("id"), raw.get("status")
    if not isinstance(item_id, str) or not _ID.match(item_id):
        raise _broken(path, f"{where} has no valid id")
    if status not in STATUSES:
        raise _broken(path, f"{where} has an unknown status")
    if not isinstance(raw.get("config"), dict):
        raise _broken(path, f"{where} has no settings")
    try:
        config = TrainConfig.from_dict(raw["config"])
    except (TypeError, ValueError) as exc:
        raise _broken(path, f"{where} has invalid settings: {str(exc)[:200]}") from None
    run_dir = raw.get("run_dir")
    if run_dir is not None and not isinstance(run_dir, str):
        raise _broken(path, f"{where} has a run folder that is not a path")
    message, label, added = raw.get("message", ""), raw.get("label", ""), raw.get("added", 0.0)
    if not isinstance(message, str) or not isinstance(label, str) or not isinstance(added, (int, float)):
        raise _broken(path, f"{where} has a malformed message, label or date")
    return QueueItem(id=item_id, config=config, status=status, run_dir=run_dir,
                     message=message[:MAX_MESSAGE_CHARS], label=label[:200], added=float(added))


def read_queue(path: str | os.PathLike | None = None) -> QueueState:
    """The queue on disk (empty when there is none); QueueError names what is wrong with a bad file."""
    path = queue_path(path)
    try:
        with open_regular_file(path, "queue file") as f:
            data = f.read(MAX_QUEUE_BYTES + 1)
    except FileNotFoundError:
        return QueueState()
    except OSError as exc:
        raise QueueError(f"The queue file {path} cannot be read ({exc.strerror or exc}).") from None
    if len(data) > MAX_QUEUE_BYTES:
        raise _broken(path, f"it is larger than {MAX_QUEUE_BYTES // (1024 * 1024)} MiB")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _broken(path, "it is not JSON") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or not isinstance(raw.get("items"), list):
        raise _broken(path, "it lacks the format number or the list of items")
    if len(raw["items"]) > MAX_ITEMS:
        raise _broken(path, f"it holds more than {MAX_ITEMS} items")
    items = tuple(_item_from(r, path, n) for n, r in enumerate(raw["items"]))
    if len({i.id for i in items}) != len(items):
        raise _broken(path, "two items share an id")
    return QueueState(items=items, paused=bool(raw.get("paused", False)))


def write_queue(state: QueueState, path: str | os.PathLike | None = None) -> None:
    path = queue_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, {"format": FORMAT, "paused": state.paused,
                                 "items": [i.to_dict() for i in state.items]})
    except OSError as exc:
        raise _unwritable(path.parent, exc) from None


def _unwritable(folder: Path, exc: OSError) -> QueueError:
    return QueueError(f"The queue cannot be saved in {folder} ({exc.strerror or exc}); "
                      "make that folder writable or set WORKBENCH_HOME to one that is.")


def _lock_fd(path: Path, blocking: bool) -> int | None:
    try:
        return lock_fd(path, blocking)
    except OSError as exc:
        raise _unwritable(path.parent, exc) from None


@contextlib.contextmanager
def _editing(path: Path) -> Iterator[None]:
    fd = _lock_fd(path.with_name(EDIT_LOCK), blocking=True)  # held only for a read-modify-write: milliseconds
    try:
        yield
    finally:
        os.close(fd)  # closing the fd drops the flock


def new_item_id() -> str:
    return secrets.token_hex(4)


class RunQueue:
    """Edits of the queue file; each method is one locked read-modify-write and returns the new state."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = queue_path(path)

    def state(self) -> QueueState:
        return read_queue(self.path)

    def _change(self, fn: Callable[[QueueState], QueueState]) -> QueueState:
        with _editing(self.path):
            new = fn(read_queue(self.path))
            write_queue(new, self.path)
            return new

    def add(self, config: TrainConfig, label: str = "") -> QueueItem:
        item = QueueItem(id=new_item_id(), config=config, label=label)
        self._change(lambda s: replace(s, items=s.items + (item,)))
        return item

    def add_many(self, entries: list[tuple[TrainConfig, str]]) -> list[QueueItem]:
        items = [QueueItem(id=new_item_id(), config=c, label=label) for c, label in entries]
        self._change(lambda s: replace(s, items=s.items + tuple(items)))
        return items

    def _require(self, state: QueueState, item_id: str) -> QueueItem:
        item = state.item(item_id)
        if item is None:
            raise QueueError(f"There is no item {item_id!r} in the queue; `workbench queue list` shows the ids.")
        return item

    def remove(self, item_id: str) -> QueueState:
        def change(s: QueueState) -> QueueState:
            item = self._require(s, item_id)
            if item.status == "running" and queue_running(self.path):
                raise QueueError(f"Item {item_id} is running now; stop or pause the queue first, then remove it.")
            return replace(s, items=tuple(i for i in s.items if i.id != item_id))
        return self._change(change)

    def move(self, item_id: str, position: int) -> QueueState:
        """Put the item at 1-based ``position`` (clamped to the queue's length)."""
        def change(s: QueueState) -> QueueState:
            item = self._require(s, item_id)
            rest = [i for i in s.items if i.id != item_id]
            rest.insert(max(0, min(len(rest), position - 1)), item)
            return replace(s, items=tuple(rest))
        return self._change(change)

    def clear(self, finished_only: bool = False) -> QueueState:
        """Drop every item (or only done/failed ones); a running item of a live runner stays.

        Also the way out of a broken queue file: it is replaced by an empty queue.
        """
        live = queue_running(self.path)

        def keep(i: QueueItem) -> bool:
            if finished_only:
                return i.status not in ("done", "failed")
            return i.status == "running" and live

        with _editing(self.path):
            try:
                state = read_queue(self.path)
            except QueueError:
                state = QueueState()
            new = replace(state, items=tuple(i for i in state.items if keep(i)))
            write_queue(new, self.path)
            return new

    def set_paused(self, paused: bool) -> QueueState:
        return self._change(lambda s: replace(s, paused=paused))

    def requeue(self, item_id: str) -> QueueState:
        """A failed or stopped item goes back to "queued" (a stopped one still resumes its folder)."""
        def change(s: QueueState) -> QueueState:
            item = self._require(s, item_id)
            status = "stopped" if item.status == "stopped" else "queued"
            run_dir = item.run_dir if item.status == "stopped" else None
            return _with(s, replace(item, status=status, run_dir=run_dir, message=""))
        return self._change(change)

    def _update(self, item_id: str, **changes: Any) -> QueueState:
        def change(s: QueueState) -> QueueState:
            item = s.item(item_id)
            return s if item is None else _with(s, replace(item, **changes))  # removed meanwhile: nothing to mark
        return self._change(change)


def _with(state: QueueState, item: QueueItem) -> QueueState:
    return replace(state, items=tuple(item if i.id == item.id else i for i in state.items))


def queue_running(path: str | os.PathLike | None = None) -> bool:
    """True while some process (this one included) holds the runner lock of this queue."""
    fd = _lock_fd(queue_path(path).with_name(RUN_LOCK), blocking=False)
    if fd is None:
        return True
    os.close(fd)
    return False


def _has_checkpoint(run_dir: str | None) -> bool:
    return bool(run_dir) and (Path(run_dir) / CHECKPOINT_DIR / CHECKPOINT_DATA).is_file()


def plan_config(item: QueueItem) -> tuple[TrainConfig, str]:
    """The config to train ``item`` with, and its run folder: a resume where an interrupted run left an epoch.

    A new run's folder is created here, before training, so that a crash leaves it recorded in the queue.
    """
    config = item.config
    if item.status in ("running", "stopped") and _has_checkpoint(item.run_dir):
        return config.replace(resume=True, run_dir=item.run_dir, runs_root=None), item.run_dir
    if config.run_dir:
        return config, config.run_dir  # the user named the folder; an interrupted start begins it again there
    folder = new_run_dir(config.runs_root or default_runs_root(), _safe(config.dataset), _safe(config.arch))
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


def _safe(name: str) -> str:
    """A dataset or network name as a folder-name part (a dataset may be a path)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).name)[:40] or "run"


_FINAL_STATUS = {"TrainingFinished": "done", "TrainingStopped": "stopped", "TrainingFailed": "failed"}


@dataclass
class QueueRunner:
    """Works off the queue, one run at a time, through the core ``train`` (same engine, same events).

    ``on_event(event)`` gets every engine event; ``on_item(item)`` each item as its status changes.
    ``stop`` ends the current run after its batch (the item resumes next time) and then the runner.
    """

    queue: RunQueue
    on_event: Callable[[Any], None] | None = None
    on_item: Callable[[QueueItem], None] | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    train_fn: Callable[..., Any] | None = None  # the engine's train; tests may count calls through it
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
        fd = _lock_fd(self.queue.path.with_name(RUN_LOCK), blocking=False)
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
        if train is None:
            from workbench.core.training.engine import train
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
