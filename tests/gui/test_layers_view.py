"""Layers for one image, in the Model tab: a plain and a nested real model, a test image and a dropped file."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from tests.explain_models import nested, trained_cnn  # noqa: E402
from tests.gui.conftest import LOAD_TIMEOUT, save_shot  # noqa: E402
from workbench.gui.panels.model_view import ModelViewPanel  # noqa: E402


@pytest.fixture(scope="module")
def models():
    from workbench.core.modelio.loaded_model import LoadedModel

    model, ds = trained_cnn()
    return (LoadedModel.from_keras(model, ds.class_names, dataset_id="builtin"),
            LoadedModel.from_keras(nested(model), ds.class_names, dataset_id="builtin"), ds)


@pytest.fixture()
def panel(qtbot):
    w = ModelViewPanel()
    qtbot.addWidget(w)
    w.resize(1000, 640)
    w.show()
    w.views.setCurrentWidget(w.layers_view)
    yield w
    w.tasks.cancel_all()
    w.tasks.wait_all()


def _follow(qtbot, view, loaded):
    with qtbot.waitSignal(view.shown, timeout=LOAD_TIMEOUT):
        view.follow_model(loaded, "builtin", None)


@pytest.mark.parametrize("which", ["plain", "nested"])
def test_maps_filters_and_statistics_for_a_test_image(qtbot, panel, models, which):
    loaded = models[0] if which == "plain" else models[1]
    view = panel.layers_view
    _follow(qtbot, view, loaded)
    layers = view.answer.layers.layers
    assert view.table.rowCount() == len(layers) >= 6
    names = [view.table.item(r, 0).text() for r in range(view.table.rowCount())]
    conv2 = next(n for n in names if n.endswith("conv2"))
    assert (conv2 == "conv2") == (which == "plain")  # nested layers are named by their path
    view.select_layer(conv2)
    assert view.selected_layer() == conv2
    assert view.maps.tile_count == 64 and "64" in view.maps.caption.text()
    dead_cell = view.table.item(names.index(conv2), 4).text()
    layer = view.answer.layers.layer(conv2)
    assert dead_cell.startswith(f"{layer.dead_share * 100:.0f} %")
    assert view.filters.tile_count == 32  # conv1's filters
    assert "test #0" in view.message.text() and "the model says" in view.message.text()
    save_shot(panel, f"layers_view_{which}.png")


def test_another_test_image_and_a_dropped_file(qtbot, panel, models, tmp_path):
    from PIL import Image

    loaded, _outer, ds = models
    view = panel.layers_view
    _follow(qtbot, view, loaded)
    first = view.answer.layers.image.copy()
    with qtbot.waitSignal(view.shown, timeout=LOAD_TIMEOUT):
        view.index_spin.setValue(5)
    assert np.array_equal(view.answer.layers.image, ds.x_test[5])
    assert not np.array_equal(first, view.answer.layers.image)
    path = tmp_path / "photo.png"
    Image.fromarray(ds.x_test[9]).save(path)
    with qtbot.waitSignal(view.shown, timeout=LOAD_TIMEOUT):
        view.show_file(path)
    assert np.array_equal(view.answer.layers.image, ds.x_test[9])
    assert "photo.png" in view.message.text()
    with qtbot.waitSignal(view.failed, timeout=LOAD_TIMEOUT):
        view.show_file(tmp_path / "missing.png")
    assert "missing.png" in view.message.text()


def test_the_window_hands_the_evaluate_model_to_the_layers_view(qtbot, qapp, make_window, models):
    from tests.gui.layout_check import fit_problems
    from workbench.gui.resources import stylesheet

    qapp.setStyleSheet(stylesheet())  # the window's sizes with its style sheet
    window = make_window()
    loaded = models[0]
    window.evaluate.set_model(loaded)
    view = window.model_view.layers_view
    qtbot.waitUntil(lambda: view.loaded is not None, timeout=LOAD_TIMEOUT)
    assert view.dataset_id == "builtin"
    window.tabs.setCurrentWidget(window.model_view)
    with qtbot.waitSignal(view.shown, timeout=LOAD_TIMEOUT):
        window.model_view.views.setCurrentWidget(view)  # computed when first shown, not before
    assert view.table.rowCount() == len(view.answer.layers.layers)
    shown = []
    window.classify.gradcam.overlay_shown.connect(lambda row, _s: shown.append(row))
    window.classify.add_test_images(2, "builtin")  # Classify followed Evaluate's model: rows with overlays
    qtbot.waitUntil(lambda: len(shown) >= 2, timeout=LOAD_TIMEOUT)
    found = fit_problems(window, "layers view shown, Grad-CAM rows in Classify")
    qapp.setStyleSheet("")
    window.shutdown()
    assert not found, "\n".join(found)
