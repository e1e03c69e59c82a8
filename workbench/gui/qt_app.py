"""The QApplication: created once, with the workbench style sheet and icon (used by the window and by every
stand-alone panel, so it sits below both)."""

from __future__ import annotations

import gc
import os
import sys
from typing import Any, Sequence

from PySide6.QtWidgets import QApplication

from workbench.gui.resources import ICON_NAME, app_icon, stylesheet


def application(argv: Sequence[str] | None = None) -> QApplication:
    """The running QApplication, created (with the workbench style sheet and icon) if there is none.

    WORKBENCH_GIL_SWITCH_MS (optional) sets the interpreter's GIL switch interval. Python's 5 ms is
    kept by default: 1 ms cut GUI latency a little but cost ~20 % training throughput (measured on
    2 CPUs with benchmarks/bench_gui.py), and 5 ms already meets the latency target.
    """
    ms = os.environ.get("WORKBENCH_GIL_SWITCH_MS")
    try:
        interval = float(ms) / 1000.0 if ms else 0.0
    except ValueError:
        interval = 0.0
    if interval > 0:
        sys.setswitchinterval(interval)
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv else sys.argv[:1])
        app.setApplicationName("CIFAR Workbench")
        app.setOrganizationName("cifar-workbench")
        app.setDesktopFileName(ICON_NAME)  # Wayland matches the window to resources/cifar-workbench.desktop
        app.setWindowIcon(app_icon())  # every window's icon, the main window's included
        app.setStyleSheet(stylesheet())
        collect_in_gui_thread()
    return app  # type: ignore[return-value]


_collector: list[Any] = []  # the one GUI-thread collector, kept alive


def collect_in_gui_thread() -> Any:
    """Python's cycle collector, run on a timer in the GUI thread only (pyqtgraph's GarbageCollector).

    Left automatic, a collection starts in whichever thread allocates: a worker (an export, an evaluation)
    then destroys the Qt objects of a widget's reference cycle off the GUI thread, and Qt's destructor and
    the GIL wait on each other — a frozen window (seen: the export worker in tf2onnx against the GUI
    thread's deferred deletion). Idempotent; ``stop_collecting_in_gui_thread`` undoes it (tests).
    """
    if not _collector:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _collector.append(GarbageCollector(interval=1.0))
    return _collector[0]


def stop_collecting_in_gui_thread() -> None:
    """Automatic collection again, after a last collection here (in the GUI thread)."""
    while _collector:
        _collector.pop().timer.stop()
    gc.collect()
    gc.enable()
