"""The model setup box shows the core's answer: why each choice was made, warnings, and the JSON that fits."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from tests.gui.conftest import LOAD_TIMEOUT  # noqa: E402
from workbench.gui.widgets.model_setup import ModelSetupBox  # noqa: E402


@pytest.fixture()
def box(qtbot):
    w = ModelSetupBox()
    qtbot.addWidget(w)
    yield w
    w.shutdown()


def test_reason_and_double_scaling_warning_are_shown(qtbot, box, tmp_path):
    import keras

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Rescaling(1 / 255.0), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    path = tmp_path / "scales_itself.keras"
    model.save(path)
    with qtbot.waitSignal(box.model_loaded, timeout=LOAD_TIMEOUT) as blocker:
        box.open_model(str(path))
    assert blocker.args[0].preprocessing.kind == "raw_0_255"
    why = box.options.why_label.text()
    assert "scales pixels itself" in why and "assumed CIFAR-10" in why and "Warning" not in why
    with qtbot.waitSignal(box.model_loaded, timeout=LOAD_TIMEOUT) as blocker:
        box.choose_preprocessing("scale_0_1")
    assert blocker.args[0].preprocessing_reason == "chosen in the Preprocessing box"
    assert "scaled twice" in box.options.why_label.text()


def test_weights_only_file_offers_the_json_that_fits(qtbot, box, tmp_path):
    import keras

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(10, name="head")])
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(tmp_path / "w.h5", "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "net.json").write_text(model.to_json())
    with qtbot.waitSignal(box.needs_input, timeout=LOAD_TIMEOUT):
        box.open_model(str(tmp_path / "w.h5"))
    assert box.arch_combo.currentData() == str(tmp_path / "net.json")
    assert "net.json" in box.status_label.text()
    with qtbot.waitSignal(box.model_loaded, timeout=LOAD_TIMEOUT):
        box.weights_box.load_button.click()
    assert not box.weights_box.isVisibleTo(box)
