"""Classify panel: a small saved model, image files (one not an image), weights-only files, a screenshot."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from tests.gui.conftest import LOAD_TIMEOUT, save_shot  # noqa: E402
from workbench.gui.panels.classify import ClassifyPanel  # noqa: E402

CLASS_NAMES = ("apple", "boat", "cloud", "dog")


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """A 4-class simple_cnn saved with our metadata, and the same weights as a Keras-2-style weights-only file."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    from workbench.core.architectures import build_model
    from workbench.core.modelio import save_model

    folder = tmp_path_factory.mktemp("models")
    model = build_model("simple_cnn", len(CLASS_NAMES))
    full = save_model(model, folder / "small.h5", class_names=CLASS_NAMES, dataset_id="custom", arch="simple_cnn")
    weights = folder / "small_weights_only.h5"
    with h5py.File(weights, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return {"full": str(full), "weights": str(weights)}


@pytest.fixture()
def image_files(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    png = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(png)
    jpg = tmp_path / "small.jpg"
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(jpg, quality=90)
    txt = tmp_path / "notes.txt"
    txt.write_text("this is not an image\n")
    return [str(png), str(txt), str(jpg)]


@pytest.fixture()
def panel(qtbot):
    w = ClassifyPanel()
    qtbot.addWidget(w)
    w.resize(1200, 760)
    yield w
    w.shutdown()


def _open(qtbot, panel, path):
    with qtbot.waitSignal(panel.model_loaded, timeout=LOAD_TIMEOUT) as blocker:
        panel.open_model(path)
    return blocker.args[0]


def test_classifies_images_and_reports_a_non_image_in_its_own_row(qtbot, panel, model_files, image_files, tmp_path):
    loaded = _open(qtbot, panel, model_files["full"])
    assert tuple(loaded.class_names) == CLASS_NAMES
    assert "Keras" in panel.setup.info_label.text()
    assert not panel.setup.preprocessing_combo.isEnabled()  # ours: raw pixels, fixed
    said = panel.assumptions_label.text()  # what was assumed, under the model box
    assert panel.assumptions_label.isVisibleTo(panel) and "Preprocessing:" in said and "Class names:" in said

    with qtbot.waitSignal(panel.results_shown, timeout=60_000) as blocker:
        panel.add_images(image_files)
    assert blocker.args == [3]
    rows = panel.result_rows()
    assert [Path(r.source).name for r in rows] == ["photo.png", "notes.txt", "small.jpg"]
    ok = [w for w in panel.row_widgets if w.row.ok]
    bad = [w for w in panel.row_widgets if not w.row.ok]
    assert len(ok) == 2 and len(bad) == 1
    for w in ok:
        labels = w.bars.labels()
        probs = w.bars.probabilities()
        assert len(labels) == min(5, len(CLASS_NAMES))
        assert set(labels) <= set(CLASS_NAMES)
        assert sum(probs) <= 1.0 + 1e-5 and all(0.0 <= p <= 1.0 for p in probs)
        assert probs == sorted(probs, reverse=True)
        assert w.row.model_input.shape == (32, 32, 3)
    assert "notes.txt" in bad[0].error_label.text()

    out = tmp_path / "results.csv"
    panel.export_csv(out)
    with open(out, newline="", encoding="utf-8") as fh:
        lines = list(csv.reader(fh))
    # the core's writer, the same format the CLI writes
    assert lines[0][:4] == ["image", "error", "label_1", "probability_1"] and len(lines) == 4
    assert lines[2][0].endswith("notes.txt") and lines[2][1]  # the text file's error
    assert [r[2] for r in (lines[1], lines[3])] == [w.row.top[0][0] for w in ok]

    assert save_shot(panel, "classify_files.png")


def test_test_set_images_show_true_labels(qtbot, panel, model_files):
    _open(qtbot, panel, model_files["full"])
    with qtbot.waitSignal(panel.results_shown, timeout=60_000):
        panel.add_test_images(3, dataset_id="builtin")
    rows = panel.result_rows()
    assert len(rows) == 3 and all(r.true_label for r in rows)


def test_weights_only_file_asks_for_an_architecture_then_loads(qtbot, panel, model_files):
    with qtbot.waitSignal(panel.setup.needs_input, timeout=LOAD_TIMEOUT) as blocker:
        panel.open_model(model_files["weights"])
    assert blocker.args == ["architecture"]
    assert panel.setup.weights_box.isVisibleTo(panel)
    assert panel.setup.arch_combo.findData("simple_cnn") >= 0
    assert "weights only" in panel.setup.info_label.text().lower()
    save_shot(panel, "classify_weights_only.png")

    with qtbot.waitSignal(panel.model_loaded, timeout=LOAD_TIMEOUT) as loaded_blocker:
        panel.setup.load_weights("simple_cnn")
    loaded = loaded_blocker.args[0]
    assert loaded.num_classes == len(CLASS_NAMES)
    assert not panel.setup.weights_box.isVisibleTo(panel)
    # A foreign file: preprocessing is the user's choice, and it is remembered for the file.
    assert panel.setup.preprocessing_combo.isEnabled()


def test_images_dropped_before_a_model_wait_for_it(qtbot, panel, model_files, image_files):
    panel.handle_dropped(image_files[:1])
    assert "wait" in panel.status_label.text()
    with qtbot.waitSignal(panel.results_shown, timeout=LOAD_TIMEOUT):
        panel.handle_dropped([model_files["full"]])
    assert len(panel.result_rows()) == 1


def test_a_lambda_layer_needs_explicit_trust(qtbot, panel, tmp_path):
    import keras

    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Lambda(lambda x: x / 255.0),
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax"),
    ])
    path = tmp_path / "with_lambda.h5"
    model.save(path)
    with qtbot.waitSignal(panel.setup.needs_input, timeout=LOAD_TIMEOUT) as blocker:
        panel.open_model(str(path))
    assert blocker.args == ["trust"]
    assert panel.setup.trust_box.isVisibleTo(panel)
    assert "Python code" in panel.setup.trust_text.text()
    assert panel.loaded is None
    save_shot(panel, "classify_trust.png")
    with qtbot.waitSignal(panel.model_loaded, timeout=LOAD_TIMEOUT) as loaded:
        panel.setup.trust_and_load()
    assert loaded.args[0].num_classes == 3
    assert not panel.setup.trust_box.isVisibleTo(panel)


