"""evaluate(): every number checked against a direct numpy computation on the same probabilities."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from workbench.core.evaluation import CIFAR100_FINE_TO_COARSE, EvaluationError, evaluate


@pytest.fixture(scope="module")
def model_and_data():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(1 / 255.0),
                              keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(10, activation="softmax")])
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (300, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 300)
    return model, x, y


def test_numbers_match_numpy(model_and_data):
    model, x, y = model_and_data
    names = [f"c{i}" for i in range(10)]
    progress = []
    result = evaluate(model, x, y, names, batch_size=64, progress=lambda d, t: progress.append((d, t)))
    probs = model.predict(x.astype("float32"), verbose=0)
    np.testing.assert_allclose(result.probabilities, probs, atol=1e-5)
    pred = probs.argmax(axis=1)
    assert result.n == 300
    assert result.top1 == pytest.approx((pred == y).mean())
    top5 = np.argsort(-probs, axis=1, kind="stable")[:, :5]
    assert result.top5 == pytest.approx((top5 == y[:, None]).any(axis=1).mean())
    confusion = np.zeros((10, 10), int)
    for t, p in zip(y, pred):
        confusion[t, p] += 1
    np.testing.assert_array_equal(result.confusion, confusion)
    np.testing.assert_allclose(result.per_class_accuracy, np.diag(confusion) / confusion.sum(axis=1))
    assert progress[-1] == (300, 300)

    mistakes = result.most_confident_mistakes(10)
    wrong = np.flatnonzero(pred != y)
    best_wrong = wrong[np.argmax(probs[wrong].max(axis=1))]
    assert mistakes[0].index == best_wrong and mistakes[0].true == y[best_wrong]
    assert [m.confidence for m in mistakes] == sorted((m.confidence for m in mistakes), reverse=True)

    t, p = np.unravel_index(np.argmax(confusion), confusion.shape)
    cell = result.cell_indices(int(t), int(p))
    assert len(cell) == confusion[t, p] and set(cell) == set(np.flatnonzero((y == t) & (pred == p)))
    assert list(probs[cell, p]) == sorted(probs[cell, p], reverse=True)


def test_honest_top5_with_constant_outputs():
    import keras

    # A collapsed network (all scores equal) must score 5/10 on top-5, not 100 %.
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax", kernel_initializer="zeros")])
    y = np.arange(100) % 10
    result = evaluate(model, np.zeros((100, 32, 32, 3), np.uint8), y, [str(i) for i in range(10)])
    assert result.top5 == pytest.approx(0.5) and result.top1 == pytest.approx(0.1)


def test_superclass_level_for_cifar100():
    from workbench.core.datasets import DATASETS
    from workbench.core.evaluation import _result

    fine = DATASETS["cifar100"].class_names
    coarse = DATASETS["cifar100-coarse"].class_names
    mapping = np.asarray(CIFAR100_FINE_TO_COARSE)
    assert np.bincount(mapping).tolist() == [5] * 20
    assert {fine[i] for i in np.flatnonzero(mapping == coarse.index("trees"))} == {
        "maple_tree", "oak_tree", "palm_tree", "pine_tree", "willow_tree"}
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(100), 200).astype(np.float32)
    y = rng.integers(0, 100, 200)
    result = _result(fine, y, probs, 0.0)
    sup = result.superclass_result()
    coarse_probs = np.stack([probs[:, mapping == c].sum(axis=1) for c in range(20)], axis=1)
    np.testing.assert_allclose(sup.probabilities, coarse_probs, atol=1e-5)
    assert sup.top1 == pytest.approx((coarse_probs.argmax(axis=1) == mapping[y]).mean())
    assert sup.class_names == tuple(coarse) and sup.confusion.sum() == 200


def test_confusion_csv_and_bad_input(tmp_path, model_and_data):
    model, x, y = model_and_data
    result = evaluate(model, x[:50], y[:50], [f"c{i}" for i in range(10)])
    result.write_confusion_csv(tmp_path / "confusion.csv")
    rows = list(csv.reader(open(tmp_path / "confusion.csv", encoding="utf-8")))
    assert rows[0][1] == "c0" and len(rows) == 11
    assert sum(int(r[-2]) for r in rows[1:]) == 50
    with pytest.raises(EvaluationError, match="labels run from"):
        evaluate(model, x[:5], [0, 1, 2, 3, 99], [f"c{i}" for i in range(10)])
    with pytest.raises(EvaluationError, match="5 images but 4 labels"):
        evaluate(model, x[:5], [0, 1, 2, 3], [f"c{i}" for i in range(10)])
    with pytest.raises(EvaluationError, match="There are no images to evaluate"):
        evaluate(model, x[:0], [], [f"c{i}" for i in range(10)])


def test_images_of_another_size_are_fitted_as_classify_does(model_and_data):
    """A 28×28 grayscale model on 32×32 RGB images: resized and converted, and the result says so."""
    import keras

    from workbench.core.images.fit import fit_image

    model, x, y = model_and_data
    small = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Rescaling(1 / 255.0), keras.layers.Conv2D(4, 3),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax")])
    result = evaluate(small, x[:40], y[:40], [f"c{i}" for i in range(10)], batch_size=16)
    assert result.steps == ("resized the 32×32 images to the model's 28×28",
                            "converted the images to grayscale (the model takes 1 channel)")
    fitted = np.stack([fit_image(img, (28, 28, 1))[0] for img in x[:40]])
    np.testing.assert_allclose(result.probabilities, small.predict(fitted.astype("float32"), verbose=0), atol=1e-5)
    with pytest.raises(EvaluationError, match="4-channel"):
        evaluate(keras.Sequential([keras.Input((32, 32, 4)), keras.layers.Flatten(), keras.layers.Dense(10)]),
                 x[:4], y[:4], [f"c{i}" for i in range(10)])


def test_per_class_accuracy_of_a_class_without_images_is_none(model_and_data):
    model, x, y = model_and_data
    keep = y != 3
    result = evaluate(model, x[keep], y[keep], [f"c{i}" for i in range(10)])
    assert np.isnan(result.per_class_accuracy[3]) and result.per_class()["c3"] is None
    assert all(isinstance(v, float) for k, v in result.per_class().items() if k != "c3")


def test_nan_outputs_are_refused(model_and_data):
    import keras

    _, x, y = model_and_data
    broken = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                               keras.layers.Dense(10, activation="softmax")])
    broken.set_weights([np.full_like(w, np.nan) for w in broken.get_weights()])
    with pytest.raises(EvaluationError, match=r"^The model outputs NaN for these images: the model is broken "
                                              r"\(for example, its training diverged\); retrain it"):
        evaluate(broken, x[:20], y[:20], [f"c{i}" for i in range(10)])


def test_tensorflow_errors_become_whole_sentences(model_and_data):
    """An Embedding fed pixel values 0..255 with only 10 rows fails inside TensorFlow ("Graph execution error:")."""
    import keras

    _, x, y = model_and_data
    bad = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Embedding(10, 2),
                            keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    with pytest.raises(EvaluationError) as caught:
        evaluate(bad, x[:20], y[:20], [f"c{i}" for i in range(10)])
    message = str(caught.value)
    assert message.startswith("The model failed while predicting (") and message.endswith(
        "); the model does not work on these inputs.")
    assert "Graph execution error" not in message and "\n" not in message and "is not in [0, 10)" in message
