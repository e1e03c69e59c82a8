"""TaskRunner: idle means every task's results have reached their receivers, not just that the
threads have ended (a test or a close that trusted the latter acted on half the results)."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Slot

from workbench.gui.worker import TaskRunner


class Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.got: list[int] = []

    @Slot(object)
    def on_ok(self, value: int) -> None:
        self.got.append(value)


def test_idle_only_once_every_result_is_delivered(qtbot):
    runner = TaskRunner()
    receiver = Receiver()
    for i in range(20):
        runner.run_function(lambda i=i: i, name=f"task-{i}", on_success=receiver.on_ok)
    time.sleep(0.2)  # every thread has ended by now; their results wait in the GUI thread's queue
    assert not runner.is_idle()
    qtbot.waitUntil(runner.is_idle, timeout=10_000)
    assert sorted(receiver.got) == list(range(20))
    assert runner.running_names() == []
