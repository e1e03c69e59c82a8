"""Every panel's stand-alone entry point (``python -m workbench.gui.panels.<name>``) starts, shows its
window and ends cleanly (pyqtgraph's habit: examples that run are tested, or they rot)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.gui.standalone import QUIT_ENV

ROOT = Path(__file__).resolve().parents[2]
PANELS = ["dataset_browser", "experiment", "model_view", "runs", "training", "classify", "evaluate", "lr_finder",
          "layers_view", "embedding_map"]


@pytest.mark.parametrize("panel", PANELS)
def test_panel_entry_point_opens_and_closes(panel, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", WORKBENCH_HOME=str(tmp_path / "home"))
    env[QUIT_ENV] = "500"  # closes the window half a second after it is shown
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-m", f"workbench.gui.panels.{panel}"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    # The window really opened, at the asked width; a tall form may make it taller than asked.
    shown = re.search(r"shown (\d+)x(\d+), closed after 500 ms", out.stdout)
    assert shown and int(shown[1]) == 1100 and int(shown[2]) >= 750, out.stdout
