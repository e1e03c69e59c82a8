"""Experiment controls: dataset, architecture (with its parameter count), hyper-parameters.

The form's settings live in ``self.form`` (a Qt-free FormState): each widget writes its value there and
the widgets are drawn from it, so ``config()`` is the state's TrainConfig and QSettings remember the
state as one object.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import QSettings, QTimer, Signal, Slot
from PySide6.QtWidgets import QComboBox, QWidget

from workbench.core.architectures import ARCHITECTURES, input_problem, shape_text
from workbench.core.datasets import get_info, selectable_datasets
from workbench.core.training.config import TrainConfig
from workbench.gui.panels.experiment.form_state import FormState
from workbench.gui.panels.experiment.params import ParamKey, count_params_task
from workbench.gui.panels.experiment.text import classes_text, dataset_label, problem_text
from workbench.gui.panels.experiment.view import TOOLTIP_ROLE, ExperimentView, changed_signal, show_value, widget_value
from workbench.gui.tasks import PanelTasks, TaskError
from workbench.gui.widgets.rich_text import html_text

OPTIONS_SETTLE_MS = 300  # counting parameters builds the model: wait until the spin box has stopped moving


class ExperimentPanel(ExperimentView):
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
        self.form = FormState()
        self.auto_count_params = True  # off in tests that do not want TensorFlow loaded
        self.lr_finder = None  # the open LRFinderDialog, if any
        self._param_cache: dict[ParamKey, int] = {}
        self._pending: set[ParamKey] = set()
        self._background_ok = False
        self._train_problem = ""
        self._options_timer = QTimer(self)
        self._options_timer.setSingleShot(True)
        self._options_timer.setInterval(OPTIONS_SETTLE_MS)
        self.fill_datasets()
        self.form.dataset = self.dataset_combo.currentData()
        self.form.arch = self.arch_combo.currentData()
        self._show_fields()
        self._connect()
        self._show_options(self.form.arch)
        self._update_labels()

    def _connect(self) -> None:
        self.arch_options.changed.connect(self._on_options_edited)
        self._options_timer.timeout.connect(self._on_options_settled)
        self.queue_button.clicked.connect(self._on_queue_clicked)
        self.find_lr_button.clicked.connect(self.open_lr_finder)
        self.train_problem_changed.connect(lambda problem: self.find_lr_button.setEnabled(not problem))
        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_changed)
        self.arch_combo.currentIndexChanged.connect(self._on_arch_changed)
        self.recipe.activated.connect(self._on_recipe_chosen)
        self.minutes.valueChanged.connect(lambda v: self.epochs.setEnabled(v == 0))
        for name, widget in self.fields.items():
            changed_signal(widget).connect(partial(self._on_field_edited, name))

    # --- the window's inputs, kept in the form's state ------------------------------------------
    @property
    def data_dir(self) -> str | None:
        return self.form.data_dir

    @data_dir.setter
    def data_dir(self, value: str | None) -> None:
        self.form.data_dir = value

    @property
    def runs_root(self) -> str | None:
        return self.form.runs_root

    @runs_root.setter
    def runs_root(self, value: str | None) -> None:
        self.form.runs_root = value

    @property
    def test_limit(self) -> int | None:
        return self.form.test_limit

    @test_limit.setter
    def test_limit(self, value: int | None) -> None:
        self.form.test_limit = value

    # --- public API -----------------------------------------------------------------------------
    def dataset_id(self) -> str:
        return str(self.form.dataset)

    def arch_name(self) -> str:
        return str(self.form.arch)

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
            self.dataset_combo.setItemData(self.dataset_combo.count() - 1, choice.info.title, TOOLTIP_ROLE)
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
            self.form.options_by_arch[name] = dict(options)
        if i == self.arch_combo.currentIndex():
            if options is not None:
                self._show_options(name)
                self._on_options_settled()
        else:
            self.arch_combo.setCurrentIndex(i)

    def options(self) -> dict[str, Any]:
        """The architecture options that differ from its defaults."""
        return self.form.options()

    def config(self) -> TrainConfig:
        """The form as a TrainConfig (raises ValueError with a readable sentence if invalid, including
        a network that cannot take the dataset's images)."""
        if self._train_problem:
            raise ValueError(self._train_problem)
        return self.form.to_config()

    def set_config(self, config: TrainConfig) -> None:
        """Fill the form from a config (e.g. an earlier run's)."""
        self.form.fill_from_config(config)
        self._show_state()

    def choose_recipe(self, name: str) -> None:
        """Fill the form from recipe ``name`` (dataset, data limits and seed stay); the fields stay editable."""
        self.form.choose_recipe(name)
        self._show_state()

    def param_count(self) -> int | None:
        return self._param_cache.get(self.form.param_key())

    def start_background_work(self) -> None:
        """Allow worker-thread jobs (parameter counting); called once the window is on screen."""
        self._background_ok = True
        self._request_param_count()

    # --- settings: the form's state as one object ------------------------------------------------
    def save_settings(self, s: QSettings) -> None:
        s.beginGroup("experiment")
        for key, value in self.form.saved().items():
            s.setValue(key, value)
        s.endGroup()

    def load_settings(self, s: QSettings) -> list[str]:
        """Fill the form from saved settings; returns the keys that were not valid (their values are kept)."""
        s.beginGroup("experiment")
        try:
            saved = {key: s.value(key) for key in s.childKeys()}
        finally:
            s.endGroup()
        refused = self.form.restore(saved, datasets=_items(self.dataset_combo))
        self._show_state()
        return [f"experiment/{key}" for key in refused]

    # --- drawing the state ------------------------------------------------------------------------
    def _show_state(self) -> None:
        """Every widget from the state; what a widget cannot show (an unknown choice, a value beyond its
        bounds or decimals) comes back into the state as the widget holds it."""
        self.set_dataset(self.form.dataset)
        self.form.dataset = self.dataset_combo.currentData()
        arch = self.form.arch
        self.form.arch = self.arch_combo.currentData()  # the shown one, until the combo has moved
        self.set_arch(arch, self.form.options_by_arch.get(arch, {}))
        self._show_fields()
        show_value(self.recipe, self.form.recipe)
        self._update_recipe_note()

    def _show_fields(self) -> None:
        for name, widget in self.fields.items():
            show_value(widget, getattr(self.form, name))
            setattr(self.form, name, widget_value(widget))

    def _show_options(self, name: str) -> None:
        self.arch_options.set_spec(ARCHITECTURES[name], self.form.options_by_arch.get(name, {}))
        self.options_box.setVisible(bool(self.arch_options.boxes))
        self.form.options_by_arch[name] = self.arch_options.changed_values()  # as the boxes hold them

    # --- internals ------------------------------------------------------------------------------
    @Slot()
    def _on_queue_clicked(self) -> None:
        try:
            self.queue_requested.emit(self.config())
        except ValueError as exc:
            self.queue_refused.emit(str(exc))

    def _on_field_edited(self, name: str, *_args: Any) -> None:
        setattr(self.form, name, widget_value(self.fields[name]))
        self._update_recipe_note()

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
        note, edited = self.form.recipe_note()
        self.recipe_note.setText(note)
        if note:
            self.recipe.setItemText(self.recipe.findData(self.form.recipe),
                                    f"{self.form.recipe} (edited)" if edited else self.form.recipe)

    @Slot(int)
    def _on_dataset_changed(self, _index: int) -> None:
        self.form.dataset = self.dataset_combo.currentData()
        self._update_labels()
        self._request_param_count()
        self.dataset_changed.emit(self.dataset_id())

    @Slot(int)
    def _on_arch_changed(self, _index: int) -> None:
        name = self.form.arch = self.arch_combo.currentData()  # the previous one's edits are in the state
        self._show_options(name)
        self._options_timer.stop()
        self._update_labels()
        self._request_param_count()
        self._update_recipe_note()
        self.arch_changed.emit(name)

    @Slot()
    def _on_options_edited(self) -> None:
        self.form.options_by_arch[self.form.arch] = self.arch_options.changed_values()
        if not self._train_problem:
            self.params_label.setText(f"parameters: counting… ({self.num_classes()} classes)")
        self._update_recipe_note()
        self._options_timer.start()

    @Slot()
    def _on_options_settled(self) -> None:
        self._update_labels()
        self._request_param_count()
        self.arch_changed.emit(self.arch_name())

    def _update_labels(self) -> None:
        info = get_info(self.dataset_id())
        self.classes_label.setText(classes_text(info))
        self.arch_description.setText(ARCHITECTURES[self.arch_name()].description)
        self._set_train_problem(problem_text(self.arch_name(), self.dataset_id()))
        # Flips only where a mirror image keeps its class (not digits): the box says what it will do.
        self.augment.setText("random crop + horizontal flip" if info.mirror_safe else "random crop (no flips)")
        self.augment.setToolTip("" if info.mirror_safe else "No flips: mirrored images change class (digits)")
        count = self.param_count()
        target = f"{info.num_classes} classes, {shape_text(tuple(info.image_shape))} images"
        if self._train_problem:
            self.params_label.setText(f"<span style='color:#b00020'>{html_text(self._train_problem)}</span>")
        elif count is not None:
            self.params_label.setText(f"parameters: <b>{count:,}</b> for {target}")
        else:
            self.params_label.setText(f"parameters: counting… ({target})")

    def _set_train_problem(self, problem: str) -> None:
        if problem != self._train_problem:
            self._train_problem = problem
            self.params_label.setToolTip(problem)
            self.train_problem_changed.emit(problem)

    def _request_param_count(self) -> None:
        key = self.form.param_key()
        if input_problem(key[0], key[2]):  # nothing to count: the label shows why
            self._update_labels()
            return
        if (key in self._param_cache or key in self._pending or not self._background_ok
                or not self.auto_count_params):
            self._update_labels()
            return
        self._pending = {key}  # the count for an earlier choice is superseded (its answer never arrives)
        self.tasks.start(
            count_params_task, key, name="count-params",
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


def _items(combo: QComboBox) -> list:
    return [combo.itemData(i) for i in range(combo.count())]
