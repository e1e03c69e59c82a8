"""The window's training runs in a child process: kill -9 of it leaves the window usable and the run resumable;
the window's process never imports TensorFlow for a run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.gui.conftest import LONG, wait_idle
from tests.gui.test_training import _configure
from workbench.core.training.checkpoint import checkpoint_path
from workbench.core.training.child import TrainingProcessDied
from workbench.core.training.events import TrainingFinished

REPO = Path(__file__).resolve().parents[2]


def test_kill_9_of_the_training_process_is_reported_and_the_run_resumes(qtbot, make_window):
    window = make_window()
    _configure(window, epochs=40)
    training = window.training
    with qtbot.waitSignal(training.run_ended, timeout=LONG) as ended:
        window.start_training()
        qtbot.waitUntil(lambda: training.epochs_done >= 1 and training.run_dir is not None
                        and checkpoint_path(training.run_dir).is_file(), timeout=LONG)
        pid = training.worker.process.pid
        os.kill(pid, signal.SIGKILL)
    wait_idle(qtbot, window)
    final = ended.args[0]
    assert isinstance(final, TrainingProcessDied), final
    assert not Path(f"/proc/{pid}").exists()  # reaped, no zombie
    log = training.log_text()
    assert "SIGKILL" in log and "Last lines the training process wrote" in log
    assert "SIGKILL" in training.result_label.text()
    assert window.start_action.isEnabled() and training.start_button.isEnabled()  # ready to start again
    assert training.can_resume() and training.resume_button.isEnabled()
    with qtbot.waitSignal(training.run_ended, timeout=LONG) as resumed:
        training.config = training.config.replace(epochs=final.epochs_completed + 1)  # one more epoch only
        assert training.resume()
    wait_idle(qtbot, window)
    assert isinstance(resumed.args[0], TrainingFinished), resumed.args[0]
    assert resumed.args[0].epochs_completed == final.epochs_completed + 1


_PANEL_ALONE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from workbench.core.training.config import TrainConfig
from workbench.gui.panels.training.panel import TrainingPanel

if __name__ == "__main__":
    app = QApplication([])
    config = TrainConfig(dataset="builtin", arch="embedded_cnn", epochs=1, limit=128, test_limit=32,
                         run_dir=sys.argv[1])
    panel = TrainingPanel(lambda: config)
    panel.running_changed.connect(lambda running: running or QTimer.singleShot(0, app.quit))
    QTimer.singleShot(0, panel.start_from_form)
    QTimer.singleShot(400_000, app.quit)
    app.exec()
    print(type(panel.final_event).__name__, "tensorflow" in sys.modules, "keras" in sys.modules)
    print("log:", "cuInit" in panel.log_text() or "TensorFlow" in panel.log_text())
"""


def test_the_window_process_never_imports_tensorflow_for_a_run(tmp_path):
    script = tmp_path / "panel.py"
    script.write_text(_PANEL_ALONE)
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "run")], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen",
                                           "TF_CPP_MIN_LOG_LEVEL": "2"})  # conftest's level: errors still shown
    lines = out.stdout.splitlines()
    assert lines[:2] == ["TrainingFinished False False", "log: True"], out.stdout + out.stderr[-3000:]
    assert "cuInit" not in out.stderr and "oneDNN" not in out.stderr  # TensorFlow's lines went to the log pane
