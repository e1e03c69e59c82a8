"""A sweep folder at a glance: setting -> result scatter and the ranked trials.

``SweepView().load(folder)`` can be embedded (e.g. by the Runs tab for a sweep folder); on its own:
``python -m workbench.gui.panels.sweep_view SWEEP_FOLDER``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from workbench.core.sweeps.folder import SweepFolderError, ranked, read_sweep
from workbench.core.text import sanitize
from workbench.gui.widgets.sweep_plot import RESULTS, SweepScatter

COLUMNS = ("rank", "trial", "best val top-1", "test top-1", "epochs", "seconds", "status")


def _pct(value: Any) -> str:
    return f"{100 * value:.1f} %" if isinstance(value, (int, float)) and not isinstance(value, bool) else "–"


def _value_text(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else sanitize(str(value), 80)


class SweepView(QWidget):
    """Choose a setting and a result; the scatter and the ranked table follow the loaded sweep."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trials: list[dict[str, Any]] = []
        self.log_scaled: set[str] = set()
        self.title = QLabel("No sweep loaded: open a sweep folder (it holds sweep.json).")
        self.title.setWordWrap(True)
        self.setting = QComboBox()
        self.setting.setToolTip("The setting on the horizontal axis")
        self.result = QComboBox()
        self.result.setToolTip("The result on the vertical axis")
        for key, text in RESULTS.items():
            self.result.addItem(text, key)
        self.scatter = SweepScatter()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Setting:"))
        controls.addWidget(self.setting, 1)
        controls.addWidget(QLabel("Result:"))
        controls.addWidget(self.result, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.scatter)
        split.addWidget(self.table)
        split.setSizes([460, 240])
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(controls)
        layout.addWidget(split, 1)
        self.setting.currentIndexChanged.connect(self._redraw)
        self.result.currentIndexChanged.connect(self._redraw)

    def load(self, folder: str | Path) -> bool:
        """Show the sweep in ``folder``; False (and the reason in the title) when it is not a readable sweep."""
        try:
            data = read_sweep(folder)
        except SweepFolderError as exc:
            self.title.setText(sanitize(str(exc), 500))
            return False
        self.trials = [t for t in data["trials"] if isinstance(t, dict) and isinstance(t.get("settings"), dict)]
        self.log_scaled = {str(n) for n in data.get("log_scaled") or []}
        done = sum(t.get("status") not in ("pending", "skipped") for t in self.trials)
        self.title.setText(f"Sweep {sanitize(str(data.get('name', Path(folder).name)), 100)}: "
                           f"{done} of {len(self.trials)} trial(s) ended, on {sanitize(str(data.get('backend', '?')), 60)}"
                           + (f"; ASHA eta {data['asha'].get('eta')}" if isinstance(data.get("asha"), dict) else ""))
        names = list(dict.fromkeys(n for t in self.trials for n in t["settings"]))
        self.setting.blockSignals(True)
        self.setting.clear()
        for name in names:
            self.setting.addItem(name + (" (log)" if name in self.log_scaled else ""), name)
        self.setting.blockSignals(False)
        self._fill_table()
        self._redraw()
        return True

    @Slot()
    def _redraw(self) -> None:
        setting, result = self.setting.currentData(), self.result.currentData()
        if setting is None:
            return
        self.scatter.show_trials(self.trials, setting, result, log_x=setting in self.log_scaled)

    def _fill_table(self) -> None:
        order = ranked(self.trials)
        names = list(dict.fromkeys(n for t in order for n in t["settings"]))
        headers = list(COLUMNS) + names
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(order))
        for row, trial in enumerate(order):
            cells = [str(row + 1), str(trial.get("id", "")), _pct(trial.get("best_val_top1")), _pct(trial.get("test_top1")),
                     str(trial.get("epochs", "")), _value_text(trial.get("seconds", "")), str(trial.get("status", ""))]
            cells += [_value_text(trial["settings"].get(n, "")) for n in names]
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - manual look
    from workbench.gui.standalone import run_panel

    argv = list(sys.argv[1:] if argv is None else argv)

    def make() -> SweepView:
        view = SweepView()
        if argv:
            view.load(argv[0])
        return view

    return run_panel(make, "Sweep")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
