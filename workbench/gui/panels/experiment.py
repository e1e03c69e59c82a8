"""Experiment controls: dataset, architecture (with its parameter count), hyper-parameters.

``config()`` turns the form into a TrainConfig; settings are remembered with QSettings.
"""

from __future__ import annotations

import json
import os
from typing import Any

from PySide6.QtCore import QSettings, QTimer, Signal, Slot
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

from workbench.core.architectures import ARCHITECTURES, input_problem, resolve_options, shape_text
from workbench.core.datasets import get_info, selectable_datasets
from workbench.core.training.config import BUDGET_EPOCH_CAP, LR_SCHEDULES, MODEL_FORMATS, OPTIMIZERS, TrainConfig
from workbench.core.training.recipes import RECIPES, apply_recipe, edited_fields
from workbench.gui.settings import SettingsReader
from workbench.gui.tasks import PanelTasks, TaskError
from workbench.gui.widgets.arch_options import ArchOptionsForm
from workbench.gui.widgets.combos import elide_combo
from workbench.gui.widgets.rich_text import html_text

# Shorter names for the well-known sets; every other registered dataset is listed by its title.
_DATASET_LABELS = {
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100 (fine, 100 classes)",
    "cifar100-coarse": "CIFAR-100 (coarse, 20 classes)",
    "builtin": "Built-in offline set (shapes)",
}
_OPTIMIZER_LABELS = {"adam": "Adam", "sgd": "SGD (momentum 0.9)", "rmsprop": "RMSprop", "adamw": "AdamW"}
_SCHEDULE_LABELS = {
    "constant": "constant",
    "cosine": "cosine decay",
    "step": "step decay",
    "plateau": "reduce on plateau",
    "one_cycle": "one-cycle (up, then down to 0)",
    "warmup_cosine": "warm-up + cosine to 0",
}
NO_RECIPE = ""  # the recipe chooser's "none": the form's own settings
DEVICE_FIELDS = ("mixed_precision", "xla", "steps_per_execution")


# arch, classes, image shape (h, w, c), options (sorted items)
ParamKey = tuple[str, int, tuple[int, int, int], tuple[tuple[str, Any], ...]]


def _count_params(key: ParamKey) -> tuple[ParamKey, int]:
    """Runs on a worker thread (builds the model, so it imports TensorFlow there)."""
    from workbench.core.architectures import count_params

    arch, num_classes, shape, options = key
    return key, int(count_params(arch, num_classes, input_shape=shape, **dict(options)))


def image_size_text(shape: tuple[int, int, int]) -> str:
    """(28, 28, 1) -> "28×28 grayscale"; (32, 32, 3) -> "32×32 RGB"."""
    height, width, channels = shape
    colour = {1: "grayscale", 3: "RGB"}.get(channels, f"{channels} channels")
    return f"{width}×{height} {colour}"


def dataset_label(dataset_id: str) -> str:
    """The dataset chooser's entry: its name and image size (a network is built for that size)."""
    info = get_info(dataset_id)
    return f"{_DATASET_LABELS.get(dataset_id, info.title)} · {image_size_text(info.image_shape)}"


