"""Screenshot of one finished run opened on the Training tab (its curves, test figure and probe images), as a
user sees it after double-clicking the run in the Runs tab: the README's first image.

    PYTHONPATH=. .venv/bin/python scripts/run_screenshot.py RUN_DIR OUT.png [--x wall]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="run-shot-home-"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir")
    parser.add_argument("out")
    parser.add_argument("--x", choices=("epoch", "wall"), default="epoch", help="the plots' x axis")
    parser.add_argument("--data-dir", help="where the run's dataset is, so the window finds it")
    args = parser.parse_args()
    from pathlib import Path

    from PySide6.QtWidgets import QApplication

    from workbench.gui.main_window import MainWindow
    from workbench.gui.panels.runs import _read_runs

    app = QApplication.instance() or QApplication(sys.argv)
    if args.data_dir:  # the window looks for CIFAR under KERAS_HOME/datasets: show it the run's files
        home = Path(tempfile.mkdtemp(prefix="run-shot-keras-"))
        (home / "datasets").mkdir()
        for child in Path(args.data_dir).iterdir():
            (home / "datasets" / child.name).symlink_to(child.resolve())
        os.environ["KERAS_HOME"] = str(home)
    window = MainWindow(runs_root=str(Path(args.run_dir).parent))
    window.resize(1280, 720)
    window.show()
    details = _read_runs((args.run_dir,))[0]
    if details.config is not None:
        window.experiment.set_config(details.config)  # the form shows the run's settings, as "Resume" would
    window._on_open_run(details)
    if args.x == "wall":
        from PySide6.QtWidgets import QCheckBox

        next(b for b in window.training.findChildren(QCheckBox) if b.text().startswith("wall time")).setChecked(True)
    import time

    from PySide6.QtWidgets import QLabel

    start = time.monotonic()  # the parameter count starts after a settle timer and runs on a worker thread

    def counting() -> bool:
        return any("counting" in label.text() for label in window.experiment.findChildren(QLabel))

    while time.monotonic() - start < 2 or (counting() and time.monotonic() - start < 30):
        app.processEvents()
        time.sleep(0.05)
    for _ in range(40):
        app.processEvents()
    window.grab().save(args.out)
    print("saved", args.out)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
