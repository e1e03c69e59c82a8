"""The sweep view: a fixture sweep folder shown as a setting -> result scatter and a ranked table."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gui.sweep_fixtures import write_fixture_sweep
from workbench.gui.panels.sweep_view import SweepView
from workbench.gui.standalone import QUIT_ENV

ROOT = Path(__file__).resolve().parents[2]


def test_scatter_uses_a_log_axis_for_log_settings_and_words_for_choices(qtbot, tmp_path):
    folder = write_fixture_sweep(tmp_path / "lr-sweep")
    view = SweepView()
    qtbot.addWidget(view)
    assert view.load(folder)
    assert view.setting.currentData() == "optimizer"  # first varied setting
    assert [x for x, _, _ in view.scatter.shown] and {x for x, _, _ in view.scatter.shown} == {0.0, 1.0}
    assert view.scatter.getAxis("bottom").labelText == "optimizer"
    view.setting.setCurrentIndex(view.setting.findData("learning_rate"))
    assert "log" in view.setting.currentText()
    assert view.scatter.getPlotItem().ctrl.logXCheck.isChecked()  # the axis itself is logarithmic
    assert len(view.scatter.shown) == 13  # 14 trials, the failed one has no result to place
    best = max(view.scatter.shown, key=lambda p: p[1])
    assert view.table.item(0, 1).text() == best[2]  # the table's first row is the best trial
    assert view.table.item(0, 0).text() == "1"
    ranks = [float(view.table.item(r, 2).text().rstrip(" %")) for r in range(12)]
    assert ranks == sorted(ranks, reverse=True)
    view.result.setCurrentIndex(view.result.findData("test_top1"))
    assert len(view.scatter.shown) == sum(1 for r in range(14) if view.table.item(r, 6).text() == "finished")
    assert all(math.isfinite(y) for _, y, _ in view.scatter.shown)


def test_a_folder_without_a_sweep_says_so(qtbot, tmp_path):
    view = SweepView()
    qtbot.addWidget(view)
    assert not view.load(tmp_path)
    assert "sweep.json cannot be read" in view.title.text() and "choose a sweep folder" in view.title.text()
    (tmp_path / "sweep.json").write_text("{not json")
    assert not view.load(tmp_path)
    assert "is not valid JSON" in view.title.text()


def test_entry_point_opens_a_sweep_folder(tmp_path):
    folder = write_fixture_sweep(tmp_path / "s")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", WORKBENCH_HOME=str(tmp_path / "home"), **{QUIT_ENV: "500"})
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-m", "workbench.gui.panels.sweep_view", str(folder)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-3000:]
    assert "Sweep: shown 1100x750, closed after 500 ms" in out.stdout
