"""The training worker: runs the core's ``train`` on its own QThread and forwards every engine event.

Started through a panel's ``PanelTasks.start_worker`` (workbench/gui/tasks.py), which owns the thread.
Stop is the ``threading.Event`` the engine reads after every batch, never a queued slot.
"""

from __future__ import annotations

import threading
import traceback
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot


class TrainingWorker(QObject):
    """Runs ``workbench.core.training.train`` in its thread; the engine calls ``_on_event`` there and the
    emit is queued to GUI-thread receivers."""

    event = Signal(object)

    def __init__(self, config: Any, stop: threading.Event | None = None) -> None:
        super().__init__()
        self.config = config
        self.stop_event = stop or threading.Event()
        self.cancel_event = self.stop_event  # what PanelTasks.cancel sets

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
            QThread.currentThread().quit()
