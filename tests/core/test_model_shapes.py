"""Model files of other shapes than CIFAR's: weights-only files go into one of our networks built at the
size their weights fit (or the recorded one), a 10-output 28×28×1 model without metadata is read as MNIST
(and says so), evaluation converts channels as it says, and RGBA inputs are refused alike by the
networks and the model loader. Real Keras models, saved and loaded."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.architectures import build_model, input_problem
from workbench.core.datasets import DATASETS
from workbench.core.modelio import open_model
from workbench.core.modelio.inspect import image_input_problem


@pytest.fixture(scope="module")
def digits_model():
    return build_model("simple_cnn", 10, input_shape=(28, 28, 1))


def test_weights_only_file_goes_into_our_network_at_28x28x1(tmp_path, digits_model):
    path = tmp_path / "digits.weights.h5"
    digits_model.save_weights(path)
    opening = open_model(path, architecture="simple_cnn")
    assert opening.ok, opening.message
    loaded = opening.loaded
    assert loaded.input_shape == (28, 28, 1)
    assert "Built simple_cnn for 28×28×1 images, the input size its weights fit." in loaded.notes
    for mine, theirs in zip(loaded.model.get_weights(), digits_model.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    assert loaded.dataset_id == "mnist"  # its input picks the 10-class set, as below


def test_weights_only_file_is_built_at_the_shape_asked_for(tmp_path, digits_model):
    path = tmp_path / "digits.weights.h5"
    digits_model.save_weights(path)
    assert open_model(path, architecture="simple_cnn", input_shape=(28, 28, 1)).loaded.input_shape == (28, 28, 1)
    refused = open_model(path, architecture="simple_cnn", input_shape=(32, 32, 3))
    assert not refused.ok and "do not fit" in refused.message


def test_ten_outputs_at_28x28x1_without_metadata_are_read_as_mnist(tmp_path, digits_model):
    path = tmp_path / "plain.keras"
    digits_model.save(path)  # plain Keras: no workbench metadata
    loaded = open_model(path).require()
    assert loaded.class_names == DATASETS["mnist"].class_names and loaded.dataset_id == "mnist"
    assert loaded.class_names_source == (
        "assumed MNIST (handwritten digits) because the model has 10 outputs and takes 28×28×1 images like "
        "MNIST and the file records no class names")


def test_ten_outputs_at_32x32x3_stay_cifar10(tmp_path):
    path = tmp_path / "plain.keras"
    build_model("simple_cnn", 10).save(path)
    loaded = open_model(path).require()
    assert loaded.dataset_id == "cifar10" and loaded.class_names == DATASETS["cifar10"].class_names
    assert "takes 32×32×3 images like CIFAR-10" in loaded.class_names_source


def test_evaluation_converts_grayscale_test_images_for_an_rgb_model():
    from workbench.core.evaluation import evaluate

    rgb_model = build_model("simple_cnn", 10, input_shape=(28, 28, 3))
    x = np.random.default_rng(0).integers(0, 256, (6, 28, 28, 1), dtype=np.uint8)
    result = evaluate(rgb_model, x, np.arange(6), DATASETS["mnist"].class_names)
    assert result.n == 6
    assert result.steps == ("repeated the grayscale images in 3 channels (the model takes RGB)",)
    direct = rgb_model.predict(np.repeat(x, 3, axis=3), verbose=0)
    np.testing.assert_allclose(result.probabilities, direct, atol=1e-5)


def test_rgba_inputs_are_refused_by_networks_and_model_files_alike():
    assert input_problem("simple_cnn", (32, 32, 4)) is not None
    assert image_input_problem("m.h5", (32, 32, 4)) is not None
    assert input_problem("simple_cnn", (32, 32, 1)) is None and image_input_problem("m.h5", (32, 32, 1)) is None
