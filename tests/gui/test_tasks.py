"""PanelTasks, the one task helper every panel owns: stale results never arrive, progress is sent only
when it changes, idle means every result was delivered, and cancel touches only the panel's own tasks."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal, Slot

from workbench.gui.tasks import PanelTasks

WAIT = 10_000


class Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.got: list = []
        self.progress: list = []

    @Slot(object)
    def on_ok(self, value) -> None:
        self.got.append(value)

    @Slot(object)
    def on_progress(self, value) -> None:
        self.progress.append(value)


def test_a_superseded_task_never_delivers_its_result(qtbot):
    tasks = PanelTasks()
    receiver = Receiver()
    release = threading.Event()
    old = tasks.start(lambda: release.wait(WAIT / 1000) and "old", name="load", on_success=receiver.on_ok)
    new = tasks.start(lambda: "new", name="load", on_success=receiver.on_ok)
    assert old.cancel_event.is_set() and not new.cancel_event.is_set()
    qtbot.waitUntil(lambda: receiver.got == ["new"], timeout=WAIT)
    release.set()  # the old task finishes now, after the new one answered
    qtbot.waitUntil(tasks.is_idle, timeout=WAIT)
    assert receiver.got == ["new"]


def test_tasks_of_other_names_or_started_side_by_side_all_deliver(qtbot):
    tasks = PanelTasks()
    receiver = Receiver()
    tasks.start(lambda: 1, name="a", on_success=receiver.on_ok)
    tasks.start(lambda: 2, name="b", on_success=receiver.on_ok)
    for i in range(3, 6):
        tasks.start(lambda i=i: i, name="batch", supersede=False, on_success=receiver.on_ok)
    qtbot.waitUntil(tasks.is_idle, timeout=WAIT)
    assert sorted(receiver.got) == [1, 2, 3, 4, 5]


def test_idle_only_once_every_result_is_delivered(qtbot):
    tasks = PanelTasks()
    receiver = Receiver()
    for i in range(20):
        tasks.start(lambda i=i: i, name=f"task-{i}", on_success=receiver.on_ok)
    with qtbot.waitSignal(tasks.idle, timeout=WAIT):
        pass
    assert sorted(receiver.got) == list(range(20))


def test_progress_is_sent_only_when_it_changes(qtbot):
    tasks = PanelTasks()
    receiver = Receiver()

    def work(progress):
        for value in [(1, 4), (1, 4), (1, 4), (2, 4), (2, 4), (4, 4)]:
            progress(*value)
        return "done"

    tasks.start(work, name="work", pass_progress=True, on_progress=receiver.on_progress, on_success=receiver.on_ok)
    qtbot.waitUntil(tasks.is_idle, timeout=WAIT)
    assert receiver.progress == [(1, 4), (2, 4), (4, 4)] and receiver.got == ["done"]


class LongWorker(QObject):
    """Stands in for the TrainingWorker: runs until its own stop flag is set."""

    ended = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self.cancel_event = threading.Event()
        self.running = threading.Event()

    @Slot()
    def run(self) -> None:
        from PySide6.QtCore import QThread

        self.running.set()
        self.cancel_event.wait(WAIT / 1000)
        QThread.currentThread().quit()


def test_cancelling_one_panels_tasks_leaves_another_panels_worker_running(qtbot):
    training, classify = PanelTasks(), PanelTasks()
    worker = LongWorker()
    training.start_worker(worker, "training")
    job = classify.start(lambda cancel: cancel.wait(WAIT / 1000), name="classify", pass_cancel=True)
    assert worker.running.wait(WAIT / 1000)
    classify.cancel_all()
    classify.wait_all()
    assert job.cancel_event.is_set()
    assert not worker.cancel_event.is_set() and not training.is_idle()  # the other panel's work goes on
    training.cancel("training")
    qtbot.waitUntil(training.is_idle, timeout=WAIT)
