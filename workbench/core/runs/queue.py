"""A persisted queue of training runs: ``workbench_home()/queue.json``, its items and their edits.

Every change is a read-modify-write under a short OS lock (``queue.json.lock``) and lands with an
atomic replace, so a CLI ``queue add`` and a window running the queue never lose each other's edits.
The runner holds a second OS lock (``queue.run.lock``) for as long as it runs: flock dies with the
process, so an item still marked "running" while nobody holds that lock was left by a dead process
and is resumed from its checkpoint the next time the queue runs (runs.queue_runner). Qt-free, no TensorFlow.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import re
import secrets
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

from workbench.core.atomic_write import write_json_atomic
from workbench.core.file_lock import lock_fd as _os_lock_fd
from workbench.core.files import open_regular_file
from workbench.core.text import sanitize
from workbench.core.training.config import TrainConfig
from workbench.paths import workbench_home

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
    return QueueError(f"The queue file {path} is not a valid queue ({why}); fix that item in the file, or run "
                      "`workbench queue clear` to set the file aside and start an empty queue.")


MAX_WHOLE_NUMBER = 10**9  # epochs, batch size, limits: beyond a billion a queued number is a typo or a plant
_FIELD_TYPES = {f.name: str(f.type) for f in dataclasses.fields(TrainConfig)}


def _value_problem(key: str, value: Any) -> str:
    """Why a queued setting has the wrong type or size for its field ("" when it fits)."""
    kind = _FIELD_TYPES.get(key)
    if kind is None or (value is None and kind.endswith("| None")):
        return ""  # unknown keys are ignored by TrainConfig.from_dict; None where None is allowed
    shown = sanitize(json.dumps(value) if isinstance(value, (bool, int, float)) else repr(value), 40)
    if kind.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{key} is {shown}, not a whole number"
        if abs(value) > MAX_WHOLE_NUMBER:
            return f"{key} is {shown}, more than {MAX_WHOLE_NUMBER:,}"
    elif kind.startswith("float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{key} is {shown}, not a number"
        if not math.isfinite(value):
            return f"{key} is {shown}, not a finite number"
    elif kind.startswith("bool") and not isinstance(value, bool):
        return f"{key} is {shown}, not true or false"
    elif kind.startswith("str") and not isinstance(value, str):
        return f"{key} is {shown}, not text"
    elif kind.startswith("dict") and not isinstance(value, dict):
        return f"{key} is {shown}, not an object"
    return ""


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
    problem = next((p for p in (_value_problem(k, v) for k, v in raw["config"].items()) if p), "")
    if problem:
        raise _broken(path, f"{where}'s {problem}")
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


def lock_fd(path: Path, blocking: bool) -> int | None:
    """An fd holding an exclusive flock on ``path``; None when ``blocking`` is False and another holds it."""
    try:
        return _os_lock_fd(path, blocking)
    except OSError as exc:
        raise _unwritable(path.parent, exc) from None


@contextlib.contextmanager
def _editing(path: Path) -> Iterator[None]:
    fd = lock_fd(path.with_name(EDIT_LOCK), blocking=True)  # held only for a read-modify-write: milliseconds
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
        self.set_aside: Path | None = None  # where clear() kept a broken queue file

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

        Also the way out of a broken queue file: it is kept aside as ``queue.json.broken[-N]`` (``set_aside``
        says where) and replaced by an empty queue, so a hand edit gone wrong is never lost.
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
                self.set_aside = self._set_aside()
            new = replace(state, items=tuple(i for i in state.items if keep(i)))
            write_queue(new, self.path)
            return new

    def _set_aside(self) -> Path | None:
        for n in range(1, 1000):
            aside = self.path.with_name(QUEUE_FILE + ".broken" + ("" if n == 1 else f"-{n}"))
            try:
                os.link(self.path, aside)  # never replaces an earlier copy
            except FileExistsError:
                continue
            except OSError as exc:
                raise QueueError(f"The broken queue file {self.path} could not be kept aside "
                                 f"({exc.strerror or exc}), so it was left as it is.") from None
            return aside
        return None

    def set_paused(self, paused: bool) -> QueueState:
        return self._change(lambda s: replace(s, paused=paused))

    def _update(self, item_id: str, **changes: Any) -> QueueState:
        def change(s: QueueState) -> QueueState:
            item = s.item(item_id)
            return s if item is None else _with(s, replace(item, **changes))  # removed meanwhile: nothing to mark
        return self._change(change)


def _with(state: QueueState, item: QueueItem) -> QueueState:
    return replace(state, items=tuple(item if i.id == item.id else i for i in state.items))


def queue_running(path: str | os.PathLike | None = None) -> bool:
    """True while some process (this one included) holds the runner lock of this queue."""
    fd = lock_fd(queue_path(path).with_name(RUN_LOCK), blocking=False)
    if fd is None:
        return True
    os.close(fd)
    return False
