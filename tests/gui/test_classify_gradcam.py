"""Grad-CAM in the Classify tab, with real trained models: the overlay appears, its opacity changes the
pixels, another class or layer changes the map, and a model without spatial layers says its map is a
fallback."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from tests.explain_models import dense_only, save, trained_cnn  # noqa: E402
from tests.gui.conftest import LOAD_TIMEOUT, save_shot  # noqa: E402
from workbench.gui.panels.classify import ClassifyPanel  # noqa: E402


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gradcam")
    model, ds = trained_cnn()
    return {"cnn": save(model, ds, folder, "cnn.h5"), "flat": save(dense_only(ds), ds, folder, "flat.h5")}


@pytest.fixture()
def panel(qtbot):
    w = ClassifyPanel()
    qtbot.addWidget(w)
    w.resize(1200, 760)
    w.show()
    yield w
    w.shutdown()


def _classify(qtbot, panel, path, count=3):
    with qtbot.waitSignal(panel.model_loaded, timeout=LOAD_TIMEOUT):
        panel.open_model(path)
    shown = []
    panel.gradcam.overlay_shown.connect(lambda row, _s: shown.append(row))
    with qtbot.waitSignal(panel.results_shown, timeout=LOAD_TIMEOUT):
        panel.add_test_images(count, "builtin")
    qtbot.waitUntil(lambda: len(shown) >= count, timeout=LOAD_TIMEOUT)
    return shown


def _redraw_wait(qtbot, box, action):
    with qtbot.waitSignal(box.overlay_shown, timeout=LOAD_TIMEOUT):
        action()


def test_overlay_opacity_class_and_layer(qtbot, panel, model_files):
    _classify(qtbot, panel, model_files["cnn"])
    row = panel.row_widgets[0]
    box = row.heatmap
    assert not box.picture.pixmap().isNull()
    assert box.heat.shape == (32, 32) and 0.0 <= box.heat.min() and box.heat.max() <= 1.0
    combo = panel.gradcam.layer_combo
    qtbot.waitUntil(lambda: combo.count() > 1, timeout=LOAD_TIMEOUT)
    default = combo.itemText(0).split(": ")[1]  # the last spatial layer, found by the core
    assert default == "pool3" and "Grad-CAM" in box.caption.text() and default in box.caption.text()
    assert box.class_combo.count() == 5
    assert box.class_combo.currentData() == panel.loaded.class_names.index(row.row.top[0][0])  # its top guess
    half = box.blended.copy()
    _redraw_wait(qtbot, box, lambda: box.slider.setValue(0))
    plain = box.blended.copy()
    _redraw_wait(qtbot, box, lambda: box.slider.setValue(100))
    assert not np.array_equal(half, plain) and not np.array_equal(half, box.blended)
    factor = box.size_px // 32
    enlarged = np.repeat(np.repeat(row.row.model_input, factor, 0), factor, 1)
    assert np.abs(plain.astype(int) - enlarged).max() <= 1  # no map at opacity 0

    first = box.heat.copy()
    _redraw_wait(qtbot, box, lambda: box.class_combo.setCurrentIndex(box.class_combo.count() - 1))
    assert not np.allclose(first, box.heat, atol=1e-3)  # the least likely class's evidence is elsewhere
    assert default in box.picture.toolTip() and box.class_combo.currentText().split()[0] in box.picture.toolTip()

    _redraw_wait(qtbot, box, lambda: combo.setCurrentIndex(combo.findData("conv1")))
    assert "conv1" in box.caption.text()
    save_shot(panel, "classify_gradcam.png")


def test_a_model_without_spatial_layers_gets_the_fallback_said(qtbot, panel, model_files):
    _classify(qtbot, panel, model_files["flat"], count=2)
    box = panel.row_widgets[0].heatmap
    assert "fallback" in box.caption.text() and "saliency" in box.caption.text()
    assert "Grad-CAM" not in box.caption.text()
    assert box.heat.shape == (32, 32) and not box.picture.pixmap().isNull()
    assert "none" in panel.gradcam.layer_combo.itemText(0)
