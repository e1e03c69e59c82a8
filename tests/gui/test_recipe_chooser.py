"""The experiment form's recipe chooser and time budget: a recipe fills the editable form, an edit is marked,
and the config (what a run records) names the recipe."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from workbench.core.training.config import BUDGET_EPOCH_CAP
from workbench.core.training.recipes import apply_recipe
from workbench.gui.panels.experiment.panel import ExperimentPanel


def _panel(qtbot) -> ExperimentPanel:
    panel = ExperimentPanel()
    panel.auto_count_params = False  # no TensorFlow model building in these tests
    qtbot.addWidget(panel)
    return panel


def test_choosing_a_recipe_fills_the_form_and_the_config_records_it(qtbot):
    panel = _panel(qtbot)
    panel.set_dataset("builtin")
    panel.seed.setValue(7)
    panel.recipe.setCurrentIndex(panel.recipe.findData("fast"))
    panel.recipe.activated.emit(panel.recipe.currentIndex())
    config = panel.config()
    expected = apply_recipe("fast")
    for name in ("arch", "optimizer", "learning_rate", "batch_size", "epochs", "lr_schedule", "augment",
                 "label_smoothing", "ema", "tta_flip", "arch_options", "tta_shift", "bias_lr_scale", "lookahead"):
        assert getattr(config, name) == getattr(expected, name), name
    assert config.recipe == "fast" and config.dataset == "builtin" and config.seed == 7  # data and seed stay
    assert panel.lr_schedule.currentData() == "triangle" and panel.tta_flip.isChecked()
    assert "(edited" not in panel.recipe_note.text()


def test_editing_a_field_marks_the_recipe_edited_and_keeps_its_name(qtbot):
    panel = _panel(qtbot)
    panel.choose_recipe("fast")
    panel.batch_size.setValue(64)
    assert "edited: batch size" in panel.recipe_note.text()
    assert panel.recipe.currentText() == "fast (edited)"
    config = panel.config()
    assert config.recipe == "fast" and config.batch_size == 64
    panel.choose_recipe("report")
    assert panel.config().arch == "toy_resnet" and panel.config().lr_schedule == "constant"
    assert panel.recipe.itemText(panel.recipe.findData("fast")) == "fast"


def test_time_budget_replaces_the_epoch_count(qtbot):
    panel = _panel(qtbot)
    panel.choose_recipe("fast")
    panel.minutes.setValue(20)
    config = panel.config()
    assert config.minutes == 20 and config.epochs == BUDGET_EPOCH_CAP and not panel.epochs.isEnabled()
    assert "edited" not in panel.recipe_note.text()  # the epoch cap under a budget is not an edit
    panel.minutes.setValue(0)
    assert panel.config().minutes is None and panel.epochs.isEnabled()


def test_recipe_and_new_fields_are_remembered(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    panel = _panel(qtbot)
    panel.choose_recipe("best")
    panel.cutout.setValue(12)
    panel.save_settings(settings)
    again = _panel(qtbot)
    assert again.load_settings(settings) == []
    config = again.config()
    assert config.recipe == "best" and config.cutout == 12 and config.ema == apply_recipe("best").ema
    assert again.recipe_note.text() == "best (edited: cutout)"  # float16 on a GPU came back too
