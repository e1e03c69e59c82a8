"""GUI test helpers: a fresh MainWindow per test, and a guard that fails any test leaving a QThread running.

The guard follows napari's ``_dangling_qthreads``: every QThread started during the test is recorded
and must have finished when the test (and pytest-qt's widget cleanup) is over.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QThread

from workbench.gui.settings import settings_path

LONG = 300_000  # ms; TensorFlow's first import on a busy 2-core machine is slow
LOAD_TIMEOUT = LONG
SHOTS = Path(os.environ.get("WORKBENCH_PANEL_SHOTS", "/tmp/panels"))  # screenshots for a human look


def save_shot(widget, name: str) -> bool:
    """Save a screenshot of ``widget`` into SHOTS, after pending layout requests have run."""
    from PySide6.QtWidgets import QApplication

    SHOTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()
    return widget.grab().save(str(SHOTS / name))


def _alive(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # the C++ object is already gone, so the thread is too
        return False


@pytest.fixture(autouse=True)
def _dangling_qthreads(monkeypatch, qapp):
    started: list[QThread] = []
    original = QThread.start

    def recording_start(self, *args, **kwargs):
        started.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", recording_start)
    yield
    dangling = [t for t in started if _alive(t)]
    names = [t.objectName() for t in dangling]
    for t in dangling:  # do not let the next test inherit them
        t.wait(LONG)
    if dangling:
        pytest.fail(f"The test left {len(dangling)} QThread(s) running: {names}")


def wait_idle(qtbot, window, timeout: int = LONG) -> None:
    """Wait until the window has no training run and no background task."""
    qtbot.waitUntil(lambda: not window.training.is_running() and window.is_idle(), timeout=timeout)


@pytest.fixture
def gui_settings(tmp_path):
    return QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, tmp_path, gui_settings):
    """Factory: ``make_window(count_params=False)`` -> a shown MainWindow whose background work started."""
    from workbench.gui.main_window import MainWindow

    windows = []

    def make(count_params: bool = False, settings: QSettings | None = None, dataset: str | None = "builtin",
             data_dir: str | None = None) -> MainWindow:
        s = settings if settings is not None else gui_settings
        if dataset is not None:
            s.setValue("experiment/dataset", dataset)
        if data_dir is not None:
            s.setValue("experiment/data_dir", data_dir)
        window = MainWindow(settings=s, runs_root=str(tmp_path / "runs"), count_params=count_params)
        window.ask_before_closing = False
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.background_started, timeout=10_000):
            window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        try:
            window.shutdown()
        except RuntimeError:
            pass


def assert_settings_sandboxed() -> None:
    assert "workbench-tests-" in str(settings_path())
