"""Evaluate and Classify with models of other shapes than CIFAR's: the test set follows the model's input
(28×28×1 with 10 outputs -> MNIST), the loader's warnings are in the status, evaluate says how it fitted
the images and marks top-5 where 5 classes make it meaningless, and a model with non-finite outputs gets
its sentence. Real Keras models and Qt (pytest-qt)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui.conftest import LOAD_TIMEOUT
from workbench.core.datasets import DATASETS
from workbench.gui.panels.classify import ClassifyPanel
from workbench.gui.panels.evaluate import EvaluatePanel


@pytest.fixture
def evaluate_panel(qtbot):
    w = EvaluatePanel()
    qtbot.addWidget(w)
    w.resize(1300, 820)
    w.show()
    yield w
    w.shutdown()


@pytest.fixture
def classify_panel(qtbot):
    w = ClassifyPanel()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.shutdown()


@pytest.fixture(scope="module")
def digits_file(tmp_path_factory):
    """A 10-output 28×28×1 network saved by plain Keras: no class names, no dataset recorded."""
    from workbench.core.architectures import build_model

    path = tmp_path_factory.mktemp("digits") / "digits.keras"
    build_model("simple_cnn", 10, input_shape=(28, 28, 1)).save(path)
    return str(path)


@pytest.fixture(scope="module")
def shapes_gray_file(tmp_path_factory):
    """5 outputs at 28×28×1, with metadata naming 3 classes (the loader warns and ignores them)."""
    from workbench.core.architectures import build_model
    from workbench.core.modelio import read_metadata, save_model, write_metadata

    path = tmp_path_factory.mktemp("gray") / "shapes_gray.h5"
    save_model(build_model("simple_cnn", 5, input_shape=(28, 28, 1)), path,
               class_names=DATASETS["builtin"].class_names, dataset_id="builtin")
    meta = read_metadata(path)
    write_metadata(path, {**meta, "class_names": ["a", "b", "c"], "dataset": None})
    return str(path)


def test_evaluate_picks_mnist_for_a_28x28x1_model_with_10_outputs(qtbot, evaluate_panel, classify_panel,
                                                                  digits_file):
    assert evaluate_panel.dataset_combo.currentData() == "cifar10"  # the first entry, before any model
    with qtbot.waitSignal(evaluate_panel.model_loaded, timeout=LOAD_TIMEOUT) as loaded:
        evaluate_panel.open_model(digits_file)
    assert loaded.args[0].dataset_id == "mnist"
    assert evaluate_panel.dataset_combo.currentData() == "mnist"
    assert "assumed MNIST (handwritten digits) because the model has 10 outputs and takes 28×28×1 images" in (
        evaluate_panel.assumptions_label.text())
    with qtbot.waitSignal(classify_panel.model_loaded, timeout=LOAD_TIMEOUT):
        classify_panel.open_model(digits_file)
    assert classify_panel.dataset_combo.currentData() == "mnist"


def test_evaluate_shows_warnings_fitting_steps_and_marks_top5_with_5_classes(
        qtbot, evaluate_panel, shapes_gray_file):
    with qtbot.waitSignal(evaluate_panel.model_loaded, timeout=LOAD_TIMEOUT):
        evaluate_panel.open_model(shapes_gray_file)
    status = evaluate_panel.score_label.text()
    assert status.startswith(
        "Model ready — press Evaluate. ⚠ shapes_gray.h5 records 3 class names but has 5 outputs")
    assert evaluate_panel.dataset_combo.currentData() == "builtin"  # the only 5-class set
    evaluate_panel.set_limit(40)
    with qtbot.waitSignal(evaluate_panel.evaluation_finished, timeout=60_000) as done:
        evaluate_panel.evaluate()
    result = done.args[0]
    assert result.top5 == pytest.approx(1.0)  # what a 100 % top-5 would have said
    text = evaluate_panel.score_label.text()
    assert "top-5 is meaningless with 5 classes" in text and "Top-5 <b>" not in text
    assert "<br><small>resized the 32×32 images to the model's 28×28.</small>" in text
    assert "converted the images to grayscale (the model takes 1 channel)" in text


def test_classify_status_carries_the_loader_warning(qtbot, classify_panel, shapes_gray_file):
    with qtbot.waitSignal(classify_panel.model_loaded, timeout=LOAD_TIMEOUT):
        classify_panel.open_model(shapes_gray_file)
    assert classify_panel.status_label.text().startswith(
        "Model ready — add images. ⚠ shapes_gray.h5 records 3 class names but has 5 outputs")


def test_a_model_with_non_finite_outputs_gets_its_sentence(qtbot, evaluate_panel, tmp_path):
    import keras

    from workbench.core.modelio import save_model

    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.Dense(5, activation="softmax")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    model.set_weights([np.full(w.shape, np.nan, np.float32) for w in model.get_weights()])
    path = save_model(model, tmp_path / "broken.h5", class_names=DATASETS["builtin"].class_names,
                      dataset_id="builtin")
    with qtbot.waitSignal(evaluate_panel.model_loaded, timeout=LOAD_TIMEOUT):
        evaluate_panel.open_model(str(path))
    evaluate_panel.set_limit(20)
    with qtbot.waitSignal(evaluate_panel.evaluation_failed, timeout=60_000) as failed:
        evaluate_panel.evaluate()
    assert failed.args[0] == ("broken.h5 outputs NaN for these images: the model is broken (for example, its "
                              "training diverged); retrain it, e.g. with a smaller learning rate.")
    assert failed.args[0] in evaluate_panel.score_label.text()
