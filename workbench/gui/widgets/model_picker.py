"""The "Open model…" button with its "Recent" menu; it also takes a dropped model file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QMenu, QPushButton, QToolButton, QWidget

from workbench.gui.widgets.model_files import MODEL_FILTER, AcceptsModelDrops, recent_models


class ModelPicker(AcceptsModelDrops, QWidget):
    """"Open model…" plus a "Recent" menu; also accepts a dropped model file. Emits ``model_chosen``."""

    model_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.open_button = QPushButton("&Open model…")
        self.open_button.setToolTip("Open a Keras model (.h5 or .keras), or drop one here")
        self.open_button.clicked.connect(self.browse)
        self.recent_button = QToolButton()
        self.recent_button.setText("Recent")
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QMenu(self)
        self.recent_menu.aboutToShow.connect(self.refresh_recent)
        self.recent_menu.triggered.connect(self._on_recent)
        self.recent_button.setMenu(self.recent_menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.open_button)
        layout.addWidget(self.recent_button)
        layout.addStretch(1)
        self.setAcceptDrops(True)
        self.refresh_recent()

    @Slot()
    def refresh_recent(self) -> None:
        self.recent_menu.clear()
        items = recent_models()
        for path in items:
            action = self.recent_menu.addAction(Path(path).name)
            action.setData(path)
            action.setToolTip(path)
        if not items:
            self.recent_menu.addAction("(no models opened yet)").setEnabled(False)
        self.recent_button.setEnabled(bool(items))

    @Slot()
    def browse(self) -> None:
        start = str(Path(recent_models()[0]).parent) if recent_models() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", start, MODEL_FILTER)
        if path:
            self.model_chosen.emit(path)

    @Slot(QAction)
    def _on_recent(self, action: QAction) -> None:
        path = action.data()
        if path:
            self.model_chosen.emit(str(path))

    def _model_dropped(self, path: str) -> None:
        self.model_chosen.emit(path)
