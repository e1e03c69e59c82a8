"""What the Classify and Evaluate tabs share: the model box on the left and the work on the right,
a test-set chooser, and threads stopped and waited for on close."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QSplitter, QVBoxLayout, QWidget

from workbench.core.datasets import DATASETS
from workbench.gui.widgets.combos import elide_combo
from workbench.gui.widgets.model_picker import ModelSetupBox
from workbench.gui.worker import TaskRunner


def dataset_combo() -> QComboBox:
    """Every dataset by title (its id as item data); long titles elide instead of widening the tab."""
    combo = QComboBox()
    for ds_id, info in DATASETS.items():
        combo.addItem(info.title, ds_id)
    return elide_combo(combo)


class ModelPanel(QWidget):
    """Base of a tab that works with one loaded model. Subclasses build their right side, call
    ``place(right, sizes)`` and override ``_on_model_loaded`` (calling this one first)."""

    model_loaded = Signal(object)

    def __init__(self, parent: QWidget | None, runner: TaskRunner | None, *, left_width: tuple[int, int]) -> None:
        super().__init__(parent)
        self.runner = runner or TaskRunner(self)
        self.loaded = None
        self.data_dir: str | None = None
        self.setup = ModelSetupBox(self.runner)
        self.setup.model_loaded.connect(self._on_model_loaded)
        self.left = QWidget()
        ll = QVBoxLayout(self.left)
        ll.addWidget(self.setup)
        ll.addStretch(1)
        self.left.setMinimumWidth(left_width[0])
        self.left.setMaximumWidth(left_width[1])
        self.dataset_combo = dataset_combo()

    def place(self, right: QWidget, sizes: tuple[int, int]) -> None:
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes(list(sizes))
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    # ---- model -----------------------------------------------------------------------------------
    @Slot(str)
    def open_model(self, path: str) -> None:
        self.setup.open_model(path)

    def set_model(self, loaded, source: str = "") -> None:
        self.setup.set_model(loaded, source)

    @Slot(object)
    def _on_model_loaded(self, loaded) -> None:
        self.loaded = loaded

    def set_dataset(self, dataset_id: str, data_dir: str | None = None) -> bool:
        """Pick where test images come from; False (nothing changed) for an id this version does not
        know, e.g. from a run folder written by another version."""
        i = self.dataset_combo.findData(dataset_id)
        if i < 0:
            return False
        self.dataset_combo.setCurrentIndex(i)
        self.data_dir = data_dir
        return True

    # ---- threads ---------------------------------------------------------------------------------
    def shutdown(self) -> None:
        self.setup.shutdown()
        self.runner.cancel_all()
        self.runner.wait_all()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.shutdown()
        super().closeEvent(event)
