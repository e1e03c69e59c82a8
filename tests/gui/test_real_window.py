"""The window on a real X display (Xvfb, 1280×720, Qt's xcb platform; a window manager when one is installed):
it opens, trains one epoch of the built-in set, stops and quits cleanly, and its frame fits the screen —
what offscreen rendering cannot show (the xcb libraries, real window sizes). `.ci/run` installs Xvfb."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCREEN = (1280, 720)

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None,
                                reason="Xvfb is not installed (`.ci/run` installs it: apt-get install xvfb)")


@pytest.fixture
def x_display(tmp_path):
    """A fresh Xvfb on a free display number (it picks one and says which with -displayfd)."""
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                               "-nolisten", "tcp"], pass_fds=(write,), stdout=subprocess.DEVNULL,
                              stderr=open(tmp_path / "xvfb.log", "wb"))
    os.close(write)
    with os.fdopen(read) as answer:
        number = answer.readline().strip()
    assert number, f"Xvfb did not start: {(tmp_path / 'xvfb.log').read_text()}"
    env = {**os.environ, "DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb"}
    manager = None
    if shutil.which("openbox"):  # real frames (title bar, borders) when a window manager is there
        manager = subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield env
    for process in (manager, server):
        if process is not None:
            process.terminate()
            process.wait(10)


def test_the_window_trains_stops_and_quits_on_a_real_display_and_fits_it(x_display, tmp_path):
    out = tmp_path / "report.json"
    env = {**x_display, "PYTHONPATH": str(REPO), "WORKBENCH_HOME": str(tmp_path / "home"),
           "WORKBENCH_CACHE": str(tmp_path / "cache"), "KERAS_HOME": str(tmp_path / "keras")}
    done = subprocess.run([sys.executable, str(REPO / "tests" / "gui" / "real_window_driver.py"), str(out)],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    print(report)
    assert report["platform"] == "xcb" and report["shown"]
    assert report["started"] and report["epoch_done"] and report["stopped"], report
    assert report["final"] in ("TrainingStopped", "TrainingFinished"), report
    assert report["closed"]
    x, y, width, height = report["frame"]
    assert report["screen"] == [0, 0, *SCREEN]
    assert x >= 0 and y >= 0 and x + width <= SCREEN[0] and y + height <= SCREEN[1], report
