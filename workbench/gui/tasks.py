"""One panel's background tasks: run plain functions off the GUI thread, results back as queued signals.

Modelled on Orange3's ``ConcurrentMixin`` (``Orange/widgets/utils/concurrent.py``):
- every panel owns one ``PanelTasks``; cancelling it touches only that panel's tasks (a shared runner
  once let the Classify panel's close set the training stop flag);
- ``start(name, ...)`` cancels and disconnects the running task of the same name first, so a stale
  result of a superseded task never reaches the panel (one rule here, not one per panel);
- progress is forwarded only when it changed;
- a worker is a QObject moved to its own QThread; receivers are reached through this GUI-thread
  QObject's @Slot methods, so every delivery is queued and an ``emit`` in the worker never waits;
- cancellation is a ``threading.Event`` the function reads, never a queued slot (the worker's event
  loop is busy inside the function);
- a running QThread stays referenced here until its ``finished`` has been handled.
"""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot


@dataclass(frozen=True)
class TaskError:
    """A failure that crossed the thread boundary: readable text plus what kind it was."""

    message: str
    kind: str  # exception class name, e.g. "DatasetNotFound"
    kinds: tuple[str, ...] = ()  # names of all classes in the exception's MRO (for isinstance-like checks)
    details: str = ""  # traceback, for logs only

    def is_a(self, name: str) -> bool:
        return name == self.kind or name in self.kinds


def error_from(exc: BaseException) -> TaskError:
    message = str(exc) or exc.__class__.__name__
    return TaskError(
        message=message,
        kind=type(exc).__name__,
        kinds=tuple(c.__name__ for c in type(exc).__mro__),
        details="".join(traceback.format_exception(exc)),
    )


_UNSET = object()


class FunctionWorker(QObject):
    """Runs ``fn(*args, progress=..., cancel=..., **kwargs)`` once in its thread.

    ``progress`` (with ``pass_progress=True``) may be called with any plain value; a value equal to the
    last one is not sent again. ``cancel`` (with ``pass_cancel=True``) is a threading.Event.
    """

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)  # TaskError

    def __init__(self, fn: Callable[..., Any], *args: Any, pass_progress: bool = False,
                 pass_cancel: bool = False, **kwargs: Any) -> None:
        super().__init__()
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._last_progress: Any = _UNSET
        self.cancel_event = threading.Event()
        if pass_progress:
            self._kwargs["progress"] = self._report
        if pass_cancel:
            self._kwargs["cancel"] = self.cancel_event

    def _report(self, *value: Any) -> None:
        value = value[0] if len(value) == 1 else tuple(value)
        try:
            same = bool(value == self._last_progress)
        except (TypeError, ValueError):  # e.g. arrays: no single truth value, so always send
            same = False
        if not same:
            self._last_progress = value
            self.progress.emit(value)

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(*self._args, **self._kwargs)
        except BaseException as exc:  # noqa: BLE001 - everything becomes a readable failure
            self.failed.emit(error_from(exc))
        else:
            self.succeeded.emit(result)
        finally:
            QThread.currentThread().quit()


@dataclass(eq=False)
class _Task:
    name: str
    worker: QObject
    thread: QThread
    on_success: Callable[[Any], None] | None = None
    on_failure: Callable[[Any], None] | None = None
    on_progress: Callable[[Any], None] | None = None
    current: bool = True  # False once answered, superseded or cancelled: later signals are dropped