class ExperimentPanel(QWidget):
    dataset_changed = Signal(str)
    arch_changed = Signal(str)  # also when the architecture's options change
    params_counted = Signal(str, int, int)  # arch, classes, params
    # Why the chosen network cannot be trained on the chosen dataset ("" when it can): Train is disabled.
    train_problem_changed = Signal(str)
    queue_requested = Signal(object)  # the form's TrainConfig, from "Add to queue"
    queue_refused = Signal(str)  # why the form's settings cannot be queued, one sentence

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = PanelTasks(self)
        self.data_dir: str | None = None
        self.runs_root: str | None = None
        self.test_limit: int | None = None
        self._param_cache: dict[ParamKey, int] = {}
        self._pending: set[ParamKey] = set()
        self._options_by_arch: dict[str, dict[str, Any]] = {}  # edited options, kept across switches
        self._background_ok = False
        self.auto_count_params = True  # off in tests that do not want TensorFlow loaded

        defaults = TrainConfig()
        self.dataset_combo = QComboBox()
        self._train_problem = ""
        self.fill_datasets()
        self.dataset_combo.setToolTip("Which images to train on; the network is built for their size")
        self.classes_label = QLabel()
        self.classes_label.setObjectName("hint")
        self.classes_label.setWordWrap(True)  # long user dataset names and sizes must not widen the form

        self.arch_combo = QComboBox()
        for name, spec in ARCHITECTURES.items():
            self.arch_combo.addItem(spec.title, name)
            self.arch_combo.setItemData(self.arch_combo.count() - 1, spec.description, 3)  # ToolTipRole
        self.params_label = QLabel("parameters: …")
        self.params_label.setObjectName("hint")
        self.params_label.setWordWrap(True)  # a network that cannot take the images says why here
        self.arch_description = QLabel()
        self.arch_description.setWordWrap(True)
        self.arch_description.setObjectName("hint")
        self.arch_options = ArchOptionsForm()
        self.arch_options.changed.connect(self._on_options_edited)
        # counting parameters builds the model: wait until the spin box has stopped moving
        self._options_timer = QTimer(self)
        self._options_timer.setSingleShot(True)
        self._options_timer.setInterval(300)
        self._options_timer.timeout.connect(self._on_options_settled)

        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10_000)
        self.epochs.setValue(defaults.epochs)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 65_536)
        self.batch_size.setValue(defaults.batch_size)
        self.optimizer = QComboBox()
        for opt in OPTIMIZERS:
            self.optimizer.addItem(_OPTIMIZER_LABELS.get(opt, opt), opt)
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setDecimals(6)
        self.learning_rate.setRange(1e-6, 10.0)
        self.learning_rate.setSingleStep(1e-4)
        self.learning_rate.setValue(defaults.learning_rate)
        self.val_split = QSpinBox()
        self.val_split.setRange(0, 90)
        self.val_split.setSuffix(" %")
        self.val_split.setValue(int(round(defaults.val_split * 100)))
        self.augment = QCheckBox("random crop + horizontal flip")
        self.lr_schedule = QComboBox()
        for sched in LR_SCHEDULES:
            self.lr_schedule.addItem(_SCHEDULE_LABELS.get(sched, sched), sched)
        self.label_smoothing = QDoubleSpinBox()
        self.label_smoothing.setRange(0.0, 0.5)
        self.label_smoothing.setSingleStep(0.05)
        self.label_smoothing.setDecimals(2)
        self.early_stopping = QSpinBox()
        self.early_stopping.setRange(0, 1000)
        self.early_stopping.setSpecialValueText("off")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.limit = QSpinBox()
        self.limit.setRange(0, 10_000_000)
        self.limit.setSingleStep(500)
        self.limit.setSpecialValueText("all images")
        self.recipe = QComboBox()
        self.recipe.addItem("none (the settings below)", NO_RECIPE)
        for recipe in RECIPES.values():
            self.recipe.addItem(recipe.name, recipe.name)
            self.recipe.setItemData(self.recipe.count() - 1, f"{recipe.summary} {recipe.why}", 3)  # ToolTipRole
        self.recipe.setToolTip("A named set of settings; choosing one fills the form, which stays editable")
        self.recipe_note = QLabel()
        self.recipe_note.setObjectName("hint")
        self.recipe_note.setWordWrap(True)
        self._recipe = NO_RECIPE  # the recipe the form was last filled from
        # Hardware settings with no box in the form: kept from the recipe or run that filled it.
        self._device_settings = {k: getattr(defaults, k) for k in DEVICE_FIELDS}
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(0.0, 7 * 24 * 60.0)
        self.minutes.setDecimals(1)
        self.minutes.setSpecialValueText("off (train for the epochs)")
        self.minutes.setSuffix(" min")
        self.minutes.setToolTip("Train for this long instead of an epoch count: the schedule is fitted to the "
                                "measured speed so the learning rate anneals by the deadline")
        self.weight_decay = QDoubleSpinBox()
        self.weight_decay.setDecimals(5)
        self.weight_decay.setRange(0.0, 1.0)
        self.weight_decay.setSingleStep(1e-4)
        self.weight_decay.setSpecialValueText("off")
        self.cutout = QSpinBox()
        self.cutout.setRange(0, 64)
        self.cutout.setSuffix(" px")
        self.cutout.setSpecialValueText("off")
        self.ema = QDoubleSpinBox()
        self.ema.setDecimals(4)
        self.ema.setRange(0.0, 0.9999)
        self.ema.setSingleStep(0.001)
        self.ema.setSpecialValueText("off")
        self.ema.setToolTip("Validate and save an exponential average of the weights (momentum per step)")
        self.tta_flip = QCheckBox("average each test image with its mirror image")
        self.model_format = QComboBox()
        for fmt in MODEL_FORMATS:
            self.model_format.addItem({"h5": "HDF5 (.h5)", "keras": "Keras v3 (.keras)"}.get(fmt, fmt), fmt)

        for combo in (self.dataset_combo, self.arch_combo, self.optimizer, self.lr_schedule, self.model_format):
            elide_combo(combo)  # the full titles are in the popup and the tooltip
        self.arch_combo.currentTextChanged.connect(self.arch_combo.setToolTip)

        data_box = QGroupBox("Data and model")
        form = QFormLayout(data_box)
        form.addRow("&Dataset", self.dataset_combo)
        form.addRow("", self.classes_label)
        form.addRow("&Architecture", self.arch_combo)
        form.addRow("", self.params_label)
        form.addRow("", self.arch_description)
        self.options_box = QGroupBox("Architecture options")
        QVBoxLayout(self.options_box).addWidget(self.arch_options)

        hp_box = QGroupBox("Hyper-parameters")
        hp = QFormLayout(hp_box)
        hp.addRow("&Recipe", self.recipe)
        hp.addRow("", self.recipe_note)
        hp.addRow("&Epochs", self.epochs)
        hp.addRow("&Time budget", self.minutes)
        hp.addRow("&Batch size", self.batch_size)
        hp.addRow("&Optimizer", self.optimizer)
        hp.addRow("&Learning rate", self._learning_rate_row())
        hp.addRow("LR &schedule", self.lr_schedule)
        hp.addRow("&Validation split", self.val_split)
        hp.addRow("Augmentation", self.augment)
        hp.addRow("Cutout", self.cutout)
        hp.addRow("Label smoothing", self.label_smoothing)
        hp.addRow("Weight decay", self.weight_decay)
        hp.addRow("Weight averaging", self.ema)
        hp.addRow("Test-time flip", self.tta_flip)
        hp.addRow("Early stopping", self.early_stopping)
        hp.addRow("Seed", self.seed)
        hp.addRow("Training images", self.limit)
        hp.addRow("Model format", self.model_format)

        layout = QVBoxLayout(self)
        layout.addWidget(data_box)
        layout.addWidget(self.options_box)
        layout.addWidget(hp_box)
        # "Add to queue": the Queue tab trains queued runs one after another (see panels/queue.py).
        self.queue_button = QPushButton("Add to &queue")
        self.queue_button.setToolTip("Queue a run with these settings; the Queue tab runs them one after another")
        self.queue_button.clicked.connect(self._on_queue_clicked)
        layout.addWidget(self.queue_button)
        layout.addStretch(1)

        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_changed)
        self.arch_combo.currentIndexChanged.connect(self._on_arch_changed)
        self._show_options(self.arch_name())
        self._update_labels()
        self.recipe.activated.connect(self._on_recipe_chosen)
        self.minutes.valueChanged.connect(lambda v: self.epochs.setEnabled(v == 0))
        for signal in (self.epochs.valueChanged, self.batch_size.valueChanged, self.optimizer.currentIndexChanged,
                       self.learning_rate.valueChanged, self.lr_schedule.currentIndexChanged,
                       self.augment.toggled, self.label_smoothing.valueChanged, self.weight_decay.valueChanged,
                       self.cutout.valueChanged, self.ema.valueChanged, self.tta_flip.toggled,
                       self.minutes.valueChanged, self.arch_combo.currentIndexChanged, self.arch_options.changed):
            signal.connect(self._update_recipe_note)

    @Slot()
    def _on_queue_clicked(self) -> None:
        try:
            self.queue_requested.emit(self.config())
        except ValueError as exc:
            self.queue_refused.emit(str(exc))

    # --- public API -----------------------------------------------------------------------------
    def dataset_id(self) -> str:
        return str(self.dataset_combo.currentData())

    def arch_name(self) -> str:
        return str(self.arch_combo.currentData())

    def num_classes(self) -> int:
        return get_info(self.dataset_id()).num_classes

    def image_shape(self) -> tuple[int, int, int]:
        """(height, width, channels) of the chosen dataset's images: what the network is built for."""
        return tuple(get_info(self.dataset_id()).image_shape)  # type: ignore[return-value]

    def train_problem(self) -> str:
        """Why the chosen network cannot take the chosen dataset's images ("" when it can)."""
        return self._train_problem

    def fill_datasets(self) -> None:
        """List every registered dataset (call again when one is added); keeps the current choice."""
        current = self.dataset_combo.currentData()
        self.dataset_combo.blockSignals(True)
        self.dataset_combo.clear()
        for choice in selectable_datasets():  # built-in, then the user's own image collections by name
            self.dataset_combo.addItem(dataset_label(choice.id), choice.id)
            self.dataset_combo.setItemData(self.dataset_combo.count() - 1, choice.info.title, 3)  # ToolTipRole
        i = self.dataset_combo.findData(current)
        self.dataset_combo.setCurrentIndex(max(i, 0))
        self.dataset_combo.blockSignals(False)
        if current is not None and i < 0:
            self._on_dataset_changed(0)

    def set_dataset(self, dataset_id: str) -> None:
        i = self.dataset_combo.findData(dataset_id)
        if i >= 0:
            self.dataset_combo.setCurrentIndex(i)

    def set_arch(self, name: str, options: dict[str, Any] | None = None) -> None:
        """Pick an architecture; ``options`` (when given) replace its edited options."""
        i = self.arch_combo.findData(name)
        if i < 0:
            return
        if options is not None:
            self._options_by_arch[name] = dict(options)
        if i == self.arch_combo.currentIndex():
            if options is not None:
                self._show_options(name)
                self._on_options_settled()
        else:
            self.arch_combo.setCurrentIndex(i)

    def options(self) -> dict[str, Any]:
        """The architecture options that differ from its defaults."""
        return self.arch_options.changed_values()

    def _param_key(self) -> ParamKey:
        return (self.arch_name(), self.num_classes(), self.image_shape(),
                tuple(sorted(self.arch_options.values().items())))

    def config(self) -> TrainConfig:
        """The form as a TrainConfig (raises ValueError with a readable sentence if invalid, including
        a network that cannot take the dataset's images)."""
        if self._train_problem:
            raise ValueError(self._train_problem)
        limit = self.limit.value() or None
        minutes = float(self.minutes.value()) or None
        return TrainConfig(
            dataset=self.dataset_id(),
            arch=self.arch_name(),
            epochs=BUDGET_EPOCH_CAP if minutes else self.epochs.value(),
            minutes=minutes,
            recipe=self._recipe,
            weight_decay=float(self.weight_decay.value()),
            cutout=self.cutout.value(),
            ema=float(self.ema.value()),
            tta_flip=self.tta_flip.isChecked(),
            batch_size=self.batch_size.value(),
            optimizer=str(self.optimizer.currentData()),
            learning_rate=float(self.learning_rate.value()),
            val_split=self.val_split.value() / 100.0,
            augment=self.augment.isChecked(),
            lr_schedule=str(self.lr_schedule.currentData()),
            label_smoothing=float(self.label_smoothing.value()),
            early_stopping_patience=self.early_stopping.value(),
            seed=self.seed.value(),
            limit=limit,
            test_limit=self.test_limit,
            data_dir=self.data_dir,
            runs_root=self.runs_root,
            model_format=str(self.model_format.currentData()),
            arch_options=self.options(),
            **self._device_settings,
        )

    def set_config(self, config: TrainConfig) -> None:
        """Fill the form from a config (e.g. an earlier run's)."""
        self.set_dataset(config.dataset)
        self.set_arch(config.arch, dict(config.arch_options))
        self.minutes.setValue(config.minutes or 0.0)
        if not config.minutes:
            self.epochs.setValue(config.epochs)
        self.weight_decay.setValue(config.weight_decay)
        self.cutout.setValue(config.cutout)
        self.ema.setValue(config.ema)
        self.tta_flip.setChecked(config.tta_flip)
        self.batch_size.setValue(config.batch_size)
        _select(self.optimizer, config.optimizer)
        self.learning_rate.setValue(config.learning_rate)
        self.val_split.setValue(int(round(config.val_split * 100)))
        self.augment.setChecked(config.augment)
        _select(self.lr_schedule, config.lr_schedule)
        self.label_smoothing.setValue(config.label_smoothing)
        self.early_stopping.setValue(config.early_stopping_patience)
        self.seed.setValue(config.seed)
        self.limit.setValue(config.limit or 0)
        _select(self.model_format, config.model_format)
        self._device_settings = {k: getattr(config, k) for k in DEVICE_FIELDS}
        self._recipe = config.recipe if config.recipe in RECIPES else NO_RECIPE
        _select(self.recipe, self._recipe)
        self._update_recipe_note()

    def choose_recipe(self, name: str) -> None:
        """Fill the form from recipe ``name`` (dataset, data limits and seed stay); the fields stay editable."""
        base = self._base_config()
        self.set_config(apply_recipe(name, {"minutes": base.minutes}, base=base) if name else base.replace(
            recipe=NO_RECIPE))

    def _base_config(self) -> TrainConfig:
        """The form as a config even when the network cannot take the images (a recipe may fix that)."""
        problem, self._train_problem = self._train_problem, ""
        try:
            return self.config()
        finally:
            self._train_problem = problem

    def param_count(self) -> int | None:
        return self._param_cache.get(self._param_key())

    def start_background_work(self) -> None:
        """Allow worker-thread jobs (parameter counting); called once the window is on screen."""
        self._background_ok = True
        self._request_param_count()

    # --- settings -------------------------------------------------------------------------------
    _KEYS = (
        ("epochs", "epochs"), ("batch_size", "batch_size"), ("val_split", "val_split"), ("seed", "seed"),
        ("limit", "limit"), ("early_stopping", "early_stopping"),
    )

    def save_settings(self, s: QSettings) -> None:
        s.beginGroup("experiment")
        s.setValue("dataset", self.dataset_id())
        s.setValue("arch", self.arch_name())
        for attr, key in self._KEYS:
            s.setValue(key, getattr(self, attr).value())
        s.setValue("learning_rate", float(self.learning_rate.value()))
        s.setValue("label_smoothing", float(self.label_smoothing.value()))
        s.setValue("optimizer", self.optimizer.currentData())
        s.setValue("lr_schedule", self.lr_schedule.currentData())
        s.setValue("model_format", self.model_format.currentData())
        s.setValue("augment", self.augment.isChecked())
        s.setValue("recipe", self._recipe)
        for key in ("minutes", "weight_decay", "ema"):
            s.setValue(key, float(getattr(self, key).value()))
        s.setValue("cutout", self.cutout.value())
        s.setValue("tta_flip", self.tta_flip.isChecked())
        for key, value in self._device_settings.items():
            s.setValue(key, value)
        s.setValue("data_dir", self.data_dir or "")
        s.setValue("arch_options", json.dumps({k: v for k, v in self._options_by_arch.items() if v}))
        s.endGroup()

    def load_settings(self, s: QSettings) -> list[str]:
        """Fill the form from saved settings; returns the keys that were not valid (their defaults are kept)."""
        reader = SettingsReader(s)
        s.beginGroup("experiment")
        try:
            options = reader.value("arch_options", "")
            self._options_by_arch = _stored_options(options)
            if options and len(self._options_by_arch) < len(_json_object(options)):
                reader.reject("arch_options")
            self.set_dataset(reader.value("dataset", self.dataset_id(), choices=_items(self.dataset_combo)))
            arch = reader.value("arch", self.arch_name(), choices=_items(self.arch_combo))
            self.set_arch(arch, self._options_by_arch.get(arch, {}))
            for attr, key in self._KEYS:
                widget = getattr(self, attr)
                widget.setValue(reader.value(key, widget.value(), lo=widget.minimum(), hi=widget.maximum()))
            for spin, key in ((self.learning_rate, "learning_rate"), (self.label_smoothing, "label_smoothing")):
                spin.setValue(reader.value(key, float(spin.value()), lo=spin.minimum(), hi=spin.maximum()))
            for combo, key in ((self.optimizer, "optimizer"), (self.lr_schedule, "lr_schedule"),
                               (self.model_format, "model_format")):
                _select(combo, reader.value(key, combo.currentData(), choices=_items(combo)))
            self.augment.setChecked(reader.value("augment", self.augment.isChecked()))
            for spin, key in ((self.minutes, "minutes"), (self.weight_decay, "weight_decay"), (self.ema, "ema")):
                spin.setValue(reader.value(key, float(spin.value()), lo=spin.minimum(), hi=spin.maximum()))
            self.cutout.setValue(reader.value("cutout", self.cutout.value(), lo=0, hi=self.cutout.maximum()))
            self.tta_flip.setChecked(reader.value("tta_flip", self.tta_flip.isChecked()))
            for key, value in list(self._device_settings.items()):
                self._device_settings[key] = (reader.value(key, value) if isinstance(value, bool)
                                              else reader.value(key, value, lo=1, hi=1024))
            self._recipe = reader.value("recipe", NO_RECIPE, choices=_items(self.recipe))
            _select(self.recipe, self._recipe)
            self._update_recipe_note()
            self.data_dir = reader.value("data_dir", "") or None
        finally:
            s.endGroup()
        return reader.rejected

    # --- internals ------------------------------------------------------------------------------
    @Slot(int)
    def _learning_rate_row(self) -> QWidget:
        """The rate's spin box with the "Find learning rate…" button beside it."""
        self.find_lr_button = QPushButton("Find learning rate…")
        self.find_lr_button.setToolTip(
            "A short sweep on a fresh copy of the network suggests a rate (nothing is saved)")
        self.find_lr_button.clicked.connect(self.open_lr_finder)
        self.train_problem_changed.connect(lambda problem: self.find_lr_button.setEnabled(not problem))
        self.lr_finder = None  # the open LRFinderDialog, if any
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.learning_rate, 1)
        box.addWidget(self.find_lr_button)
        return row

    @Slot()
    def open_lr_finder(self) -> None:
        """Sweep the form's network and data through this panel's tasks; "Use this rate" fills the rate."""
        from workbench.gui.panels.lr_finder import LRFinderDialog

        try:
            config = self.config()
        except ValueError as exc:
            self.params_label.setText(html_text(str(exc)))
            return
        if self.lr_finder is not None:
            self.lr_finder.close()
        self.lr_finder = LRFinderDialog(config, self.tasks, self)
        self.lr_finder.rate_chosen.connect(self.learning_rate.setValue)
        self.lr_finder.show()

    def _on_recipe_chosen(self, index: int) -> None:
        self.choose_recipe(str(self.recipe.itemData(index)))

    @Slot()
    def _update_recipe_note(self, *_args: Any) -> None:
        for i in range(1, self.recipe.count()):  # only the chosen recipe can be "edited"
            self.recipe.setItemText(i, str(self.recipe.itemData(i)))
        if self._recipe == NO_RECIPE:
            self.recipe_note.setText("")
            return
        try:
            edited = edited_fields(self._base_config())
        except ValueError:
            edited = ["an invalid value"]
        words = ", ".join(name.replace("_", " ") for name in edited)
        self.recipe_note.setText(f"{self._recipe} (edited: {words})" if edited else
                                 f"{self._recipe}: {RECIPES[self._recipe].summary}")
        self.recipe.setItemText(self.recipe.findData(self._recipe), f"{self._recipe} (edited)" if edited
                                else self._recipe)

    @Slot(int)
    def _on_dataset_changed(self, _index: int) -> None:
        self._update_labels()
        self._request_param_count()
        self.dataset_changed.emit(self.dataset_id())

    @Slot(int)
    def _on_arch_changed(self, _index: int) -> None:
        name = self.arch_name()  # the previous architecture's edits are already in _options_by_arch
        self._show_options(name)
        self._options_timer.stop()
        self._update_labels()
        self._request_param_count()
        self.arch_changed.emit(name)

    def _show_options(self, name: str) -> None:
        self.arch_options.set_spec(ARCHITECTURES[name], self._options_by_arch.get(name, {}))
        self.options_box.setVisible(bool(self.arch_options.boxes))

    @Slot()
    def _on_options_edited(self) -> None:
        self._options_by_arch[self.arch_name()] = self.options()
        if not self._train_problem:
            self.params_label.setText(f"parameters: counting… ({self.num_classes()} classes)")
        self._options_timer.start()

    @Slot()
    def _on_options_settled(self) -> None:
        self._update_labels()
        self._request_param_count()
        self.arch_changed.emit(self.arch_name())

    def _update_labels(self) -> None:
        info = get_info(self.dataset_id())
        self.classes_label.setText(f"{info.num_classes} classes · {image_size_text(info.image_shape)} images · "
                                   f"{info.train_size:,} train / {info.test_size:,} test")
        spec = ARCHITECTURES[self.arch_name()]
        self.arch_description.setText(spec.description)
        self._set_train_problem(self._problem_text())
        # Flips only where a mirror image keeps its class (not digits): the box says what it will do.
        self.augment.setText("random crop + horizontal flip" if info.mirror_safe else
                             "random crop (no flips: mirrored images change class)")
        count = self.param_count()
        target = f"{self.num_classes()} classes, {shape_text(self.image_shape())} images"
        if self._train_problem:
            self.params_label.setText(f"<span style='color:#b00020'>{html_text(self._train_problem)}</span>")
        elif count is not None:
            self.params_label.setText(f"parameters: <b>{count:,}</b> for {target}")
        else:
            self.params_label.setText(f"parameters: counting… ({target})")

    def _problem_text(self) -> str:
        """The core's sentence for a network that cannot take this dataset's images, in window terms."""
        problem = input_problem(self.arch_name(), self.image_shape())
        if not problem:
            return ""
        return (f"{problem.rstrip('.')}: {get_info(self.dataset_id()).title} has "
                f"{shape_text(self.image_shape())} images, so choose another architecture.")

    def _set_train_problem(self, problem: str) -> None:
        if problem != self._train_problem:
            self._train_problem = problem
            self.params_label.setToolTip(problem)
            self.train_problem_changed.emit(problem)

    def _request_param_count(self) -> None:
        key = self._param_key()
        if input_problem(key[0], key[2]):  # nothing to count: the label shows why
            self._update_labels()
            return
        if (key in self._param_cache or key in self._pending or not self._background_ok
                or not self.auto_count_params):
            self._update_labels()
            return
        self._pending = {key}  # the count for an earlier choice is superseded (its answer never arrives)
        self.tasks.start(
            _count_params, key, name="count-params",
            on_success=self._on_params_counted, on_failure=self._on_params_failed,
        )

    @Slot(object)
    def _on_params_counted(self, result: tuple[ParamKey, int]) -> None:
        key, count = result
        self._pending.discard(key)
        self._param_cache[key] = count
        self._update_labels()
        self.params_counted.emit(key[0], key[1], count)

    @Slot(object)
    def _on_params_failed(self, error: TaskError) -> None:
        self._pending.clear()
        self.params_label.setText(f"parameters: unknown ({error.message})")