def test_probe_strip_marks_right_and_wrong(qtbot):
    from workbench.gui.widgets.prob_bars import ProbeStrip

    strip = ProbeStrip(columns=5, image_size=32)
    qtbot.addWidget(strip)
    images = np.zeros((25, 32, 32, 3), np.uint8)
    truth = np.arange(25) % 4
    strip.set_probes(images, truth, CLASS_NAMES)
    assert strip.accuracy() is None
    predicted = truth.copy()
    predicted[:5] = (predicted[:5] + 1) % 4
    strip.set_predictions(predicted, np.full(25, 0.9))
    assert strip.accuracy() == pytest.approx(20 / 25)
    assert strip.shown_texts()[0] == CLASS_NAMES[int(predicted[0])]


def test_a_model_trained_on_padded_images_gets_its_photos_padded(qtbot, panel, tmp_path):
    from PIL import Image

    from workbench.core.architectures import build_model
    from workbench.core.modelio import save_model

    path = save_model(build_model("simple_cnn", 4), tmp_path / "padded.h5", class_names=CLASS_NAMES,
                      dataset_id="mine", arch="simple_cnn", fit="pad")
    assert _open(qtbot, panel, str(path)).fit_rule == "pad"
    wide = tmp_path / "wide.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (30, 90, 3), dtype=np.uint8)).save(wide)
    with qtbot.waitSignal(panel.results_shown, timeout=60_000):
        panel.add_images([str(wide)])
    [row] = panel.row_widgets
    assert row.row.model_input[:5].max() == 0  # the black bar on top
    assert "padded with black bars to 32×32 as in training" in row.steps_label.text()