class PanelTasks(QObject):
    """The background tasks of one panel.

    ``start(fn, ..., name=...)`` runs ``fn`` on a new thread and supersedes a running task of that name;
    ``cancel(name)`` / ``cancel_all()`` set only these tasks' cancel flags and drop their results;
    ``is_idle()`` is true once every started thread has ended *and* its results were delivered.
    Signals: ``task_finished(name)`` after a task's thread ended, ``idle`` when the last one did.
    """

    idle = Signal()
    task_finished = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: dict[QThread, _Task] = {}

    # ---- starting ---------------------------------------------------------------------------------
    def start(self, fn: Callable[..., Any], *args: Any, name: str = "task",
              on_success: Callable[[Any], None] | None = None,
              on_failure: Callable[[Any], None] | None = None,
              on_progress: Callable[[Any], None] | None = None,
              pass_progress: bool = False, pass_cancel: bool = False, supersede: bool = True,
              **kwargs: Any) -> FunctionWorker:
        """Run ``fn(*args, **kwargs)`` on a new thread; the ``on_*`` callbacks are called on the GUI thread
        while the task is wanted. ``supersede=False`` lets tasks of one name run side by side (batches that
        add up); ``cancel(name)`` still stops them all."""
        worker = FunctionWorker(fn, *args, pass_progress=pass_progress, pass_cancel=pass_cancel, **kwargs)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.progress.connect(self._on_progress)
        self._launch(worker, name, on_success, on_failure, on_progress, supersede)
        return worker

    def start_worker(self, worker: QObject, name: str) -> QThread:
        """Run a QObject worker with a ``run`` slot and a ``cancel_event`` (e.g. the TrainingWorker) on a new
        thread; its own signals go to receivers the caller connected (GUI-thread @Slot methods)."""
        return self._launch(worker, name, None, None, None, True)

    def _launch(self, worker: QObject, name: str, on_success, on_failure, on_progress, supersede: bool) -> QThread:
        if supersede:
            self.cancel(name)  # the previous task of this name is stale from now on
        thread = QThread()
        thread.setObjectName(f"workbench-{name}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        thread.finished.connect(self._on_thread_finished)
        self._tasks[thread] = _Task(name, worker, thread, on_success, on_failure, on_progress)
        thread.start()
        return thread

    # ---- results (queued from the worker threads) -------------------------------------------------
    def _task_of(self, worker: object) -> _Task | None:
        for task in self._tasks.values():
            if task.worker is worker:
                return task if task.current else None
        return None

    @Slot(object)
    def _on_succeeded(self, result: object) -> None:
        task = self._task_of(self.sender())
        if task is not None:
            task.current = False  # answered: no longer "running" for the panel
            if task.on_success is not None:
                task.on_success(result)

    @Slot(object)
    def _on_failed(self, error: object) -> None:
        task = self._task_of(self.sender())
        if task is not None:
            task.current = False
            if task.on_failure is not None:
                task.on_failure(error)

    @Slot(object)
    def _on_progress(self, value: object) -> None:
        task = self._task_of(self.sender())
        if task is not None and task.on_progress is not None:
            task.on_progress(value)

    @Slot()
    def _on_thread_finished(self) -> None:
        # Queued after everything the worker emitted, so by now its results have been delivered.
        thread = self.sender()
        task = self._tasks.pop(thread, None) if isinstance(thread, QThread) else None
        if task is not None:
            thread.wait()  # `finished` comes just before the thread ends; let it end
            self.task_finished.emit(task.name)
        if not self._tasks:
            self.idle.emit()

    # ---- cancelling and waiting -------------------------------------------------------------------
    def cancel(self, name: str | None = None) -> None:
        """Ask this panel's running task called ``name`` (all of them with None) to stop, and drop its results."""
        for task in self._tasks.values():
            if name is None or task.name == name:
                if task.current:
                    task.current = False
                    _disconnect(task.worker)
                event = getattr(task.worker, "cancel_event", None)
                if event is not None:
                    event.set()

    def cancel_all(self) -> None:
        self.cancel(None)

    def is_running(self, name: str) -> bool:
        """A task called ``name`` is running whose answer is still wanted and has not arrived."""
        return any(t.name == name and t.current for t in self._tasks.values())

    def is_idle(self) -> bool:
        """No task running and every finished task's results delivered."""
        return not self._tasks

    def wait_all(self, timeout_ms: int = 60_000) -> bool:
        """Block until every thread ended (only when the panel or application is going away)."""
        ok = True
        for thread in list(self._tasks):
            ok = thread.wait(timeout_ms) and ok
        for thread in [t for t in self._tasks if t.isFinished()]:  # results no longer wanted
            self.task_finished.emit(self._tasks.pop(thread).name)
        if not self._tasks:
            self.idle.emit()
        return ok


def _disconnect(worker: QObject) -> None:
    for signal in ("succeeded", "failed", "progress"):
        try:
            getattr(worker, signal).disconnect()
        except (AttributeError, RuntimeError, TypeError):  # not a FunctionWorker, or nothing connected
            pass
