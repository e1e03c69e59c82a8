"""Evaluate panel's calibration: ECE beside top-1, the reliability diagram drawn from the result's bins,
and the Calibrate button fitting and storing a temperature on a task, then evaluating again with it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from tests.calibration_fixtures import train_underconfident_run  # noqa: E402
from tests.gui.conftest import LOAD_TIMEOUT, save_shot  # noqa: E402
from workbench.core.modelio.metadata import read_metadata  # noqa: E402
from workbench.gui.panels.evaluate import EvaluatePanel  # noqa: E402


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return train_underconfident_run(tmp_path_factory.mktemp("runs") / "r1")


@pytest.fixture()
def panel(qtbot):
    w = EvaluatePanel()
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    yield w
    w.shutdown()


def test_ece_diagram_and_the_calibrate_button(qtbot, panel, run_dir, tmp_path):
    model = tmp_path / "r1" / "model.h5"
    shutil.copytree(run_dir, model.parent)
    with qtbot.waitSignal(panel.model_loaded, timeout=LOAD_TIMEOUT):
        panel.open_model(str(model))
    assert "<b>Confidence:</b> not calibrated" in panel.assumptions_label.text()
    panel.set_dataset("builtin")
    with qtbot.waitSignal(panel.evaluation_finished, timeout=60_000) as done:
        panel.evaluate()
    raw = done.args[0]
    assert f"ECE <b>{raw.ece:.3f}</b> <small>(not calibrated)</small>" in panel.score_label.text()
    drawn = panel.calibration.diagram.bins
    assert drawn == raw.reliability.bins and sum(b.count for b in drawn) == raw.n
    bars = panel.calibration.diagram._items[0].opts
    full = [b for b in drawn if b.count]
    assert np.allclose(bars["height"], [b.accuracy for b in full])  # the bars are the bins' accuracies
    assert panel.calibration.head.text() == f"ECE <b>{raw.ece:.4f}</b> — not calibrated"
    assert f"Expected calibration error on {raw.n:,} images" in panel.calibration.head.toolTip()
    panel.side_tabs.setCurrentIndex(1)
    save_shot(panel, "evaluate_calibration_before.png")

    with qtbot.waitSignal(panel.evaluation_finished, timeout=120_000) as again:
        qtbot.mouseClick(panel.calibration.calibrate_button, Qt.MouseButton.LeftButton)
    after = again.args[0]
    outcome = panel.calibration.outcome
    stored = read_metadata(model)["temperature"]
    assert stored["value"] == pytest.approx(outcome.record.value) and after.temperature == pytest.approx(stored["value"])
    assert after.ece < raw.ece and after.top1 == raw.top1
    assert f"(calibrated with T={stored['value']:.3g})" in panel.score_label.text()
    assert f"{outcome.before.ece:.4f} → {outcome.after.ece:.4f}" in panel.calibration.message.text()
    assert "fitted on 48 other images (the validation split of the run in r1)" in panel.calibration.message.toolTip()
    assert "half the test split" not in panel.calibration.message.text()
    assert "Confidence:</b> calibrated: temperature" in panel.assumptions_label.text()
    save_shot(panel, "evaluate_calibration_after.png")
