"""Screenshot of the Queue tab's report table, filled from the run folders under RUNS_ROOT (real runs).

    WORKBENCH_HOME=/tmp/shot-home PYTHONPATH=. .venv/bin/python scripts/report_table_screenshot.py \
        RUNS_ROOT docs/screenshots/32-report-table.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="report-shot-home-"))  # the user's queue untouched


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs_root")
    parser.add_argument("out")
    parser.add_argument("--size", default="1280x720", help="window size, WxH")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    from PySide6.QtWidgets import QApplication

    from workbench.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow(runs_root=args.runs_root)
    window.resize(width, height)
    window.show()
    window.tabs.setCurrentWidget(window.queue)  # its first showing reads the run folders on a worker
    deadline = time.monotonic() + 60
    while not window.queue.report.rowCount():  # a table that never fills says so instead of spinning for good
        if time.monotonic() > deadline:
            print(f"the report table did not fill from {args.runs_root} within 60 s", file=sys.stderr)
            os._exit(1)
        app.processEvents()
    for _ in range(20):
        app.processEvents()
    window.grab().save(args.out)
    rows = window.queue.report.rowCount()
    window.queue.tasks.wait_all(5000)
    print("saved", args.out, rows, "rows")
    os._exit(0)  # no teardown: the window's workers are done and the picture is written


if __name__ == "__main__":
    sys.exit(main())
