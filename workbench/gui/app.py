"""Application entry: ``main()`` creates the QApplication and shows the MainWindow.

TensorFlow is not imported here: the window is on screen before any worker loads it.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Sequence

from PySide6.QtWidgets import QApplication, QWidget

from workbench.gui.resources import stylesheet


def application(argv: Sequence[str] | None = None) -> QApplication:
    """The running QApplication, created (with the workbench style sheet) if there is none.

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
        app.setStyleSheet(stylesheet())
    return app  # type: ignore[return-value]


def main(argv: Sequence[str] | None = None) -> int:
    app = application(argv)
    from workbench.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    return app.exec()


def run_panel(factory: Callable[[], QWidget], title: str) -> int:
    """Open one panel in its own window (``python -m workbench.gui.panels.<name>``)."""
    app = application()
    panel = factory()
    panel.setWindowTitle(f"CIFAR Workbench — {title}")
    panel.resize(1100, 750)
    panel.show()
    code = app.exec()
    runner = getattr(panel, "runner", None)
    if runner is not None:
        runner.cancel_all()
        runner.wait_all()
    stop = getattr(panel, "stop", None)
    if callable(stop) and getattr(panel, "is_running", lambda: False)():
        stop()
        panel.wait_for_thread()
    return code


if __name__ == "__main__":
    sys.exit(main())
