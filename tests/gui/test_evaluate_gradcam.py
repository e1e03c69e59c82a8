"""Grad-CAM in the Evaluate tab, with a real trained model: overlays on the most confident mistakes and
on a clicked confusion cell's images, each explaining the class the model predicted."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from tests.explain_models import save, trained_cnn  # noqa: E402
from tests.gui.conftest import LOAD_TIMEOUT, save_shot  # noqa: E402
from workbench.gui.panels.evaluate import EvaluatePanel  # noqa: E402


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    model, ds = trained_cnn()
    return save(model, ds, tmp_path_factory.mktemp("evalcam"), "cnn.h5")


@pytest.fixture()
def panel(qtbot):
    w = EvaluatePanel()
    qtbot.addWidget(w)
    w.resize(1200, 760)
    w.show()
    yield w
    w.shutdown()


def _pixels(label) -> bytes:
    image = label.pixmap().toImage()
    return bytes(image.constBits())


def test_overlays_on_mistakes_and_a_cell(qtbot, panel, model_file):
    with qtbot.waitSignal(panel.model_loaded, timeout=LOAD_TIMEOUT):
        panel.open_model(model_file)
    panel.set_dataset("builtin")
    panel.set_limit(200)
    with qtbot.waitSignal(panel.evaluation_finished, timeout=LOAD_TIMEOUT):
        panel.evaluate()
    tiles = panel.mistakes.tiles
    assert tiles, "the briefly trained model makes mistakes"
    plain = [_pixels(t.picture) for t in tiles]
    with qtbot.waitSignal(panel.gradcam.overlays_shown, timeout=LOAD_TIMEOUT):
        panel.gradcam.check.setChecked(True)
    r = panel.result
    for tile, before in zip(tiles, plain):
        said = r.class_names[int(r.y_pred[tile.index])]
        assert f"looked here when it said {said}" in tile.toolTip()
        assert _pixels(tile.picture) != before
        m = panel.gradcam._maps[tile.index]
        assert m.class_index == int(r.y_pred[tile.index]) and m.method == "grad-cam"
    assert "Grad-CAM" in panel.gradcam.note.text() and "where the model looked" in panel.gradcam.note.toolTip()
    big, looked = panel.gradcam.enlarged(tiles[0].index, panel.run.images[tiles[0].index])
    assert big.shape == (320, 320, 3) and "looked here when it said" in looked  # what a click enlarges
    half = _pixels(tiles[0].picture)
    panel.gradcam.slider.setValue(90)
    assert _pixels(tiles[0].picture) != half

    true, pred = next((t, p) for t in range(r.num_classes) for p in range(r.num_classes)
                      if t != p and r.confusion[t, p] > 0)
    with qtbot.waitSignal(panel.gradcam.overlays_shown, timeout=LOAD_TIMEOUT):
        panel.open_cell(true, pred)
    dialog = panel.cell_dialog
    caption = dialog.gradcam_caption.text()
    assert f"looked here when it said {r.class_names[pred]}" in caption
    assert all(i in panel.gradcam._maps for i in dialog.grid.indices)
    save_shot(panel, "evaluate_gradcam.png")
    save_shot(dialog, "evaluate_gradcam_cell.png")

    panel.gradcam.check.setChecked(False)
    assert all("looked here" not in t.toolTip() for t in tiles)
    assert [_pixels(t.picture) for t in tiles] == plain
    assert panel.gradcam.enlarged(tiles[0].index, panel.run.images[tiles[0].index])[1] == ""
    assert np.isfinite(panel.gradcam._maps[tiles[0].index].heat).all()
