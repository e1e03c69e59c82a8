"""Asks how to import a user's image folder or archive: the name to remember it by, size, colour, fit."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout,
                               QWidget)

from workbench.core.datasets import DatasetError, find_user_dataset
from workbench.core.datasets.user_datasets import check_name, default_name
from workbench.core.images.fit import FIT_MODES
from workbench.core.text import sanitize

# Sizes offered besides "automatic": the networks' native 32, and a few larger squares.
SIZE_CHOICES = (32, 48, 64, 96, 128)
# How each of the core's resize rules is offered, in its order.
FIT_CHOICES = {"crop": "centre-crop to the shape", "pad": "pad with black bars", "stretch": "stretch to the shape"}


@dataclass(frozen=True)
class ImportRequest:
    """What the user asked for; ``None`` size/colour = chosen from the images."""

    path: str
    name: str
    size: int | None = None
    color: str | None = None
    fit: str = "crop"


class ImportDialog(QDialog):
    def __init__(self, path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add your images")
        self.path = path
        self.name_edit = QLineEdit(default_name(path))
        self.name_edit.setToolTip("The name this dataset is listed under (remembered across restarts)")
        self.size_combo = QComboBox()
        self.size_combo.addItem("automatic (typical size, at most 64 px)", None)
        for side in SIZE_CHOICES:
            self.size_combo.addItem(f"{side} × {side}", side)
        self.color_combo = QComboBox()
        self.color_combo.addItem("automatic (grayscale only if every image is)", None)
        self.color_combo.addItem("RGB colour", "rgb")
        self.color_combo.addItem("grayscale", "grayscale")
        self.fit_combo = QComboBox()
        for fit in FIT_MODES:
            self.fit_combo.addItem(FIT_CHOICES[fit], fit)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.setVisible(False)
        where = QLabel(f"From <b>{sanitize(path, 200)}</b>: one folder per class (or train/ and test/ folders of "
                       "class folders). Every image is decoded once and cached; files that are not usable images "
                       "are listed, not fatal.")
        where.setWordWrap(True)
        form = QFormLayout()
        form.addRow("&Name", self.name_edit)
        form.addRow("Image &size", self.size_combo)
        form.addRow("&Colour", self.color_combo)
        form.addRow("Other &shapes", self.fit_combo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Import")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(where)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(520, 0)

    def request(self) -> ImportRequest:
        return ImportRequest(self.path, self.name_edit.text().strip(), self.size_combo.currentData(),
                             self.color_combo.currentData(), self.fit_combo.currentData())

    def name_problem(self) -> str | None:
        """Why the typed name cannot be used, in one sentence; None when it can."""
        try:
            name = check_name(self.name_edit.text())
        except DatasetError as exc:
            return str(exc)
        if find_user_dataset(name) is not None:
            return f"You already have a dataset called {sanitize(name)!r}; choose another name."
        return None

    def accept(self) -> None:
        problem = self.name_problem()
        if problem:
            self.problem.setText(problem)
            self.problem.setVisible(True)
            return
        super().accept()
