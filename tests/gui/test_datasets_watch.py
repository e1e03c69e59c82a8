"""The window notices datasets added or removed elsewhere (`python main.py datasets add` in a terminal):
the dataset lists follow datasets.json, keeping the current choice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.core.folder_fixtures import class_tree
from tests.core.user_fixtures import user_home  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _ids(combo):
    return [combo.itemData(i) for i in range(combo.count())]


def test_a_dataset_added_from_the_command_line_appears_and_the_choice_stays(qtbot, make_window, user_home,
                                                                             tmp_path):
    window = make_window()
    window.experiment.set_dataset("builtin")
    combos = (window.experiment.dataset_combo, window.evaluate.dataset_combo, window.classify.dataset_combo)
    assert all("garden" not in _ids(c) for c in combos)
    photos = class_tree(tmp_path / "photos", {"rose": 4, "tulip": 4})
    with qtbot.waitSignal(window.datasets_watch.changed, timeout=30_000):
        _cli("datasets", "add", "garden", photos)
    assert all("garden" in _ids(c) for c in combos)
    assert window.experiment.dataset_id() == "builtin"  # the user's choice is kept
    with qtbot.waitSignal(window.datasets_watch.changed, timeout=30_000):
        _cli("datasets", "remove", "garden")
    assert all("garden" not in _ids(c) for c in combos)
    assert window.experiment.dataset_id() == "builtin"
