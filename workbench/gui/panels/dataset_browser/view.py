"""The dataset tab's widgets, laid out: a title row with the import buttons, the import notes, and four
pages in a stack — browse (split, class filter, paging, the 5 x 5 grid, per-class bars), loading, missing
(Download, Open folder or archive…) and importing (progress, Cancel). No control here (see panel.py)."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.panels.dataset_browser.text import import_notes
from workbench.gui.widgets.class_bars import ClassBarChart
from workbench.gui.widgets.message_label import MessageLabel
from workbench.gui.widgets.sample_grid import SampleGrid

GRID_ROWS, GRID_COLUMNS, TILE_PX = 5, 5, 64  # 64 (twice 32): the tab fits a 720-pixel-high screen


class BrowserView(QWidget):
    """The widgets; ``show_*`` methods draw one thing each. Buttons are connected by the panel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stack = QStackedWidget()
        self.browse_page = self._browse_page()
        self.loading_page = self._loading_page()
        self.missing_page = self._missing_page()
        self.import_page = self._import_page()
        for page in (self.browse_page, self.loading_page, self.missing_page, self.import_page):
            self.stack.addWidget(page)
        self.loading_label.setText("No dataset chosen yet.")
        self.stack.setCurrentWidget(self.loading_page)

        layout = QVBoxLayout(self)
        layout.addLayout(self._title_row())
        layout.addLayout(self._notes_row())
        layout.addWidget(self.stack, 1)

    # --- building -------------------------------------------------------------------------------
    def _title_row(self) -> QHBoxLayout:
        """What is shown, and adding the user's own images."""
        self.title = MessageLabel()  # a long dataset name wraps
        self.title.setObjectName("panelTitle")
        self.add_folder_button = QPushButton("Add image &folder…")
        self.add_folder_button.setToolTip("Import a folder of your own images: one subfolder per class")
        self.add_archive_button = QPushButton("Open a&rchive…")
        self.add_archive_button.setToolTip("Import a .zip, .tar or .tar.gz of class folders")
        row = QHBoxLayout()
        row.addWidget(self.title, 1)
        row.addWidget(self.add_folder_button)
        row.addWidget(self.add_archive_button)
        return row

    def _notes_row(self) -> QHBoxLayout:
        """The import notes of the user's dataset on show, and its skipped files."""
        self.notes = MessageLabel()
        self.notes.setObjectName("hint")
        self.notes.setVisible(False)
        self.skipped_button = QPushButton()
        self.skipped_button.setToolTip("Files of this folder that were not used, each with the reason")
        self.skipped_button.setVisible(False)
        row = QHBoxLayout()
        row.addWidget(self.notes, 1)
        row.addWidget(self.skipped_button, 0, Qt.AlignmentFlag.AlignTop)
        return row

    def _browse_bar(self) -> QHBoxLayout:
        self.train_radio = QRadioButton("&Train")
        self.test_radio = QRadioButton("T&est")
        self.train_radio.setChecked(True)
        self.split_group = QButtonGroup(self)
        self.split_group.addButton(self.train_radio)
        self.split_group.addButton(self.test_radio)
        self.class_combo = QComboBox()
        self.class_combo.setMinimumWidth(160)
        self.prev_button = QPushButton("◀ &Previous")
        self.next_button = QPushButton("&Next ▶")
        self.shuffle_button = QPushButton("S&huffle")
        self.shuffle_button.setCheckable(True)
        self.page_label = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(self.train_radio)
        bar.addWidget(self.test_radio)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Class"))
        bar.addWidget(self.class_combo)
        bar.addStretch(1)
        for widget in (self.shuffle_button, self.prev_button, self.page_label, self.next_button):
            bar.addWidget(widget)
        return bar

    def _browse_page(self) -> QWidget:
        self.grid = SampleGrid(GRID_ROWS, GRID_COLUMNS, TILE_PX)
        self.bars = ClassBarChart()
        grid_holder = QWidget()
        gl = QVBoxLayout(grid_holder)
        gl.setContentsMargins(0, 0, 0, 0)
        gl.addWidget(self.grid, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        gl.addStretch(1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(grid_holder)
        splitter.addWidget(self.bars)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._browse_bar())
        layout.addWidget(splitter, 1)
        return page

    def _loading_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.loading_label = QLabel("Loading…")
        self.loading_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(1)
        layout.addWidget(self.loading_label)
        layout.addStretch(1)
        return page

    def _missing_page(self) -> QWidget:
        """Where the data was looked for, Download (with progress and Cancel) and Open folder or archive…"""
        page = QWidget()
        page.setObjectName("missingPanel")
        self.missing_title = MessageLabel()
        self.missing_title.setObjectName("panelTitle")
        self.missing_text = MessageLabel()
        self.missing_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.download_button = QPushButton("&Download")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.open_button = QToolButton()
        self.open_button.setText("Open folder or archive…")
        self.open_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.open_button)
        self.open_folder_action = menu.addAction("Folder…")
        self.open_archive_action = menu.addAction("Archive (.tar.gz)…")
        self.open_button.setMenu(menu)
        self.download_progress = QProgressBar()
        self.download_progress.setVisible(False)
        self.download_status = MessageLabel()  # a failed download says why in full
        buttons = QHBoxLayout()
        for widget in (self.download_button, self.cancel_button, self.open_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        layout = QVBoxLayout(page)
        layout.addWidget(self.missing_title)
        layout.addWidget(self.missing_text)
        layout.addLayout(buttons)
        layout.addWidget(self.download_progress)
        layout.addWidget(self.download_status)
        layout.addStretch(1)
        return page

    def _import_page(self) -> QWidget:
        page = QWidget()
        self.import_label = MessageLabel()
        self.import_progress = QProgressBar()
        self.import_status = MessageLabel()
        self.import_cancel_button = QPushButton("Cancel")
        cancel_row = QHBoxLayout()
        cancel_row.addWidget(self.import_status, 1)
        cancel_row.addWidget(self.import_cancel_button)
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(self.import_label)
        layout.addWidget(self.import_progress)
        layout.addLayout(cancel_row)
        layout.addStretch(2)
        return page

    # --- drawing --------------------------------------------------------------------------------
    def show_class_names(self, names: Sequence[str]) -> None:
        """The class filter's entries: "all classes" (chosen), then each class with its index as data."""
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItem("all classes", None)
        for i, name in enumerate(names):
            self.class_combo.addItem(name, i)
        self.class_combo.setCurrentIndex(0)
        self.class_combo.blockSignals(False)

    def show_shuffled(self, on: bool) -> None:
        self.shuffle_button.blockSignals(True)
        self.shuffle_button.setChecked(on)
        self.shuffle_button.blockSignals(False)

    def show_nav(self, text: str, back: bool, forward: bool) -> None:
        self.page_label.setText(text)
        self.prev_button.setEnabled(back)
        self.next_button.setEnabled(forward)

    def show_import_details(self, result) -> None:
        """The notes and the skipped-files button of the user's dataset on show (None: hidden)."""
        self.notes.setVisible(result is not None)
        self.skipped_button.setVisible(bool(result is not None and result.skipped))
        if result is None:
            return
        self.notes.setText(import_notes(result))
        self.skipped_button.setText(f"Skipped files ({len(result.skipped):,})…")

    def show_missing(self, title: str, text: str, can_download: bool) -> None:
        self.missing_title.setText(title)
        self.missing_text.setText(text)
        self.download_button.setEnabled(can_download)
        self.stack.setCurrentWidget(self.missing_page)

    def show_downloading(self, on: bool) -> None:
        """Download's buttons and progress while it runs (True) or after it ended (False)."""
        self.download_button.setEnabled(not on)
        self.cancel_button.setEnabled(on)
        self.download_progress.setVisible(on)
        if on:
            self.download_progress.setRange(0, 0)
