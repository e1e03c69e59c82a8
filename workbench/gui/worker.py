"""The training worker: a QThread that supervises the training process and forwards every engine event.

Started through a panel's ``PanelTasks.start_worker`` (workbench/gui/tasks.py), which owns the thread. The
run itself is a child process (``core.training.child``): TensorFlow never loads in the window's process,
a crash or kill -9 of the child leaves the window alive, and its memory is returned when it exits.
Stop is the ``threading.Event`` this thread turns into a stop message (then SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import threading
import traceback
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from workbench.core.training.child import TrainingProcess, start
from workbench.core.training.events import TrainingFailed

TRAINING_NICE = 0  # the training process's niceness; > 0 serves the event loop first when the cores are busy


class TrainingWorker(QObject):
    """Runs ``workbench.core.training.train`` in a child process watched from its thread; each event (and
    ``ChildOutput``, the child's stderr lines) is emitted, queued to GUI-thread receivers, ending with one
    final event."""

    event = Signal(object)

    def __init__(self, config: Any, stop: threading.Event | None = None) -> None:
        super().__init__()
        self.config = config
        self.stop_event = stop or threading.Event()
        self.cancel_event = self.stop_event  # what PanelTasks.cancel sets
        self.process: TrainingProcess | None = None  # set on the worker thread once the child started

    @Slot()
    def run(self) -> None:
        try:
            self.process = start(self.config, nice=TRAINING_NICE)
            for event in self.process.events(self.stop_event):
                self.event.emit(event)
        except BaseException as exc:  # noqa: BLE001 - e.g. the process could not be started; keep the GUI alive
            self.event.emit(
                TrainingFailed(
                    message=f"The training process could not run: {exc}",
                    run_dir=getattr(self.config, "run_dir", None),
                    details="".join(traceback.format_exception(exc)),
                )
            )
        finally:
            QThread.currentThread().quit()
