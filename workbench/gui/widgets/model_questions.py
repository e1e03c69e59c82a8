"""The two questions a model file can leave open: which architecture a weights-only file belongs to,
and whether to trust a file holding Python code. Each box asks and emits the answer; it loads nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from workbench.gui.widgets.combos import elide_combo
from workbench.gui.widgets.rich_text import html_text

JSON_ARCH = "__json__"


def _framed(box: QFrame, object_name: str) -> None:
    box.setObjectName(object_name)
    box.setFrameShape(QFrame.Shape.StyledPanel)


class WeightsArchitectureBox(QFrame):
    """Weights only: pick one of our architectures, the JSON file that fits, or another JSON file."""

    architecture_chosen = Signal(str)  # an architecture name or a .json path

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        _framed(self, "weightsBox")
        self.text = QLabel(
            "<b>Weights only.</b> This file holds the numbers of a network but not its shape "
            "(it was written with <i>save_weights</i>). Pick the architecture that produced it — one of "
            "ours, or a Keras JSON architecture file saved beside it."
        )
        self.text.setWordWrap(True)
        self.arch_combo = QComboBox()
        from workbench.core.architectures import ARCHITECTURES

        for name, spec in ARCHITECTURES.items():
            self.arch_combo.addItem(spec.title, name)
            self.arch_combo.setItemData(self.arch_combo.count() - 1, spec.description, Qt.ItemDataRole.ToolTipRole)
        self.arch_combo.addItem("Architecture from a JSON file…", JSON_ARCH)
        elide_combo(self.arch_combo, 24)
        self.load_button = QPushButton("Load &weights")
        self.load_button.clicked.connect(self._on_load)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.load_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.arch_combo)
        layout.addLayout(row)
        self.folder = ""

    def ask(self, model_path: str, suggested_json: str | None) -> None:
        """Shows the question for ``model_path``; a JSON beside it that fits its weights is offered first."""
        self.folder = str(Path(model_path).parent)
        i = self.arch_combo.findData(JSON_ARCH)
        while self.arch_combo.count() > i + 1:  # drop the previous file's suggestion
            self.arch_combo.removeItem(i + 1)
        if suggested_json:
            self.arch_combo.addItem(f"{Path(suggested_json).name} (beside the file, fits its weights)", suggested_json)
            self.arch_combo.setCurrentIndex(self.arch_combo.count() - 1)
        self.show()

    @Slot()
    def _on_load(self) -> None:
        arch = self.arch_combo.currentData()
        if arch == JSON_ARCH:
            path, _ = QFileDialog.getOpenFileName(self, "Architecture (Keras to_json) file", self.folder,
                                                  "JSON files (*.json);;All files (*)")
            if not path:
                return
            arch = path
        self.architecture_chosen.emit(str(arch))


class TrustBox(QFrame):
    """A file with Lambda layers holding Python code: load it only after an explicit "Trust"."""

    trusted = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        _framed(self, "trustBox")
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.button = QPushButton("&Trust this file and load it")
        self.button.clicked.connect(self.trusted)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)

    def ask(self, lambda_layers) -> None:
        names = ", ".join(lambda_layers or ()) or "a Lambda layer"
        self.text.setText(
            f"<b>This file contains Python code</b> (Lambda layer: {html_text(names)}). Loading it runs that code "
            "with your permissions, like running a script. Only continue if you trust where the file came from."
        )
        self.show()
