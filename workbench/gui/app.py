"""Application entry: ``main()`` creates the QApplication and shows the MainWindow.

TensorFlow is not imported here: the window is on screen before any worker loads it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Sequence

from PySide6.QtWidgets import QApplication, QWidget

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def stylesheet() -> str:
    try:
        return (RESOURCES / "style.qss").read_text(encoding="utf-8")
    except OSError:
        return ""


GIL_SWITCH_INTERVAL_S = 0.001


def application(argv: Sequence[str] | None = None) -> QApplication:
    """The running QApplication, created (with the workbench style sheet) if there is none.

    Also shortens the interpreter's GIL switch interval (5 ms by default): Keras' Python code on the
    training thread then hands the GIL back sooner, so the GUI thread's timers and repaints are not
    kept waiting. Set WORKBENCH_GIL_SWITCH_MS to change it (0 keeps Python's default).
    """
    ms = os.environ.get("WORKBENCH_GIL_SWITCH_MS")
    try:
        interval = GIL_SWITCH_INTERVAL_S if ms is None else float(ms) / 1000.0
    except ValueError:
        interval = GIL_SWITCH_INTERVAL_S
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
