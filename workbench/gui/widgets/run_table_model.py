"""A QAbstractTableModel over the core's runs-table rows: the rows shown are the loaded rows,
filtered and sorted by the core (workbench.core.runs), so the window and ``main.py runs`` agree.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from workbench.core.runs.export import cell_text
from workbench.core.runs.filters import filter_rows, sort_rows
from workbench.core.runs.table import RunRow, title

_Index = QModelIndex | QPersistentModelIndex
NUMERIC_ALIGN = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class RunTableModel(QAbstractTableModel):
    """Rows of runs, columns of field keys. ``set_filters`` raises core FilterError for a bad expression."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.all_rows: list[RunRow] = []
        self.rows: list[RunRow] = []  # what the view shows
        self.columns: list[str] = []
        self.filters: list[str] = []
        self.known: list[str] | None = None
        self.sort_key: str | None = None
        self.descending = False
        self.group_sweeps = False  # keep each sweep's trials together (runs outside a sweep last)

    def set_rows(self, rows: list[RunRow], columns: list[str], known: list[str]) -> None:
        self.beginResetModel()
        self.all_rows, self.columns, self.known = list(rows), list(columns), list(known)
        self._apply()
        self.endResetModel()

    def set_columns(self, columns: list[str]) -> None:
        self.beginResetModel()
        self.columns = list(columns)
        self.endResetModel()

    def set_filters(self, filters: list[str]) -> None:
        filter_rows([], filters, self.known)  # raises FilterError before anything changes
        self.beginResetModel()
        self.filters = list(filters)
        self._apply()
        self.endResetModel()

    def set_group_sweeps(self, on: bool) -> None:
        self.layoutAboutToBeChanged.emit()
        self.group_sweeps = on
        self._apply()
        self.layoutChanged.emit()

    def _apply(self) -> None:
        rows = filter_rows(self.all_rows, self.filters, self.known) if self.filters else list(self.all_rows)
        if self.sort_key is not None:
            rows = sort_rows(rows, self.sort_key, self.descending)
        if self.group_sweeps:  # a stable sort: within a sweep the chosen order stays
            rows.sort(key=lambda r: (r.get("sweep") is None, str(r.get("sweep") or "").lower()))
        self.rows = rows

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, key = self.rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            text = cell_text(row, key)
            return text.splitlines()[0] if "\n" in text else text
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "status" and row.get("message"):
                return row.get("message")
            if key in ("name", "folder"):
                return "\n".join((row.run_dir, *row.notes))
            return cell_text(row, key) or None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            value = row.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return NUMERIC_ALIGN
        if role == Qt.ItemDataRole.UserRole:
            return row.run_dir
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return title(self.columns[section])
            if role == Qt.ItemDataRole.ToolTipRole:
                return self.columns[section]  # the key to use in filters and on the CLI
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        self.layoutAboutToBeChanged.emit()
        self.sort_key, self.descending = self.columns[column], order == Qt.SortOrder.DescendingOrder
        self._apply()
        self.layoutChanged.emit()

    def row_at(self, row: int) -> RunRow:
        return self.rows[row]
