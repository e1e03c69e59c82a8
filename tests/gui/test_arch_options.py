"""Architecture options in the experiment form: one box per option within the spec's bounds, into the
run's config, per architecture and remembered between launches, with the parameter count following."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from workbench.core.architectures import ARCHITECTURES
from workbench.gui.panels.experiment.panel import ExperimentPanel

LONG = 300_000


def _panel(qtbot) -> ExperimentPanel:
    panel = ExperimentPanel()
    qtbot.addWidget(panel)
    return panel


def test_form_follows_the_architecture_and_feeds_the_config(qtbot):
    panel = _panel(qtbot)
    panel.set_arch("simple_cnn")
    form = panel.arch_options
    assert set(form.boxes) == {"dropout"}
    assert form.boxes["dropout"].value() == 0.5 and form.boxes["dropout"].maximum() == 0.99
    assert panel.config().arch_options == {}  # defaults are not recorded
    assert not form.reset_button.isEnabled()
    form.boxes["dropout"].setValue(0.3)
    assert panel.config().arch_options == {"dropout": 0.3}
    assert form.reset_button.isEnabled()

    panel.set_arch("resnet20")
    assert set(form.boxes) == set(ARCHITECTURES["resnet20"].options)
    form.boxes["width"].setValue(8)
    form.boxes["width"].setValue(100_000)  # clamped by the spec's bounds
    assert panel.config().arch_options == {"width": 256}
    form.reset_button.click()
    assert panel.config().arch_options == {}

    panel.set_arch("simple_cnn")  # edited options come back with their architecture
    assert panel.config().arch_options == {"dropout": 0.3}


def test_options_are_remembered_between_launches(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    panel = _panel(qtbot)
    panel.set_arch("embedded_cnn")
    panel.arch_options.boxes["conv2_filters"].setValue(16)
    panel.save_settings(settings)
    settings.setValue("experiment/arch_options", settings.value("experiment/arch_options"))
    again = _panel(qtbot)
    again.load_settings(settings)
    assert again.arch_name() == "embedded_cnn"
    assert again.config().arch_options == {"conv2_filters": 16}
    # a damaged value is ignored, not a crash
    settings.setValue("experiment/arch_options", "{not json")
    third = _panel(qtbot)
    third.load_settings(settings)
    assert third.config().arch_options == {}


def test_set_config_restores_an_earlier_runs_options(qtbot):
    panel = _panel(qtbot)
    config = panel.config()
    earlier = type(config)(**{**config.to_dict(), "arch": "all_conv", "arch_options": {"inner_dropout": 0.25}})
    panel.set_config(earlier)
    assert panel.arch_name() == "all_conv"
    assert panel.arch_options.boxes["inner_dropout"].value() == 0.25
    assert panel.config().arch_options == {"inner_dropout": 0.25}


def test_parameter_count_follows_the_options(qtbot):
    panel = _panel(qtbot)
    panel.set_dataset("cifar10")
    panel.set_arch("embedded_cnn")
    with qtbot.waitSignal(panel.params_counted, timeout=LONG) as first:
        panel.start_background_work()
    assert first.args[2] == 53_522  # the report's figure at the default 3 filters
    with qtbot.waitSignal(panel.params_counted, timeout=LONG) as second:
        panel.arch_options.boxes["conv4_filters"].setValue(6)
    assert second.args[2] > 53_522
    assert f"{second.args[2]:,}" in panel.params_label.text()
    qtbot.waitUntil(panel.tasks.is_idle, timeout=LONG)


def test_on_off_options_are_check_boxes_and_a_recipe_fills_them(qtbot):
    from PySide6.QtWidgets import QCheckBox

    panel = _panel(qtbot)
    panel.set_dataset("builtin")
    panel.choose_recipe("fast")
    form = panel.arch_options
    assert isinstance(form.boxes["whiten"], QCheckBox) and form.boxes["whiten"].isChecked()
    assert not form.boxes["bn_scale"].isChecked() and form.boxes["bn_momentum"].value() == 0.4
    options = panel.config().arch_options
    assert options["whiten"] is True and options["bn_scale"] is False  # bools, not 1.0 / 0.0
    form.boxes["gelu"].setChecked(False)
    assert panel.config().arch_options.get("gelu") is None  # back at the default (off): not recorded
    assert form.reset_button.isEnabled()
    from workbench.core.architectures import resolve_options

    resolve_options("airnet", **panel.config().arch_options)  # what the parameter count and a run resolve
