"""The experiment form's widgets, laid out: "Data and model" (dataset, architecture, parameter count),
the architecture's options and the hyper-parameters, then "Add to queue". Bounds and choices come from
form_state.py; no control here (see panel.py)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core.architectures import ARCHITECTURES
from workbench.core.training.recipes import RECIPES
from workbench.gui.panels.experiment.form_state import CHOICES, NO_RECIPE, RANGES
from workbench.gui.panels.experiment.text import FORMAT_LABELS, OPTIMIZER_LABELS, SCHEDULE_LABELS
from workbench.gui.widgets.arch_options import ArchOptionsForm
from workbench.gui.widgets.combos import elide_combo

TOOLTIP_ROLE = 3  # Qt.ItemDataRole.ToolTipRole


def widget_value(widget: QWidget) -> Any:
    """What a form widget holds: a combo's data, a check box's state, a spin box's number."""
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    return widget.value()


def show_value(widget: QWidget, value: Any) -> None:
    """Show ``value`` in a form widget (a combo without that choice keeps its own)."""
    if isinstance(widget, QComboBox):
        i = widget.findData(value)
        if i >= 0:
            widget.setCurrentIndex(i)
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    else:
        widget.setValue(value)


def changed_signal(widget: QWidget) -> Signal:
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    if isinstance(widget, QCheckBox):
        return widget.toggled
    return widget.valueChanged


def _spin(key: str, *, special: str = "", suffix: str = "", step: int = 0) -> QSpinBox:
    box = QSpinBox()
    box.setRange(*(int(v) for v in RANGES[key]))
    return _dressed(box, special, suffix, step)


def _double_spin(key: str, decimals: int, *, step: float = 0.0, special: str = "", suffix: str = "") -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)  # before the range: the range is rounded to the decimals
    box.setRange(*RANGES[key])
    return _dressed(box, special, suffix, step)


def _dressed(box, special: str, suffix: str, step: float):
    """A spin box with its optional special text (shown at the minimum), suffix and step."""
    if special:
        box.setSpecialValueText(special)
    if suffix:
        box.setSuffix(suffix)
    if step:
        box.setSingleStep(step)
    return box


def _choice_combo(choices, labels: dict[str, str]) -> QComboBox:
    combo = QComboBox()
    for choice in choices:
        combo.addItem(labels.get(choice, choice), choice)
    return combo


def _wrapping_form(box: QGroupBox) -> QFormLayout:
    """A form whose fields go below their labels when the pane is too narrow for both side by side."""
    form = QFormLayout(box)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form


