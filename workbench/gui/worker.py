"""The thread bridge: run core functions off the GUI thread and bring results back as queued signals.

Rules kept here:
- every worker is a QObject moved to its own QThread; its ``run`` slot runs in that thread;
- receivers are ``@Slot`` methods of QObjects living on the GUI thread (never lambdas), so every
  delivery is queued and an ``emit`` in the worker never waits on the GUI;
- payloads are plain immutable data (frozen dataclasses, floats, copied arrays, paths);
- cancellation is a ``threading.Event`` read by the core, never a queued slot;
- a running QThread is always referenced (``TaskRunner`` keeps it until ``finished``).
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


def _error_from(exc: BaseException) -> TaskError:
    message = str(exc) or exc.__class__.__name__
    return TaskError(
        message=message,
        kind=type(exc).__name__,
        kinds=tuple(c.__name__ for c in type(exc).__mro__),
        details="".join(traceback.format_exception(exc)),
    )


class FunctionWorker(QObject):
    """Runs ``fn(*args, progress=..., cancel=..., **kwargs)`` once in its thread.

    ``progress`` (when requested with ``pass_progress=True``) may be called from the function with any
    plain value; it is forwarded as the ``progress`` signal. ``cancel`` is a threading.Event.
    """

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)  # TaskError
    done = Signal()  # after succeeded/failed, always

    def __init__(
        self,
        fn: Callable[..., Any],
        *args: Any,
        pass_progress: bool = False,
        pass_cancel: bool = False,
        cancel: threading.Event | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self.cancel_event = cancel or threading.Event()
        if pass_progress:
            self._kwargs["progress"] = self._report
        if pass_cancel:
            self._kwargs["cancel"] = self.cancel_event

    def _report(self, *value: Any) -> None:
        self.progress.emit(value[0] if len(value) == 1 else tuple(value))

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(*self._args, **self._kwargs)
        except BaseException as exc:  # noqa: BLE001 - everything becomes a readable failure
            self.failed.emit(_error_from(exc))
        else:
            self.succeeded.emit(result)
        finally:
            self.done.emit()
            QThread.currentThread().quit()


class TrainingWorker(QObject):
    """Runs ``workbench.core.training.train`` in its thread and forwards every engine event.

    The engine calls ``on_event`` in this thread; the emit is queued to GUI-thread receivers.
    """

    event = Signal(object)
    done = Signal()

    def __init__(self, config: Any, stop: threading.Event | None = None) -> None:
        super().__init__()
        self.config = config
        self.stop_event = stop or threading.Event()
        self.cancel_event = self.stop_event

    def _on_event(self, event: Any) -> None:
        self.event.emit(event)

    @Slot()
    def run(self) -> None:
        try:
            # Imported here: the engine (and TensorFlow) load on this thread, never on the GUI thread.
            from workbench.core.training import train

            train(self.config, on_event=self._on_event, stop=self.stop_event)  # emits its final event itself
        except BaseException as exc:  # noqa: BLE001 - the engine should not raise; keep the GUI alive anyway
            from workbench.core.training.events import TrainingFailed

            self.event.emit(
                TrainingFailed(
                    message=f"Training crashed: {exc}",
                    run_dir=getattr(self.config, "run_dir", None),
                    details="".join(traceback.format_exception(exc)),
                )
            )
        finally:
            self.done.emit()
            QThread.currentThread().quit()


class TaskRunner(QObject):
    """Owns worker threads: starts them, keeps them referenced while running, cleans up after.

    ``idle`` is emitted (on the GUI thread) when the last running task has finished.
    """

    idle = Signal()
    task_finished = Signal(str)  # the task's name

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[QThread, tuple[QObject, str]] = {}

    def start(self, worker: QObject, name: str = "task", on_thread_finished: Callable[[], None] | None = None) -> QThread:
        """Move ``worker`` to a new thread and start it. ``on_thread_finished`` (a GUI-thread @Slot)
        is connected before the start, so it cannot be missed."""
        thread = QThread()
        thread.setObjectName(f"workbench-{name}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        thread.finished.connect(self._on_thread_finished)
        if on_thread_finished is not None:
            thread.finished.connect(on_thread_finished)
        self._running[thread] = (worker, name)
        thread.start()
        return thread

    def run_function(
        self,
        fn: Callable[..., Any],
        *args: Any,
        name: str = "task",
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[Any], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        **kwargs: Any,
    ) -> FunctionWorker:
        """Run ``fn`` in a new thread. The ``on_*`` receivers must be @Slot methods of GUI-thread QObjects;
        they are connected before the thread starts, so no result can be missed."""
        worker = FunctionWorker(fn, *args, **kwargs)
        if on_success is not None:
            worker.succeeded.connect(on_success)
        if on_failure is not None:
            worker.failed.connect(on_failure)
        if on_progress is not None:
            worker.progress.connect(on_progress)
        self.start(worker, name)
        return worker

    @Slot()
    def _on_thread_finished(self) -> None:
        # Queued after everything the worker emitted, so by now its results have been delivered:
        # only here does the task stop counting as running (is_idle then means "all results in").
        sender = self.sender()
        if isinstance(sender, QThread) and sender in self._running:
            sender.wait()  # `finished` is emitted just before the thread ends; let it end
            _worker, name = self._running.pop(sender)
            self.task_finished.emit(name)
        if not self._running:
            self.idle.emit()

    def is_idle(self) -> bool:
        """No task running and every finished task's results delivered to their receivers."""
        return not self._running

    def running_names(self) -> list[str]:
        return [name for _, name in self._running.values()]

    def cancel_all(self) -> None:
        for worker, _ in self._running.values():
            event = getattr(worker, "cancel_event", None)
            if event is not None:
                event.set()

    def wait_all(self, timeout_ms: int = 60_000) -> bool:
        """Block until every thread ended (used only when the application is going away)."""
        ok = True
        for thread in list(self._running):
            ok = thread.wait(timeout_ms) and ok
        for thread in [t for t in self._running if t.isFinished()]:  # results no longer wanted
            _worker, name = self._running.pop(thread)
            self.task_finished.emit(name)
        if not self._running:
            self.idle.emit()
        return ok
