"""Reference cycles are collected in the GUI thread only: a worker thread's allocations never start a collection
that would destroy Qt objects off the GUI thread (a deadlock of Qt's destructor against the GIL)."""

from __future__ import annotations

import gc
import threading

from workbench.gui.qt_app import application, collect_in_gui_thread


class _Cycle:
    def __init__(self, where: list[bool]) -> None:
        self.me = self  # garbage only the cycle collector frees
        self.where = where

    def __del__(self) -> None:
        self.where.append(threading.current_thread() is threading.main_thread())


def test_a_worker_thread_s_cycles_are_collected_in_the_gui_thread(qtbot):
    assert application() is not None and collect_in_gui_thread() is collect_in_gui_thread()  # one collector
    assert not gc.isenabled()
    where: list[bool] = []
    # Far past the collector's first threshold (700 allocations): automatic collection would run in the worker.
    def make_garbage() -> None:
        for _ in range(5000):
            _Cycle(where)  # unreachable at once: automatic collection would free it in this thread

    worker = threading.Thread(target=make_garbage)
    worker.start()
    worker.join()
    assert where == []  # nothing collected in the worker
    qtbot.waitUntil(lambda: len(where) == 5000, timeout=10_000)  # the GUI thread's timer collected them all
    assert all(where)
