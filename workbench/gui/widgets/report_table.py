"""The course report's results table: our finished runs beside the report's own figures (core/runs/report_table.py)."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from workbench.core.runs.report_table import COLUMNS, ReportRow
from workbench.core.text import sanitize

REPORT_SHADE = QColor(238, 242, 248)  # the report's own columns, set apart from ours
NUMERIC = {"params", "params_report", "top1", "top1_report", "top5", "top5_report", "epochs", "epochs_report",
           "time", "time_report", "test_images"}


class ReportTable(QTableWidget):
    """Read-only; one row per report run; "Report" columns shaded; tooltips name the run folder and the note."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels([h for _, h in COLUMNS])
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(False)
        for n, (key, header) in enumerate(COLUMNS):
            if key.endswith("_report"):
                self.horizontalHeaderItem(n).setToolTip("The course report's own figure")

    def set_rows(self, rows: Sequence[ReportRow]) -> None:
        self.setRowCount(len(rows))
        bold = QFont()
        bold.setBold(True)
        for r, row in enumerate(rows):
            cells = row.cells()
            tip = sanitize(row.run_dir or "No finished run with the report's settings yet.", 500)
            if row.spec.note:
                tip += f"\nReport: {row.spec.note}"
            for c, (key, _) in enumerate(COLUMNS):
                item = QTableWidgetItem(cells[key])
                item.setToolTip(tip)
                if key in NUMERIC:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if key.endswith("_report"):
                    item.setBackground(QBrush(REPORT_SHADE))
                elif key in NUMERIC and row.run_dir:
                    item.setFont(bold)
                self.setItem(r, c, item)
