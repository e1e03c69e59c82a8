"""One panel in its own window (``python -m workbench.gui.panels.<name>``), for a look without the rest.

WORKBENCH_PANEL_QUIT_MS (optional) closes the window after that many milliseconds and says so on stdout,
so a test can launch every panel's entry point and see it open and end cleanly.
"""

from __future__ import annotations

import os
import sys
from typing import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from workbench.gui.qt_app import application

QUIT_ENV = "WORKBENCH_PANEL_QUIT_MS"


def run_panel(factory: Callable[[], QWidget], title: str) -> int:
    """Show ``factory()`` as a window until it is closed; its background tasks are stopped and waited for."""
    from workbench.gui.display_check import display_problem

    problem = display_problem()  # before QApplication, which would abort the process with Qt's own text
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    app = application()
    panel = factory()
    panel.setWindowTitle(f"CIFAR Workbench — {title}")
    panel.resize(1100, 750)
    panel.show()
    quit_ms = os.environ.get(QUIT_ENV, "")
    if quit_ms.isdigit():
        QTimer.singleShot(int(quit_ms), panel.close)
    code = app.exec()
    if quit_ms.isdigit():
        print(f"{title}: shown {panel.width()}x{panel.height()}, closed after {quit_ms} ms", flush=True)
    stop = getattr(panel, "stop", None)
    if callable(stop):
        stop()  # a training panel: stop the run (its model so far is saved)
    tasks = getattr(panel, "tasks", None)
    if tasks is not None:
        tasks.cancel_all()
        tasks.wait_all()
    return code