def _json_object(text: str) -> dict:
    """``text`` parsed as a JSON object, or {} when it is not one."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {"": None}  # unreadable: one entry that cannot be kept, so the caller notes it
    return data if isinstance(data, dict) else {"": None}


def _items(combo: QComboBox) -> list:
    return [combo.itemData(i) for i in range(combo.count())]


def _stored_options(text: str) -> dict[str, dict[str, Any]]:
    """Per-architecture options saved as JSON; anything unreadable or unknown is dropped."""
    data = _json_object(text)
    out: dict[str, dict[str, Any]] = {}
    for arch, options in data.items():
        if not isinstance(options, dict):
            continue
        try:  # the core's checks: known architecture and options, right types, within bounds
            resolved = resolve_options(arch, **options)
        except (TypeError, ValueError, KeyError):
            continue
        out[arch] = {k: resolved[k] for k in options}
    return out


def _select(combo: QComboBox, data: object) -> None:
    i = combo.findData(data)
    if i >= 0:
        combo.setCurrentIndex(i)


def cpu_device_text() -> str:
    """A guess made without TensorFlow; TrainingStarted.device replaces it once a run starts."""
    cpu = f"CPU ({os.cpu_count() or 1} threads)"
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible not in ("", "-1") and os.path.exists("/proc/driver/nvidia/version"):
        return f"GPU likely (NVIDIA driver found) · {cpu}"
    return cpu


if __name__ == "__main__":
    from workbench.gui.standalone import run_panel

    run_panel(lambda: ExperimentPanel(), "Experiment")
