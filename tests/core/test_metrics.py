"""Honest top-k: exactly k classes per prediction, ties to the lower class index (report defect 2)."""

import numpy as np
import pytest

from workbench.core.metrics import accuracy_and_topk, top_k_correct, top_k_predictions

C = 20
LABELS = np.arange(400) % C  # uniform labels


def test_numpy_constant_output_scores_k_over_c():
    constant = np.full((len(LABELS), C), 1.0 / C, dtype=np.float32)
    top1, top5 = accuracy_and_topk(constant, LABELS, k=5)
    assert top1 == pytest.approx(1 / C) and top5 == pytest.approx(5 / C)
    assert top_k_predictions(constant[:1], 3).tolist() == [[0, 1, 2]]


def test_numpy_ties_go_to_the_lower_index():
    probs = np.array([[0.1, 0.3, 0.3, 0.3]])
    assert top_k_predictions(probs, 2).tolist() == [[1, 2]]
    assert top_k_correct(probs, [3], 2).tolist() == [False]
    assert top_k_correct(probs, [2], 2).tolist() == [True]


def test_numpy_perfect_and_accepts_column_labels():
    probs = np.eye(C)[LABELS]
    assert accuracy_and_topk(probs, LABELS[:, None]) == (1.0, 1.0)
    assert accuracy_and_topk(np.eye(3)[[0, 1]], [0, 1], k=5) == (1.0, 1.0)  # k capped at 3 classes


@pytest.mark.parametrize(
    "probs, labels, k, fragment",
    [
        (np.zeros((2, 3)), [0], 1, "2 score rows but 1 labels"),
        (np.zeros(3), [0], 1, "2-D"),
        (np.zeros((1, 3)), [3], 1, "between 0 and 2"),
        (np.zeros((1, 3)), [0], 4, "k must be between 1 and"),
    ],
)
def test_numpy_bad_input(probs, labels, k, fragment):
    with pytest.raises(ValueError, match=fragment):
        top_k_correct(probs, labels, k)


def test_keras_metric_is_honest_where_keras_own_is_not():
    import keras

    from workbench.core.metrics import TopKAccuracy

    constant = np.full((len(LABELS), C), 1.0 / C, dtype=np.float32)
    honest5, honest1 = TopKAccuracy(5), TopKAccuracy(1)
    honest5.update_state(LABELS, constant)
    honest1.update_state(LABELS[:, None], constant)
    assert float(honest5.result()) == pytest.approx(5 / C, abs=1e-6)
    assert float(honest1.result()) == pytest.approx(1 / C, abs=1e-6)
    # Documents the defect the report hit: Keras' own metric counts every tie as a hit.
    keras_own = keras.metrics.SparseTopKCategoricalAccuracy(5)
    keras_own.update_state(LABELS, constant)
    assert float(keras_own.result()) == pytest.approx(1.0)
    assert honest5.name == "top5_accuracy"


def test_keras_metric_matches_numpy_on_random_scores_and_serialises():
    import keras

    from workbench.core.metrics import TopKAccuracy

    probs = np.random.default_rng(1).random((300, C)).astype(np.float32)
    metric = TopKAccuracy(3, name="top3")
    metric.update_state(LABELS[:300], probs)
    assert float(metric.result()) == pytest.approx(top_k_correct(probs, LABELS[:300], 3).mean(), abs=1e-6)
    clone = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert isinstance(clone, TopKAccuracy) and clone.k == 3 and clone.name == "top3"


def test_keras_metric_caps_k_at_the_class_count():
    from workbench.core.metrics import TopKAccuracy

    metric = TopKAccuracy(5)
    metric.update_state([0, 2], np.eye(3, dtype="float32")[[1, 1]])
    assert float(metric.result()) == pytest.approx(1.0)


def test_keras_metric_works_inside_fit():
    from workbench.core.architectures import build_model
    from workbench.core.metrics import TopKAccuracy

    model = build_model("embedded_cnn", 10)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy", TopKAccuracy(5)])
    pixels = np.random.default_rng(2).integers(0, 256, size=(16, 32, 32, 3), dtype=np.uint8)
    history = model.fit(pixels, np.arange(16) % 10, batch_size=8, epochs=1, verbose=0)
    assert 0.0 <= history.history["top5_accuracy"][0] <= 1.0
