"""What the Classify and Evaluate tabs share: the model box on the left (with what was assumed about the
model, and why) and the work on the right, a test-set chooser, and the panel's own background tasks."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QLabel, QSplitter, QVBoxLayout, QWidget

from workbench.core.datasets import DATASETS, known_info, selectable_datasets
from workbench.core.text import sanitize
from workbench.gui.tasks import PanelTasks
from workbench.gui.widgets.combos import elide_combo
from workbench.gui.widgets.model_setup import ModelSetupBox
from workbench.gui.widgets.rich_text import html_text

WARNING_COLOUR = "#a05a00"  # amber: a guess the user should check, not an error


def test_set_for(loaded, current: str | None) -> str | None:
    """The dataset whose test images suit `loaded`: the one it was trained on, else `current` when its
    classes and image size fit, else the one whose images fit the model's input (28×28×1 -> MNIST)."""
    from workbench.core.modelio.guesses import dataset_for_model, images_fit_input

    prefer = getattr(loaded, "dataset_id", None)
    own = known_info(prefer) if prefer not in DATASETS else None
    if own is not None and own.num_classes == loaded.num_classes:
        return prefer  # the user's own dataset it was trained on
    if prefer not in DATASETS and current in DATASETS and images_fit_input(DATASETS[current].image_shape,
                                                                           loaded.input_shape):
        prefer = current
    return dataset_for_model(loaded.num_classes, loaded.input_shape, prefer=prefer)


def ready_text(loaded, what: str) -> str:
    """The status once a model is loaded: `what` to do next, and the loader's warnings if it had any."""
    warnings = tuple(getattr(loaded, "warnings", None) or ())
    if not warnings:
        return what
    more = f" (and {len(warnings) - 1} more, listed on the left)" if len(warnings) > 1 else ""
    return f"{what} ⚠ {sanitize(warnings[0], 600)}{more}"


def dataset_combo() -> QComboBox:
    """Every dataset by title (its id as item data); long titles elide instead of widening the tab."""
    combo = QComboBox()
    fill_dataset_combo(combo)
    return elide_combo(combo)


def fill_dataset_combo(combo: QComboBox) -> None:
    """(Re)list every dataset, keeping the current choice where it is still there."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for choice in selectable_datasets():  # built-in, then the user's own by name
        combo.addItem(choice.info.title, choice.id)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.blockSignals(False)


def assumptions_html(loaded, class_names_choice: str = "") -> str:
    """Which preprocessing is used and why, where the class names came from, and any warnings: read with
    getattr, so models loaded before the core said why still show what is known."""
    reason = getattr(loaded, "preprocessing_reason", None)
    guessed = bool(getattr(loaded, "preprocessing_guessed", False))
    source = getattr(loaded, "class_names_source", None) or class_names_choice
    spec = getattr(loaded, "preprocessing", None)
    used = spec.describe() if hasattr(spec, "describe") else str(spec or "unknown")
    line = f"<b>Preprocessing:</b> {html_text(used)}"
    if reason:
        line += f" — {html_text(reason)}"
    if guessed:
        line = (f"<span style='color:{WARNING_COLOUR}'>⚠ {line} (a guess: check it, and change it above if the "
                "results look wrong)</span>")
    lines = [line]
    if source:
        lines.append(f"<b>Class names:</b> {html_text(source)}")
    if hasattr(loaded, "calibration_text"):  # "calibrated: temperature T (fitted on …)" or "not calibrated"
        lines.append(f"<b>Confidence:</b> {html_text(loaded.calibration_text())}")
    for warning in getattr(loaded, "warnings", None) or ():
        lines.append(f"<span style='color:{WARNING_COLOUR}'>⚠ {html_text(warning)}</span>")
    return "<br>".join(lines)


class ModelPanel(QWidget):
    """Base of a tab that works with one loaded model. Subclasses build their right side, call
    ``place(right, sizes)`` and override ``_on_model_loaded`` (calling this one first)."""

    model_loaded = Signal(object)

    def __init__(self, parent: QWidget | None, *, left_width: tuple[int, int]) -> None:
        super().__init__(parent)
        self.tasks = PanelTasks(self)  # this panel's work only: cancelling it touches nothing else
        self.loaded = None
        self.data_dir: str | None = None
        self.setup = ModelSetupBox(self.tasks)
        self.setup.model_loaded.connect(self._on_model_loaded)
        self.assumptions_label = QLabel("")
        self.assumptions_label.setObjectName("modelAssumptions")
        self.assumptions_label.setWordWrap(True)
        self.assumptions_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.assumptions_label.hide()
        self.left = QWidget()
        ll = QVBoxLayout(self.left)
        ll.addWidget(self.setup)
        ll.addWidget(self.assumptions_label)
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
        choice = self.setup.class_names_combo.currentText()
        self.assumptions_label.setText(assumptions_html(loaded, f"{choice} (the choice above)" if choice else ""))
        self.assumptions_label.show()

    def set_dataset(self, dataset_id: str, data_dir: str | None = None) -> bool:
        """Pick where test images come from; False (nothing changed) for an id this version does not
        know, e.g. from a run folder written by another version."""
        i = self.dataset_combo.findData(dataset_id)
        if i < 0:
            return False
        self.dataset_combo.setCurrentIndex(i)
        self.data_dir = data_dir
        return True

    # ---- background work -------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Cancel this panel's tasks and wait for their threads (closing; never touches other panels)."""
        self.setup.shutdown()
        self.tasks.cancel_all()
        self.tasks.wait_all()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.shutdown()
        super().closeEvent(event)

