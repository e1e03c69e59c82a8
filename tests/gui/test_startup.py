"""The window comes up fast, without TensorFlow, and every panel opens on its own."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_window_shown_without_tensorflow(tmp_path):
    script = textwrap.dedent(
        """
        import json, sys, time
        t0 = time.perf_counter()
        from workbench.gui.app import application
        app = application()
        from workbench.gui.main_window import MainWindow
        window = MainWindow()
        window.show()
        shown = time.perf_counter() - t0
        print(json.dumps({"tf": "tensorflow" in sys.modules, "keras": "keras" in sys.modules,
                          "visible": window.isVisible(), "seconds": shown,
                          "icon": not window.windowIcon().isNull(),
                          "icon_sizes": sorted(s.width() for s in window.windowIcon().availableSizes()),
                          "style": app.styleSheet(), "desktop": app.desktopFileName()}), flush=True)
        app.processEvents()  # background work (and TensorFlow, on a worker) may start now
        window.shutdown()
        """
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", WORKBENCH_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["visible"]
    assert result["icon"] and result["icon_sizes"] == [48, 128, 256]  # resources/cifar-workbench-*.png
    assert result["style"] == (ROOT / "resources" / "style.qss").read_text(encoding="utf-8")
    assert result["desktop"] == "cifar-workbench"  # resources/cifar-workbench.desktop
    assert result["tf"] is False and result["keras"] is False
    assert result["seconds"] < 6.0  # 2 s on an idle machine; the test box is shared


def test_gui_sources_never_import_tensorflow():
    for path in (ROOT / "workbench" / "gui").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith(("import tensorflow", "from tensorflow", "import tf_keras")):
                pytest.fail(f"{path} imports TensorFlow: {stripped}")


@pytest.mark.parametrize(
    "module, cls",
    [
        ("workbench.gui.panels.experiment.panel", "ExperimentPanel"),
        ("workbench.gui.panels.dataset_browser.panel", "DatasetBrowserPanel"),
        ("workbench.gui.panels.model_view", "ModelViewPanel"),
        ("workbench.gui.panels.training", "TrainingPanel"),
        ("workbench.gui.panels.runs", "RunsPanel"),
    ],
)
def test_every_panel_opens_on_its_own(qtbot, module, cls):
    panel = getattr(importlib.import_module(module), cls)()
    qtbot.addWidget(panel)
    panel.show()
    assert panel.isVisible()


def test_settings_are_remembered(qtbot, make_window, gui_settings):
    window = make_window()
    window.experiment.epochs.setValue(7)
    window.experiment.learning_rate.setValue(0.0005)
    window.experiment.augment.setChecked(True)
    window.experiment.set_arch("resnet20")
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    again = make_window(settings=gui_settings, dataset=None)
    assert again.experiment.epochs.value() == 7
    assert abs(again.experiment.learning_rate.value() - 0.0005) < 1e-9
    assert again.experiment.augment.isChecked()
    assert again.experiment.arch_name() == "resnet20"


def test_defaults_follow_the_report(qtbot):
    from workbench.gui.panels.experiment.panel import ExperimentPanel

    panel = ExperimentPanel()
    qtbot.addWidget(panel)
    config = panel.config()
    assert (config.epochs, config.batch_size, config.optimizer, config.learning_rate, config.val_split) == (
        30, 256, "adam", 1e-3, 0.2)
    assert json.dumps(config.to_dict())  # plain data


def test_status_bar_says_which_device_trains_and_why(qtbot, make_window):
    window = make_window(count_params=True)  # background TensorFlow work allowed
    qtbot.waitUntil(lambda: window.status.device_report is not None, timeout=300_000)
    qtbot.waitUntil(window.is_idle, timeout=300_000)
    assert window.device_label.text() == window.status.device_report.description + " · no GPU"
    assert "CUDA_VISIBLE_DEVICES" in window.device_label.toolTip()  # tests hide the GPU