class ExperimentView(QWidget):
    """The widgets; ``fields`` maps each plain setting of FormState to the widget that shows it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fields: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(self._data_box())
        self.arch_options = ArchOptionsForm()
        self.options_box = QGroupBox("Architecture options")
        QVBoxLayout(self.options_box).addWidget(self.arch_options)
        layout.addWidget(self.options_box)
        layout.addWidget(self._hyper_box())
        # "Add to queue": the Queue tab trains queued runs one after another (see panels/queue.py).
        self.queue_button = QPushButton("Add to &queue")
        self.queue_button.setToolTip("Queue a run with these settings; the Queue tab runs them one after another")
        layout.addWidget(self.queue_button)
        layout.addStretch(1)
        for combo in (self.dataset_combo, self.arch_combo, self.optimizer, self.lr_schedule, self.model_format):
            elide_combo(combo)  # the full titles are in the popup and the tooltip
        self.arch_combo.currentTextChanged.connect(self.arch_combo.setToolTip)

    def _data_box(self) -> QGroupBox:
        self.dataset_combo = QComboBox()
        self.dataset_combo.setToolTip("Which images to train on; the network is built for their size")
        self.classes_label = QLabel()
        self.classes_label.setObjectName("hint")
        self.classes_label.setWordWrap(True)  # long user dataset names and sizes must not widen the form
        self.arch_combo = QComboBox()
        for name in CHOICES["arch"]:
            spec = ARCHITECTURES[name]
            self.arch_combo.addItem(spec.title, name)
            self.arch_combo.setItemData(self.arch_combo.count() - 1, spec.description, TOOLTIP_ROLE)
        self.params_label = QLabel("parameters: …")
        self.params_label.setObjectName("hint")
        self.params_label.setWordWrap(True)  # a network that cannot take the images says why here
        self.arch_description = QLabel()
        self.arch_description.setWordWrap(True)
        self.arch_description.setObjectName("hint")
        box = QGroupBox("Data and model")
        form = _wrapping_form(box)
        form.addRow("&Dataset", self.dataset_combo)
        form.addRow("", self.classes_label)
        form.addRow("&Architecture", self.arch_combo)
        form.addRow("", self.params_label)
        form.addRow("", self.arch_description)
        return box

    def _recipe_chooser(self) -> QComboBox:
        combo = QComboBox()
        combo.addItem("none (the settings below)", NO_RECIPE)
        for recipe in RECIPES.values():
            combo.addItem(recipe.name, recipe.name)
            combo.setItemData(combo.count() - 1, f"{recipe.summary} {recipe.why}", TOOLTIP_ROLE)
        combo.setToolTip("A named set of settings; choosing one fills the form, which stays editable")
        return combo

    def _hyper_widgets(self) -> None:
        """The hyper-parameter widgets, each in ``fields`` under its FormState name."""
        f = self.fields
        f["epochs"] = self.epochs = _spin("epochs")
        f["minutes"] = self.minutes = _double_spin("minutes", 1, special="off (train for the epochs)", suffix=" min")
        self.minutes.setToolTip("Train for this long instead of an epoch count: the schedule is fitted to the "
                                "measured speed so the learning rate anneals by the deadline")
        f["batch_size"] = self.batch_size = _spin("batch_size")
        f["optimizer"] = self.optimizer = _choice_combo(CHOICES["optimizer"], OPTIMIZER_LABELS)
        f["learning_rate"] = self.learning_rate = _double_spin("learning_rate", 6, step=1e-4)
        f["lr_schedule"] = self.lr_schedule = _choice_combo(CHOICES["lr_schedule"], SCHEDULE_LABELS)
        f["val_split"] = self.val_split = _spin("val_split", suffix=" %")
        f["augment"] = self.augment = QCheckBox("random crop + horizontal flip")
        f["cutout"] = self.cutout = _spin("cutout", special="off", suffix=" px")
        f["label_smoothing"] = self.label_smoothing = _double_spin("label_smoothing", 2, step=0.05)
        f["weight_decay"] = self.weight_decay = _double_spin("weight_decay", 5, step=1e-4, special="off")
        f["ema"] = self.ema = _double_spin("ema", 4, step=0.001, special="off")
        self.ema.setToolTip("Validate and save an exponential average of the weights (momentum per step)")
        f["tta_flip"] = self.tta_flip = QCheckBox("average with the mirror image")
        self.tta_flip.setToolTip("Average each test image's prediction with its mirror image's")
        f["early_stopping"] = self.early_stopping = _spin("early_stopping", special="off")
        f["seed"] = self.seed = _spin("seed")
        f["limit"] = self.limit = _spin("limit", special="all images", step=500)
        f["model_format"] = self.model_format = _choice_combo(CHOICES["model_format"], FORMAT_LABELS)

    def _hyper_box(self) -> QGroupBox:
        self._hyper_widgets()
        self.recipe = self._recipe_chooser()
        self.recipe_note = QLabel()
        self.recipe_note.setObjectName("hint")
        self.recipe_note.setWordWrap(True)
        box = QGroupBox("Hyper-parameters")
        form = _wrapping_form(box)
        form.addRow("&Recipe", self.recipe)
        form.addRow("", self.recipe_note)
        for label, widget in (
            ("&Epochs", self.epochs), ("&Time budget", self.minutes), ("&Batch size", self.batch_size),
            ("&Optimizer", self.optimizer), ("&Learning rate", self._learning_rate_row()),
            ("LR &schedule", self.lr_schedule), ("&Validation split", self.val_split), ("Augmentation", self.augment),
            ("Cutout", self.cutout), ("Label smoothing", self.label_smoothing), ("Weight decay", self.weight_decay),
            ("Weight averaging", self.ema), ("Test-time flip", self.tta_flip), ("Early stopping", self.early_stopping),
            ("Seed", self.seed), ("Training images", self.limit), ("Model format", self.model_format),
        ):
            form.addRow(label, widget)
        return box

    def _learning_rate_row(self) -> QWidget:
        """The rate's spin box with the "Find learning rate…" button beside it."""
        self.find_lr_button = QPushButton("Find learning rate…")
        self.find_lr_button.setToolTip(
            "A short sweep on a fresh copy of the network suggests a rate (nothing is saved)")
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.learning_rate, 1)
        box.addWidget(self.find_lr_button)
        return row
