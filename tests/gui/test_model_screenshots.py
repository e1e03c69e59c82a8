"""`screenshots --model`: every explain view rendered from a trained model, and the user's file untouched
(Calibrate writes a temperature into the file it evaluates, so the tour works on a copy)."""

from __future__ import annotations

import hashlib

import pytest

from tests.explain_models import trained_cnn

EXPECTED = ["50-evaluate-gradcam.png", "51-gradcam-confident-mistake.png", "52-calibration-before.png",
            "53-calibration-after.png", "53b-reliability-before.png", "53c-reliability-after.png", "54-layers.png",
            "55-map-pca.png", "56-map-tsne.png", "57-map-point.png", "58-classify-gradcam.png"]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    from workbench.core.modelio.save import save_model

    model, ds = trained_cnn()
    return save_model(model, tmp_path_factory.mktemp("model") / "tiny.h5", class_names=ds.class_names,
                      dataset_id="builtin", arch="simple_cnn")


def test_model_screenshots_show_every_view_and_leave_the_file_alone(qapp, model_file, tmp_path):
    from PySide6.QtGui import QImage

    from workbench.gui.model_screenshots import take_model_screenshots

    before = hashlib.sha256(model_file.read_bytes()).hexdigest()
    saved = take_model_screenshots(tmp_path / "shots", str(model_file), "builtin")
    assert [p.name for p in saved] == EXPECTED
    for path in saved:
        image = QImage(str(path))
        assert image.width() >= 200 and image.height() >= 150, path.name
    window_shot = QImage(str(tmp_path / "shots" / "50-evaluate-gradcam.png"))
    assert (window_shot.width(), window_shot.height()) == (1280, 720)  # the whole window, at the size it must fit
    assert hashlib.sha256(model_file.read_bytes()).hexdigest() == before
