"""Sweeps in the Runs tab: trial rows carry their sweep; Sweep view… opens the sweep's scatter; group by sweep."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog

from tests.core.test_run_table_sweeps import write_sweep_folder
from tests.core.run_fixtures import write_run
from workbench.gui.panels.runs import RunsPanel
from workbench.gui.panels.sweep_view import SweepView

WAIT = 20_000


@pytest.fixture
def panel(qtbot, tmp_path):
    write_run(tmp_path, "plain", config={"learning_rate": 0.1}, started="2026-11-05T10:00:00")
    write_sweep_folder(tmp_path, "lr-sweep", [0.01, 0.1, 0.2], pending=1)
    write_sweep_folder(tmp_path, "other", [0.05])
    p = RunsPanel()
    qtbot.addWidget(p)
    p.runs_root = str(tmp_path)
    with qtbot.waitSignal(p.runs_listed, timeout=WAIT):
        p.refresh()
    yield p
    p.tasks.cancel_all()
    assert p.tasks.wait_all(WAIT)


def _cells(panel, key):
    col = panel.model.columns.index(key)
    return [panel.model.index(r, col).data() for r in range(panel.model.rowCount())]


def test_trial_rows_show_their_sweep_and_filter(panel):
    assert panel.model.rowCount() == 5 and "sweep" in panel.model.columns
    assert _cells(panel, "sweep").count("lr-sweep") == 3 and "lr-sweep/trial-002" in _cells(panel, "name")
    panel.filter_edit.setText("sweep=lr-sweep")
    assert sorted(_cells(panel, "trial")) == ["trial-001", "trial-002", "trial-003"]


def test_group_by_sweep_keeps_trials_together(panel):
    ungrouped = ["", "lr-sweep", "lr-sweep", "other", "lr-sweep"]  # newest first interleaves sweeps
    assert _cells(panel, "sweep") == ungrouped
    panel.group_sweeps.setChecked(True)
    assert _cells(panel, "sweep") == ["lr-sweep"] * 3 + ["other", ""]
    panel.group_sweeps.setChecked(False)
    assert _cells(panel, "sweep") == ungrouped


def test_sweep_view_opens_for_a_selected_trial(panel, qtbot, tmp_path):
    assert not panel.sweep_button.isEnabled()
    panel.select_dirs([str(tmp_path / "plain")])
    assert not panel.sweep_button.isEnabled()  # not a trial
    panel.select_dirs([str(tmp_path / "lr-sweep" / "trial-001"), str(tmp_path / "other" / "trial-001")])
    assert not panel.sweep_button.isEnabled()  # two sweeps
    panel.select_dirs([str(tmp_path / "lr-sweep" / "trial-002")])
    assert panel.sweep_button.isEnabled()
    panel.sweep_button.click()
    dialogs = [d for d in panel.findChildren(QDialog) if d.isVisible()]
    assert len(dialogs) == 1 and "lr-sweep" in dialogs[0].windowTitle()
    view = dialogs[0].findChild(SweepView)
    assert [t["id"] for t in view.trials] == ["trial-001", "trial-002", "trial-003", "trial-004"]
    assert view.setting.currentData() == "learning_rate" and view.table.rowCount() == 4
    assert view.title.text().startswith("Sweep lr-sweep")
    dialogs[0].close()
