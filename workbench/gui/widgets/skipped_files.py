"""The files an import left out, each with its reason: what "Skipped files (N)…" opens."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, \
    QVBoxLayout, QWidget

from workbench.core.text import sanitize


class SkippedFilesDialog(QDialog):
    """A table of (path relative to the imported folder, reason)."""

    def __init__(self, folder: str, skipped, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Skipped files ({len(skipped):,})")
        note = QLabel(f"{len(skipped):,} files in <b>{sanitize(folder, 200)}</b> were not used. The import "
                      "went on without them; fix or remove them and open the dataset again to re-import.")
        note.setWordWrap(True)
        self.table = QTableWidget(len(skipped), 2)
        self.table.setHorizontalHeaderLabels(["File", "Why it was skipped"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, item in enumerate(skipped):
            self.table.setItem(row, 0, QTableWidgetItem(sanitize(item.path, 500)))
            self.table.setItem(row, 1, QTableWidgetItem(sanitize(item.reason, 300)))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(640, 360)

    def rows(self) -> list[tuple[str, str]]:
        return [(self.table.item(r, 0).text(), self.table.item(r, 1).text()) for r in range(self.table.rowCount())]
