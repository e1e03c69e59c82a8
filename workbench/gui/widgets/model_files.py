"""Choosing a model file: the "Open model…" button, the recent list and drag-and-drop of model files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QMenu, QPushButton, QToolButton, QWidget

from workbench.gui.settings import open_settings

MODEL_SUFFIXES = (".h5", ".hdf5", ".keras")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MODEL_FILTER = "Keras models (*.h5 *.hdf5 *.keras);;All files (*)"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"
RECENT_KEY = "models/recent"
RECENT_MAX = 10


def is_model_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in MODEL_SUFFIXES


def split_paths(paths: Iterable[str | os.PathLike]) -> tuple[list[str], list[str]]:
    """(model files, everything else): dropped non-model files are treated as images, so a
    wrong file gets a clear message in its own row instead of vanishing."""
    models, others = [], []
    for p in paths:
        (models if is_model_path(p) else others).append(os.fspath(p))
    return models, others


def urls_to_paths(mime) -> list[str]:
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()] if mime.hasUrls() else []


def recent_models() -> list[str]:
    """Model files opened before, newest first (missing files are dropped)."""
    raw = open_settings().value(RECENT_KEY, "")
    try:
        items = json.loads(raw) if isinstance(raw, str) and raw else []
    except ValueError:
        items = []
    return [p for p in items if isinstance(p, str) and os.path.exists(p)][:RECENT_MAX]


def add_recent_model(path: str | os.PathLike) -> list[str]:
    path = str(Path(path).resolve())
    items = [path] + [p for p in recent_models() if p != path]
    settings = open_settings()
    settings.setValue(RECENT_KEY, json.dumps(items[:RECENT_MAX]))  # JSON: ini lists of one come back as str
    settings.sync()
    return items[:RECENT_MAX]


class AcceptsModelDrops:
    """Drag-and-drop of model files onto a widget: the first dropped model goes to ``_model_dropped``."""

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt name
        models, _ = split_paths(urls_to_paths(event.mimeData()))
        if models:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt name
        models, _ = split_paths(urls_to_paths(event.mimeData()))
        if models:
            event.acceptProposedAction()
            self._model_dropped(models[0])


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
