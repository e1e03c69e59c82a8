"""The Runs tab as a table: model/view over the core rows, selection overlay + settings diff,
labels, delete with Undo, filter, columns and export — on generated run folders (no training)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView

from tests.core.run_fixtures import write_many, write_run
from workbench.gui.panels.runs import RunsPanel
from workbench.gui.widgets.run_table_model import RunTableModel

WAIT = 20_000


@pytest.fixture
def panel(qtbot, tmp_path):
    write_run(tmp_path, "a", config={"arch": "resnet20"}, final_top1=0.8, started="2026-11-03T10:00:00")
    write_run(tmp_path, "b", config={"arch": "simple_cnn"}, final_top1=0.6, started="2026-11-02T10:00:00",
              seconds_per_epoch=30)
    write_run(tmp_path, "c", config={"arch": "simple_cnn", "learning_rate": 0.01}, final_top1=0.7,
              started="2026-11-01T10:00:00", status="incomplete")
    p = RunsPanel()
    qtbot.addWidget(p)
    p.runs_root = str(tmp_path)
    with qtbot.waitSignal(p.runs_listed, timeout=WAIT):
        p.refresh()
    yield p
    p.tasks.cancel_all()
    assert p.tasks.wait_all(WAIT)


def _column(panel, key):
    return panel.model.columns.index(key)


def test_table_is_a_model_view_with_diff_columns(panel):
    assert isinstance(panel.view, QTableView) and isinstance(panel.view.model(), RunTableModel)
    assert panel.model.rowCount() == 3
    assert "arch" in panel.model.columns and "learning_rate" in panel.model.columns
    assert "optimizer" not in panel.model.columns  # same in every run: not shown by default
    col = _column(panel, "test_top1")
    assert panel.model.index(0, col).data() == "79.0 %"


def test_sort_by_header_and_filter(panel, qtbot):
    col = _column(panel, "test_top1")
    panel.view.sortByColumn(col, Qt.SortOrder.AscendingOrder)
    assert [r.get("folder") for r in panel.model.rows] == ["b", "a", "c"]  # c has no test result: last
    panel.filter_edit.setText("arch=simple_cnn")
    assert [r.get("folder") for r in panel.model.rows] == ["b", "c"]
    panel.filter_edit.setText("test_top1>nope")
    assert "not a number" in panel.status.text() and panel.model.rowCount() == 2  # the last good filter stays
    panel.filter_edit.setText("")
    assert panel.model.rowCount() == 3


def test_selecting_two_runs_overlays_two_curves_and_shows_the_diff(panel, qtbot):
    with qtbot.waitSignal(panel.comparison_shown, timeout=WAIT, check_params_cb=lambda n: n == 2):
        panel.select_dirs([panel.rows[0].run_dir, panel.rows[1].run_dir])  # a (resnet20) and b (simple_cnn)
    assert len(panel.compare.curves) == 2
    assert panel.diff_text == "arch"
    assert "resnet20" in panel.diff_view.toPlainText() and "simple_cnn" in panel.diff_view.toPlainText()
    x_epoch = panel.compare.curves[1].getData()[0]
    panel.x_axis.setCurrentIndex(1)  # wall time
    x_time = panel.compare.curves[1].getData()[0]
    assert x_epoch[-1] == 10 and x_time[-1] > 250  # b: 10 epochs of ~30 s


def test_delete_then_undo_brings_the_row_back(panel, qtbot, tmp_path):
    panel.select_dirs([str(tmp_path / "b")])
    assert panel.delete_selected()
    assert "b" not in [r.get("folder") for r in panel.model.rows] and not (tmp_path / "b").exists()
    assert panel.undo_button.isEnabled()
    with qtbot.waitSignal(panel.runs_listed, timeout=WAIT):
        qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    assert "b" in [r.get("folder") for r in panel.model.rows] and (tmp_path / "b" / "config.json").is_file()
    assert not panel.undo_button.isEnabled()


def test_tag_note_rename_with_undo(panel, qtbot, tmp_path):
    panel.select_dirs([str(tmp_path / "a")])
    with qtbot.waitSignal(panel.runs_listed, timeout=WAIT):
        assert panel.rename_selected("Best so far")
    with qtbot.waitSignal(panel.runs_listed, timeout=WAIT):
        assert panel.tag_selected("keep")
    assert panel.model.rows[0].get("name") == "Best so far" and panel.model.rows[0].get("tags") == "keep"
    assert not panel.tag_selected("two words") and "one word" in panel.status.text()
    with qtbot.waitSignal(panel.runs_listed, timeout=WAIT):
        panel.undo()  # the tag
    with qtbot.waitSignal(panel.runs_listed, timeout=WAIT):
        panel.undo()  # the name
    assert panel.model.rows[0].get("name") == "a" and panel.model.rows[0].get("tags") == ""


def test_columns_and_export(panel, tmp_path):
    panel.set_columns(["name", "optimizer", "test_top1"])
    assert panel.model.columnCount() == 3
    out = tmp_path / "runs.md"
    panel.export(str(out), "md")
    lines = out.read_text().splitlines()
    assert lines[0] == "| Name | optimizer | Test top-1 |" and len(lines) == 5
    panel.set_columns(None)
    assert "arch" in panel.model.columns


def test_a_thousand_runs_load_into_the_view(qtbot, tmp_path):
    write_many(tmp_path, 1000)
    p = RunsPanel()
    qtbot.addWidget(p)
    p.runs_root = str(tmp_path)
    with qtbot.waitSignal(p.runs_listed, timeout=60_000):
        p.refresh()
    assert p.model.rowCount() == 1000
    assert p.tasks.wait_all(WAIT)


def test_deleting_a_locked_run_is_refused_and_the_row_stays(panel, tmp_path):
    from workbench.core.training.lock import RunLock

    lock = RunLock.acquire(tmp_path / "c")
    try:
        panel.select_dirs([str(tmp_path / "c")])
        assert not panel.delete_selected()
    finally:
        lock.release()
    assert "being written" in panel.status.text() and not panel.undo_button.isEnabled()
    assert "c" in [r.get("folder") for r in panel.model.rows] and (tmp_path / "c" / "config.json").is_file()
