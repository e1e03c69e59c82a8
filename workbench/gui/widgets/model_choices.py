"""What a loaded model is fed and how its outputs are named: the Preprocessing and Class names choosers,
each with the reason for the current choice (recorded, remembered, chosen, guessed) and any warning."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

from workbench.core.datasets import DATASETS
from workbench.core.modelio.preprocessing import PRESETS, PreprocessingSpec
from workbench.gui.widgets.rich_text import html_text

# How the GUI names a choice the user made here (LoadedModel.preprocessing_reason / class_names_source).
CHOSEN_HERE = "chosen in the Preprocessing box"
NAMES_CHOSEN_HERE = "chosen in the Class names box"


class ModelChoices(QWidget):
    """Preprocessing and class-names combos for a LoadedModel; emits the user's new choice, changes nothing itself."""

    preprocessing_chosen = Signal(object)  # PreprocessingSpec
    class_names_chosen = Signal(object, object, str)  # names tuple, dataset id or None, source key

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preprocessing_combo = QComboBox()
        self.preprocessing_combo.setToolTip("How pixels 0..255 are scaled before the model sees them; remembered per file")
        self.preprocessing_combo.activated.connect(self._on_preprocessing)
        self.class_names_combo = QComboBox()
        self.class_names_combo.setToolTip("Where the names of the model's outputs come from")
        self.class_names_combo.activated.connect(self._on_class_names)
        self.why_label = QLabel("")
        self.why_label.setObjectName("modelChoicesWhy")
        self.why_label.setWordWrap(True)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Preprocessing", self.preprocessing_combo)
        form.addRow("Class names", self.class_names_combo)
        form.addRow(self.why_label)
        self._sources: dict[str, tuple[str, ...]] = {}
        self._meta: dict = {}
        self.setEnabled(False)

    def show_model(self, loaded, metadata: dict | None, fixed: bool) -> None:
        """Fills both combos for ``loaded``; ``fixed``: the file records its preprocessing (ours), so no choice."""
        self._meta = metadata or {}
        self._fill_preprocessing(loaded, fixed)
        self._fill_class_names(loaded)
        lines = [f"Preprocessing: {loaded.preprocessing_reason or 'not stated'}.",
                 f"Class names: {loaded.class_names_source or 'not stated'}."]
        warn = "".join(f"<br><span style='color:#b00020'>Warning: {html_text(w)}</span>" for w in loaded.warnings)
        self.why_label.setText("<small>" + "<br>".join(html_text(line) for line in lines) + warn + "</small>")
        self.setEnabled(True)

    def _fill_preprocessing(self, loaded, fixed: bool) -> None:
        combo = self.preprocessing_combo
        combo.clear()
        found = -1
        for key, spec in PRESETS.items():
            combo.addItem(spec.describe(), key)
            if spec == loaded.preprocessing:
                found = combo.count() - 1
        if found < 0:
            combo.addItem(loaded.preprocessing.describe(), loaded.preprocessing.to_dict())
            found = combo.count() - 1
        combo.setCurrentIndex(found)
        combo.setEnabled(not fixed)
        combo.setToolTip(
            "Fixed: the file records how this model wants its pixels." if fixed
            else "How pixels 0..255 are scaled before the model sees them; remembered for this file."
        )

    def _fill_class_names(self, loaded) -> None:
        combo = self.class_names_combo
        combo.clear()
        n = loaded.num_classes
        sources: list[tuple[str, str, tuple[str, ...]]] = []
        saved = self._meta.get("class_names")
        if saved and len(saved) == n:
            sources.append(("From the model file", "metadata", tuple(saved)))
        for ds_id, info in DATASETS.items():
            if info.num_classes == n:
                sources.append((info.title, f"dataset:{ds_id}", tuple(info.class_names)))
        sources.append((f"Numbered (class 0 … {n - 1})", "numbered", tuple(f"class {i}" for i in range(n))))
        self._sources = {key: value for _, key, value in sources}
        selected = -1
        for label, key, value in sources:
            combo.addItem(label, key)
            if selected < 0 and value == tuple(loaded.class_names):
                if key != "metadata" or loaded.dataset_id in (None, self._meta.get("dataset")):
                    selected = combo.count() - 1
        if selected < 0:
            combo.addItem("Given by the caller", "given")
            self._sources["given"] = tuple(loaded.class_names)
            selected = combo.count() - 1
        combo.setCurrentIndex(selected)

    def select_preprocessing(self, key: str) -> None:
        """Picks a preprocessing preset by name (see ``PRESETS``), as if the user had."""
        i = self.preprocessing_combo.findData(key)
        if i >= 0:
            self.preprocessing_combo.setCurrentIndex(i)
            self._on_preprocessing(i)

    def select_class_names(self, key: str) -> None:
        """Picks a class-names source by key: "metadata", "dataset:<id>" or "numbered", as if the user had."""
        i = self.class_names_combo.findData(key)
        if i >= 0:
            self.class_names_combo.setCurrentIndex(i)
            self._on_class_names(i)

    @Slot(int)
    def _on_preprocessing(self, index: int) -> None:
        data = self.preprocessing_combo.itemData(index)
        if data is not None:
            self.preprocessing_chosen.emit(PRESETS[data] if isinstance(data, str) else PreprocessingSpec.from_dict(data))

    @Slot(int)
    def _on_class_names(self, index: int) -> None:
        key = self.class_names_combo.itemData(index)
        names = self._sources.get(key)
        if names is None:
            return
        dataset_id = key.split(":", 1)[1] if isinstance(key, str) and key.startswith("dataset:") else None
        if key == "metadata":
            dataset_id = self._meta.get("dataset")
        self.class_names_chosen.emit(tuple(names), dataset_id, str(key))
