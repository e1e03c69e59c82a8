"""Drives the real window as a user would, on whatever display QT_QPA_PLATFORM and DISPLAY name (run by
test_real_window.py on Xvfb with the xcb platform): open, train the built-in set, stop after the first
epoch, quit. Prints one JSON line: what happened and the window's frame and screen."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer

from workbench.gui.qt_app import application
from workbench.gui.screenshots import _wait_until


def main(out: str) -> int:
    app = application()
    from workbench.gui.main_window import MainWindow

    work = Path(tempfile.mkdtemp(prefix="real-window-"))
    settings = QSettings(str(work / "gui.ini"), QSettings.Format.IniFormat)
    settings.setValue("experiment/dataset", "builtin")
    window = MainWindow(settings=settings, runs_root=str(work / "runs"))
    window.ask_before_closing = False
    opened = time.monotonic()
    window.show()
    report: dict = {"platform": app.platformName()}
    report["shown"] = _wait_until(lambda: window.isVisible() and window.windowHandle() is not None
                                  and window.windowHandle().isExposed(), 30)
    report["open_s"] = round(time.monotonic() - opened, 2)
    _wait_until(window.browser.is_showing_samples, 120)
    e = window.experiment
    e.set_arch("simple_cnn")
    e.epochs.setValue(3)
    e.batch_size.setValue(64)
    e.limit.setValue(256)
    e.test_limit = 64
    report["started"] = bool(window.start_training())
    report["epoch_done"] = _wait_until(lambda: window.training.epochs_done >= 1, 300)
    window.training.stop()
    report["stopped"] = _wait_until(lambda: not window.training.is_running(), 120)
    report["final"] = type(window.training.final_event).__name__
    _wait_until(lambda: False, 0.5)  # let the window manager settle the frame
    frame, inside = window.frameGeometry(), window.geometry()
    screen = window.screen().geometry()
    report.update(frame=[frame.x(), frame.y(), frame.width(), frame.height()],
                  inside=[inside.x(), inside.y(), inside.width(), inside.height()],
                  screen=[screen.x(), screen.y(), screen.width(), screen.height()],
                  minimum=[window.minimumSizeHint().width(), window.minimumSizeHint().height()])
    window.grab().save(str(Path(out).with_suffix(".png")))
    QTimer.singleShot(0, window.close)
    _wait_until(lambda: not window.isVisible(), 60)
    report["closed"] = not window.isVisible()
    Path(out).write_text(json.dumps(report))
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
