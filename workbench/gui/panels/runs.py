"""Earlier runs: a table of run folders with their best metrics; open one, overlay several, resume."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.tasks import PanelTasks, TaskError


def list_run_rows(runs_root: str | None) -> list:
    """Worker-thread function: core.runs.list_runs (RunSummary rows, newest first)."""
    from workbench.core.runs import list_runs

    return list(list_runs(runs_root))


@dataclass(frozen=True)
class RunDetails:
    """One run read for display: its summary, per-epoch history rows, config and result."""

    run_dir: str
    history: tuple  # dict rows from core.runs.read_history
    config: Any  # TrainConfig or None
    result: dict | None
    summary: Any = None  # core.runs.RunSummary or None


def read_run(run_dir: str) -> RunDetails:
    from workbench.core.runs import load_run_config, read_history, summarize_run

    history = tuple(dict(r) for r in read_history(run_dir))
    return RunDetails(run_dir, history, load_run_config(run_dir), _read_json(Path(run_dir) / "result.json"),
                      summarize_run(run_dir))


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.1f} %"


class RunsPanel(QWidget):
    open_requested = Signal(object)  # RunDetails
    overlay_requested = Signal(object)  # list[RunDetails]
    clear_overlays_requested = Signal()
    resume_requested = Signal(object)  # RunDetails
    runs_listed = Signal(int)

    COLUMNS = ("Run", "Dataset", "Architecture", "Status", "Epochs", "Best val top-1", "Best val top-5",
               "Test top-1", "Test top-5")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = PanelTasks(self)
        self.runs_root: str | None = None
        self.rows: list = []
        self._pending_action: str | None = None

        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(self.COLUMNS))
        self.tree.setHeaderLabels(list(self.COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setSortingEnabled(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemDoubleClicked.connect(self._on_double_clicked)
        self.tree.itemSelectionChanged.connect(self._update_buttons)

        self.refresh_button = QPushButton("Refresh")
        self.open_button = QPushButton("Open")
        self.overlay_button = QPushButton("Overlay selected")
        self.clear_button = QPushButton("Clear overlays")
        self.resume_button = QPushButton("Resume")
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button.clicked.connect(self.open_selected)
        self.overlay_button.clicked.connect(self.overlay_selected)
        self.clear_button.clicked.connect(self.clear_overlays_requested)
        self.resume_button.clicked.connect(self.resume_selected)
        self.status = QLabel()
        buttons = QHBoxLayout()
        for b in (self.refresh_button, self.open_button, self.overlay_button, self.clear_button, self.resume_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.status)
        layout = QVBoxLayout(self)
        hint = QLabel("Double-click a run to see its curves; select two or more and press "
                      "<i>Overlay selected</i> to compare them on the training plots.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addLayout(buttons)
        layout.addWidget(self.tree, 1)
        self._update_buttons()

    @Slot()
    def refresh(self) -> None:
        self.status.setText("Reading runs…")
        self.tasks.start(
            list_run_rows, self.runs_root, name="list-runs",
            on_success=self._on_listed, on_failure=self._on_failed,
        )

    @Slot(object)
    def _on_listed(self, rows: list) -> None:
        self.rows = list(rows)
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        for row in self.rows:
            item = QTreeWidgetItem([
                row.name, row.dataset, row.arch, row.status + (" (resumable)" if row.resumable else ""),
                f"{row.epochs_done}/{row.epochs_planned}", _pct(row.best_val_top1),
                _pct(row.best_val_top5), _pct(row.test_top1), _pct(row.test_top5),
            ])
            if row.message:
                item.setToolTip(3, row.message)
            item.setData(0, Qt.ItemDataRole.UserRole, row.run_dir)
            item.setToolTip(0, row.run_dir)
            self.tree.addTopLevelItem(item)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        root = self.runs_root or "the default runs folder"
        self.status.setText(f"{len(self.rows)} runs in {root}")
        self._update_buttons()
        self.runs_listed.emit(len(self.rows))

    @Slot(object)
    def _on_failed(self, error: TaskError) -> None:
        self.status.setText(f"Could not list runs: {error.message}")
        self.runs_listed.emit(0)

    def selected_dirs(self) -> list[str]:
        return [str(i.data(0, Qt.ItemDataRole.UserRole)) for i in self.tree.selectedItems()]

    def select_dirs(self, dirs: list[str]) -> None:
        wanted = {str(Path(d)) for d in dirs}
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            item.setSelected(str(Path(item.data(0, Qt.ItemDataRole.UserRole))) in wanted)

    def _update_buttons(self) -> None:
        n = len(self.tree.selectedItems())
        self.open_button.setEnabled(n == 1)
        self.resume_button.setEnabled(n == 1)
        self.overlay_button.setEnabled(n >= 1)

    @Slot(QTreeWidgetItem, int)
    def _on_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        self._read([str(item.data(0, Qt.ItemDataRole.UserRole))], "open")

    @Slot()
    def open_selected(self) -> None:
        self._read(self.selected_dirs()[:1], "open")

    @Slot()
    def overlay_selected(self) -> None:
        self._read(self.selected_dirs(), "overlay")

    @Slot()
    def resume_selected(self) -> None:
        self._read(self.selected_dirs()[:1], "resume")

    def open_run(self, run_dir: str) -> None:
        self._read([run_dir], "open")

    def overlay_runs(self, run_dirs: list[str]) -> None:
        self._read(run_dirs, "overlay")

    def _read(self, dirs: list[str], action: str) -> None:
        if not dirs:
            return
        self._pending_action = action
        self.tasks.start(  # a newer open/overlay/resume supersedes this one
            _read_runs, tuple(dirs), name="read-run", on_success=self._on_read, on_failure=self._on_failed,
        )

    @Slot(object)
    def _on_read(self, details: tuple) -> None:
        action, self._pending_action = self._pending_action, None
        details = list(details)
        if not details:
            return
        if action == "open":
            self.open_requested.emit(details[0])
        elif action == "overlay":
            self.overlay_requested.emit(details)
        elif action == "resume":
            self.resume_requested.emit(details[0])


def _read_runs(dirs: tuple[str, ...]) -> tuple[RunDetails, ...]:
    return tuple(read_run(d) for d in dirs)


if __name__ == "__main__":
    from workbench.gui.standalone import run_panel

    def _make() -> RunsPanel:
        panel = RunsPanel()
        panel.refresh()
        return panel

    run_panel(_make, "Runs")
