"""The Export… dialog over the core's export_model, with a real tiny trained model and each real runtime."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")
from PySide6.QtCore import Qt  # noqa: E402

from workbench.core.modelio import open_model  # noqa: E402
from workbench.gui.widgets.export_dialog import NOT_LITERT_TIP, ExportDialog  # noqa: E402

from tests.core.export_fixtures import train_ours  # noqa: E402

from .conftest import LONG  # noqa: E402

NAMES = {"savedmodel": "net_savedmodel", "litert": "net.tflite", "onnx": "net.onnx"}


def _needs(fmt: str) -> None:
    if fmt == "litert":
        pytest.importorskip("ai_edge_litert", reason="ai-edge-litert (the export extra) is not installed")
    if fmt == "onnx":
        pytest.importorskip("onnxruntime", reason="onnxruntime (the export extra) is not installed")
        pytest.importorskip("tf2onnx", reason="tf2onnx (the export extra) is not installed")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    return train_ours(tmp_path_factory.mktemp("export-dialog-model"), "model.h5")


@pytest.fixture(scope="module")
def loaded(model_file):
    return open_model(model_file).loaded


def _dialog(qtbot, loaded, fmt: str, out: Path, **kwargs) -> ExportDialog:
    dialog = ExportDialog(loaded, **kwargs)
    qtbot.addWidget(dialog)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(fmt))
    dialog.out_edit.setText(str(out))
    return dialog


def _table(dialog: ExportDialog) -> dict[str, str]:
    t = dialog.table
    return {t.item(r, 0).text(): t.item(r, 1).text() for r in range(t.rowCount())}


@pytest.mark.parametrize("fmt", ["savedmodel", "litert", "onnx"])
def test_exports_each_format_and_shows_its_check(qtbot, loaded, tmp_path, fmt):
    _needs(fmt)
    out = tmp_path / NAMES[fmt]
    dialog = _dialog(qtbot, loaded, fmt, out)
    assert "test images of" in dialog.check_label.text()  # the built-in dataset is on disk
    assert dialog.export_button.isEnabled()
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.tasks.is_idle() and bool(dialog.report or dialog.error), timeout=LONG)
    assert dialog.error == "" and dialog.report is not None
    check = dialog.report.check
    assert check.agreement >= 0.99
    rows = _table(dialog)
    agree = round(check.agreement * check.images)
    assert rows["Agreement with Keras"] == f"{agree}/{check.images} = {check.agreement:.3f}"
    assert rows["max |Δp|"] == f"{check.max_abs_diff:.2g}"
    assert rows["File size"].endswith(("kB", "MB"))
    assert f"ms in {dialog.runtime}; Keras" in rows["Latency per image"]
    assert dialog.runtime.split()[0] in {"savedmodel": "TensorFlow", "litert": "ai-edge-litert", "onnx": "ONNX"}[fmt]
    assert os.path.exists(out) and os.path.exists(dialog.report.card_md)
    assert dialog.open_folder_button.isVisible() or not dialog.isVisible()
    assert Path(dialog.report.card_md).parent == (out if fmt == "savedmodel" else out.parent)


def test_quantization_only_for_litert(qtbot, loaded, tmp_path):
    dialog = _dialog(qtbot, loaded, "onnx", tmp_path / "a.onnx")
    assert not dialog.quantize_combo.isEnabled() and dialog.quantize_combo.toolTip() == NOT_LITERT_TIP
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("litert"))
    assert dialog.quantize_combo.isEnabled() and dialog.out_edit.text().endswith("a.tflite")
    dialog.quantize_combo.setCurrentIndex(dialog.quantize_combo.findData("int8"))
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("savedmodel"))
    assert dialog.quantize == "none" and not dialog.quantize_combo.isEnabled()
    assert dialog.out_edit.text().endswith("a_savedmodel")


def test_existing_output_is_refused_and_unchanged(qtbot, loaded, tmp_path):
    out = tmp_path / "taken.onnx"
    out.write_bytes(b"the user's file")
    dialog = _dialog(qtbot, loaded, "onnx", out)
    assert not dialog.export_button.isEnabled()
    assert "already exists" in dialog.status.text()
    dialog.export()  # even when forced, the core's refusal stands
    assert "already exists" in dialog.error and dialog.tasks.is_idle()
    assert out.read_bytes() == b"the user's file" and sorted(os.listdir(tmp_path)) == ["taken.onnx"]


def test_cancel_leaves_nothing_behind(qtbot, loaded, tmp_path):
    _needs("onnx")
    out = tmp_path / "net.onnx"
    dialog = _dialog(qtbot, loaded, "onnx", out)
    dialog.export()
    assert dialog.cancel_button.text() == "Cancel"
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert "Cancelling" in dialog.status.text()
    qtbot.waitUntil(dialog.tasks.is_idle, timeout=LONG)
    assert "cancelled; nothing was written" in dialog.status.text()
    assert os.listdir(tmp_path) == [] and dialog.report is None
    assert dialog.cancel_button.text() == "Close"


def test_a_failed_check_says_why_and_writes_nothing(qtbot, loaded, tmp_path):
    _needs("litert")
    out = tmp_path / "net.tflite"
    dialog = _dialog(qtbot, loaded, "litert", out, min_agreement=1.01)  # no export agrees on more than all
    dialog.export()
    qtbot.waitUntil(lambda: dialog.tasks.is_idle() and bool(dialog.error), timeout=LONG)
    assert "agrees with Keras on only" in dialog.error and "nothing was written" in dialog.error
    assert dialog.status.text() == dialog.error and not dialog.table.isVisible()
    assert os.listdir(tmp_path) == [] and dialog.report is None


def test_classify_and_model_tab_open_the_dialog_with_their_model(qtbot, loaded):
    from workbench.gui.panels.classify import ClassifyPanel
    from workbench.gui.panels.model_view import ModelViewPanel

    classify = ClassifyPanel()
    qtbot.addWidget(classify)
    assert not classify.export_model_button.isEnabled() and "no model" in classify.export_model_button.toolTip()
    classify.setup.set_model(loaded)
    qtbot.waitUntil(lambda: classify.loaded is loaded, timeout=LONG)
    assert classify.export_model_button.isEnabled()
    qtbot.mouseClick(classify.export_model_button, Qt.MouseButton.LeftButton)
    assert classify.export_dialog.loaded is loaded and classify.export_dialog.isVisible()
    classify.export_dialog.close()

    view = ModelViewPanel()
    qtbot.addWidget(view)
    assert not view.export_button.isEnabled() and "no model" in view.export_button.toolTip()
    view.follow_model(loaded, "builtin", None)
    assert view.export_button.isEnabled()
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    assert view.export_dialog.loaded is loaded
    view.export_dialog.close()
    view.layers_view.tasks.cancel_all()
    view.tasks.wait_all()
    classify.shutdown()


def test_runs_table_exports_the_selected_runs_model(qtbot, model_file, tmp_path):
    import shutil

    from workbench.gui.panels.runs import RunsPanel

    from tests.core.run_fixtures import write_run

    run = Path(write_run(tmp_path, "a", config={"arch": "simple_cnn", "data_dir": str(tmp_path)},
                         final_top1=0.3))
    shutil.copy(model_file, run / "model.h5")
    panel = RunsPanel()
    qtbot.addWidget(panel)
    panel.runs_root = str(tmp_path)
    with qtbot.waitSignal(panel.runs_listed, timeout=LONG):
        panel.refresh()
    assert panel.model.rowCount() == 1
    assert not panel.export_model_button.isEnabled()
    panel.select_dirs([str(run)])
    assert panel.export_model_button.isEnabled()
    qtbot.mouseClick(panel.export_model_button, Qt.MouseButton.LeftButton)
    dialog = panel.export_dialog
    # the model is delivered before its thread has ended: wait for both, or the thread outlives the test
    qtbot.waitUntil(lambda: dialog.loaded is not None and dialog.tasks.is_idle(), timeout=LONG)
    assert Path(dialog.loaded.path) == run / "model.h5" and dialog.data_dir == str(tmp_path)
    assert dialog.out_edit.text() == str(run / "model_savedmodel")
    dialog.close()
    panel.tasks.cancel_all()
    assert panel.tasks.wait_all(LONG)


def test_check_images_are_named_or_their_absence_said(qtbot, loaded, tmp_path):
    import dataclasses

    dialog = ExportDialog(loaded)
    qtbot.addWidget(dialog)
    assert dialog.check_label.text().startswith("the first 200 test images of")
    away = ExportDialog(dataclasses.replace(loaded, dataset_id="cifar10"), data_dir=str(tmp_path))
    qtbot.addWidget(away)
    text = away.check_label.text()
    assert "cifar10 is not on this computer" in text and "will not be checked" in text
    none = ExportDialog(dataclasses.replace(loaded, dataset_id=None))
    qtbot.addWidget(none)
    assert "records no dataset" in none.check_label.text()
