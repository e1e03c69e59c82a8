"""The learning-rate finder from the form: button -> sweep off the GUI thread -> curve with the suggestion
marked -> "Use this rate" sets the form's rate; Cancel stops a running sweep."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt

from tests.gui.conftest import LONG


def _panel(qtbot):
    from workbench.gui.panels.experiment.panel import ExperimentPanel

    panel = ExperimentPanel()
    panel.auto_count_params = False
    qtbot.addWidget(panel)
    panel.set_dataset("builtin")
    panel.set_arch("simple_cnn")
    panel.batch_size.setValue(32)
    panel.limit.setValue(512)
    return panel


def test_find_then_use_sets_the_learning_rate(qtbot):
    panel = _panel(qtbot)
    panel.learning_rate.setValue(0.001)
    qtbot.mouseClick(panel.find_lr_button, Qt.MouseButton.LeftButton)
    dialog = panel.lr_finder
    assert dialog is not None and dialog.isVisible() and not dialog.use_button.isEnabled()
    with qtbot.waitSignal(dialog.sweep_done, timeout=LONG) as done:
        pass
    result = done.args[0]
    assert result is dialog.result, getattr(result, "message", result)
    xs, ys = dialog.curve.getData()
    assert len(ys) == len(result.losses) > 20
    assert dialog.suggestion_line.isVisible()
    assert math.isclose(10 ** dialog.suggestion_line.value(), result.suggestion, rel_tol=1e-9)
    assert f"{result.suggestion:.3g}" in dialog.message.text()
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert math.isclose(panel.learning_rate.value(), round(result.suggestion, 6), rel_tol=1e-6)
    assert panel.learning_rate.value() != 0.001
    assert not dialog.isVisible()
    qtbot.waitUntil(panel.tasks.is_idle, timeout=LONG)


def test_cancel_stops_the_sweep_and_keeps_the_rate(qtbot):
    panel = _panel(qtbot)
    panel.learning_rate.setValue(0.002)
    panel.open_lr_finder()
    dialog = panel.lr_finder
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    qtbot.waitUntil(panel.tasks.is_idle, timeout=LONG)
    assert dialog.result is None and panel.learning_rate.value() == 0.002
