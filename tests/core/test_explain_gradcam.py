"""Grad-CAM is right, not just plausible: on images whose evidence is known (the class is the colour of a
square at a random place, a grey distractor square in every image) its peak falls on the evidence, for the
plain model and for the same network nested inside another; it fails the randomisation check of Adebayo
et al. (2018) as it should; and it falls back to saliency, saying so, where it is undefined."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.tf_import import ensure_tensorflow

ensure_tensorflow()
import keras  # noqa: E402

from tests.core.explain_fixtures import (  # noqa: E402
    SIZE, peak_hits, spearman, squares_cnn, squares_data, train_squares_cnn)
from workbench.core.explain import gradcam, graph  # noqa: E402
from workbench.core.modelio.loaded_model import LoadedModel  # noqa: E402

NAMES = ["red", "green", "blue", "yellow"]


@pytest.fixture(scope="module")
def trained():
    model, x, y, evidence, distractor = train_squares_cnn()
    loaded = LoadedModel.from_keras(model, NAMES)
    accuracy = float((loaded.predict_proba(x).argmax(1) == y).mean())
    assert accuracy >= 0.9, f"the fixture network did not learn the colours ({accuracy:.2f})"
    return loaded, x, y, evidence, distractor


@pytest.fixture(scope="module")
def trained_maps(trained):
    loaded, x, y, _, _ = trained
    return gradcam.explain(loaded, x, class_index=y)


def _nested(model):
    return keras.Sequential([keras.Input((SIZE, SIZE, 3)), model], name="wrapper")


def test_peak_on_the_evidence_not_the_distractor(trained, trained_maps):
    _, _, _, evidence, distractor = trained
    e = trained_maps
    assert e.method == "grad-cam" and e.layer == "relu2" and e.note is None
    assert e.maps.shape == (len(evidence), SIZE, SIZE) and e.maps.dtype == np.float32
    assert e.maps.min() >= 0.0 and e.maps.max() <= 1.0
    assert peak_hits(e.maps, evidence).mean() >= 0.8
    assert peak_hits(e.maps, distractor, margin=0).mean() <= 0.1


def test_nested_in_a_sequential_gives_the_same_maps(trained, trained_maps):
    loaded, x, y, evidence, _ = trained
    nested = LoadedModel.from_keras(_nested(loaded.model), NAMES)
    e = gradcam.explain(nested, x, class_index=y)
    assert e.layer == "squares/relu2" and e.method == "grad-cam"
    assert peak_hits(e.maps, evidence).mean() >= 0.8
    np.testing.assert_allclose(e.maps, trained_maps.maps, atol=1e-4)


def test_nested_in_a_functional_with_its_own_head(trained):
    """The keras.io transfer-learning shape: the trained convolutions as a base, a head outside it."""
    loaded, x, y, evidence, _ = trained
    base = keras.Model(loaded.model.inputs, loaded.model.get_layer("relu2").output, name="base")
    inp = keras.Input((SIZE, SIZE, 3))
    feats = keras.layers.GlobalAveragePooling2D(name="pool")(base(inp))
    head = keras.layers.Dense(len(NAMES), activation="softmax", name="new_head")
    outer = keras.Model(inp, head(feats), name="transfer")
    head.set_weights(loaded.model.get_layer("head").get_weights())
    e = gradcam.explain(LoadedModel.from_keras(outer, NAMES), x, class_index=y)
    assert e.layer == "base/relu2"
    assert peak_hits(e.maps, evidence).mean() >= 0.8


def test_top1_by_default_and_probabilities_match_predict_proba(trained, trained_maps):
    loaded, x, y, _, _ = trained
    e = gradcam.explain(loaded, x[:10])
    probs = loaded.predict_proba(x[:10])
    np.testing.assert_array_equal(e.class_indices, probs.argmax(1))
    np.testing.assert_allclose(e.probabilities, probs.max(1), rtol=1e-5)
    # Another class: a map of that class (its evidence is not in the image, so it looks elsewhere).
    other = (y[:10] + 1) % len(NAMES)
    e_other = gradcam.explain(loaded, x[:10], class_index=other)
    np.testing.assert_array_equal(e_other.class_indices, other)
    assert not np.allclose(e_other.maps, trained_maps.maps[:10])


def test_randomised_weights_give_different_maps(trained, trained_maps):
    """Adebayo et al. 2018: maps that survive re-initialising the weights explain the input, not the model.

    Spearman rank correlation of trained vs randomised maps, mean over images: a method that only traces
    edges or colours of the input keeps it near 1 (the paper's gradient × input stays around 0.6-0.9 on
    its models); an explanation of the learned weights falls towards 0. The threshold 0.4 is half-way
    between what the nested copy gives (1.0, the same weights) and chance (0), with room for noise."""
    loaded, x, y, _, _ = trained
    fresh = keras.models.clone_model(loaded.model)  # same architecture, new random weights
    e_random = gradcam.explain(LoadedModel.from_keras(fresh, NAMES), x, class_index=y)
    rho = np.mean([spearman(a, b) for a, b in zip(trained_maps.maps, e_random.maps)])
    assert rho < 0.4, rho
    # The first step of the cascade: only the classifying layer re-initialised.
    head_only = keras.models.clone_model(loaded.model)
    head_only.set_weights(loaded.model.get_weights())
    head = head_only.get_layer("head")
    head.kernel.assign(keras.initializers.GlorotUniform(seed=7)(head.kernel.shape))
    e_head = gradcam.explain(LoadedModel.from_keras(head_only, NAMES), x, class_index=y)
    rho_head = np.mean([spearman(a, b) for a, b in zip(trained_maps.maps, e_head.maps)])
    assert rho_head < 0.4, rho_head
    # The measure itself can say "same": the same weights give rank correlation 1.
    same = gradcam.explain(LoadedModel.from_keras(_nested(loaded.model), NAMES), x[:20], class_index=y[:20])
    assert np.mean([spearman(a, b) for a, b in zip(trained_maps.maps[:20], same.maps)]) > 0.99


def test_logits_model_explains_the_same_score(trained, trained_maps):
    """A logits twin (same weights, no softmax) gets the same maps: both use the score before the softmax."""
    loaded, x, y, _, _ = trained
    twin = squares_cnn(softmax=False, name="logits_twin")
    twin.set_weights(loaded.model.get_weights())
    logits = LoadedModel.from_keras(twin, NAMES)
    assert logits.outputs_logits
    e = gradcam.explain(logits, x[:20], class_index=y[:20])
    assert np.all(np.isfinite(e.maps)) and e.method == "grad-cam" and e.note is None
    np.testing.assert_allclose(e.maps, trained_maps.maps[:20], atol=1e-4)
    np.testing.assert_allclose(e.probabilities, trained_maps.probabilities[:20], rtol=1e-5)


def test_mixed_precision_model_gives_finite_maps(trained):
    loaded, x, y, evidence, _ = trained
    half = squares_cnn(dtype="mixed_float16", name="half")
    half.set_weights(loaded.model.get_weights())
    e = gradcam.explain(LoadedModel.from_keras(half, NAMES), x[:40], class_index=y[:40])
    assert e.method == "grad-cam" and e.maps.dtype == np.float32
    assert np.all(np.isfinite(e.maps)) and e.maps.max() <= 1.0
    assert peak_hits(e.maps, evidence[:40]).mean() >= 0.8


def test_probability_used_when_no_softmax_is_found_says_so():
    class OwnDense(keras.layers.Dense):  # a softmax inside a layer graph.py cannot look into
        pass

    inp = keras.Input((SIZE, SIZE, 3))
    h = keras.layers.Conv2D(4, 3, activation="relu", name="c")(inp)
    h = keras.layers.GlobalAveragePooling2D()(h)
    model = keras.Model(inp, OwnDense(3, activation="softmax")(h))
    loaded = LoadedModel.from_keras(model, ["a", "b", "c"])
    e = gradcam.explain(loaded, squares_data(4, seed=5)[0])
    assert e.method == "grad-cam" and "probability" in e.note and np.all(np.isfinite(e.maps))


def test_dense_only_model_falls_back_to_saliency():
    inp = keras.Input((SIZE, SIZE, 3))
    h = keras.layers.Rescaling(1 / 255.0)(inp)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(8, activation="relu")(h)
    model = keras.Model(inp, keras.layers.Dense(3, activation="softmax")(h))
    x = squares_data(5, seed=3)[0]
    e = gradcam.explain(LoadedModel.from_keras(model, ["a", "b", "c"]), x)
    assert e.method == "saliency" and e.layer is None
    assert "fallback" in e.note and "no layer with spatial extent" in e.note
    assert e.maps.shape == (5, SIZE, SIZE) and np.all(np.isfinite(e.maps)) and e.maps.max() == 1.0


def test_non_spatial_layer_falls_back_with_a_sentence(trained):
    loaded, x, _, _, _ = trained
    e = gradcam.explain(loaded, x[:3], layer="gap")
    assert e.method == "saliency" and e.layer is None
    assert e.note.startswith("Layer gap has no spatial extent") and "relu2" in e.note


def test_bad_requests_are_sentences(trained):
    loaded, x, _, _, _ = trained
    with pytest.raises(graph.LayerNotFound, match="relu2"):
        gradcam.explain(loaded, x[:2], layer="conv9")
    with pytest.raises(gradcam.ExplainError, match="out of range"):
        gradcam.explain(loaded, x[:2], class_index=4)
    with pytest.raises(gradcam.ExplainError, match="one per image"):
        gradcam.explain(loaded, x[:2], class_index=[0, 1, 2])


def test_all_zero_map_stays_zero_never_nan():
    """A class every channel speaks against (negative head weights on ReLU features): the ReLU of the
    weighted sum is 0 everywhere, and dividing by its maximum must not make NaN."""
    inp = keras.Input((SIZE, SIZE, 3))
    h = keras.layers.Conv2D(4, 3, activation="relu", name="c")(inp)
    h = keras.layers.GlobalAveragePooling2D()(h)
    head = keras.layers.Dense(2, name="head")
    model = keras.Model(inp, keras.layers.Softmax()(head(h)))
    head.kernel.assign(np.stack([-np.ones(4), np.ones(4)], axis=1).astype(np.float32))
    x = squares_data(3, seed=4)[0]
    e = gradcam.explain(LoadedModel.from_keras(model, ["against", "for"]), x, class_index=0)
    assert e.method == "grad-cam" and np.all(e.maps == 0.0)
    assert "all zero" in gradcam.zero_map_note(e, 0)
    e_for = gradcam.explain(LoadedModel.from_keras(model, ["against", "for"]), x, class_index=1)
    assert e_for.maps.max() == 1.0 and gradcam.zero_map_note(e_for, 0) is None


def test_batch_sizes_agree_and_compile_once(trained, trained_maps):
    loaded, x, y, _, _ = trained
    e = gradcam.explain(loaded, x[:25], class_index=y[:25], batch_size=7)
    np.testing.assert_allclose(e.maps, trained_maps.maps[:25], atol=1e-5)
    explainer = gradcam._explainer(loaded, "relu2", x.shape[1:], x.dtype)
    assert explainer._run.experimental_get_tracing_count() == 1


def test_overlay_blend_and_colormap():
    from workbench.core.explain.overlay import colormap

    image = np.full((8, 8, 3), 100, np.uint8)
    cam = np.zeros((4, 4), np.float32)
    cam[0, 0] = 1.0
    out = gradcam.overlay(image, cam, opacity=0.5)
    assert out.shape == (8, 8, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(gradcam.overlay(image, cam, opacity=0.0), image)
    assert out[0, 0].sum() > out[7, 7].sum()  # the hot corner is brighter than the cold one
    grey = gradcam.overlay(np.zeros((8, 8), np.uint8), cam)
    assert grey.shape == (8, 8, 3)
    # Perceptual: lightness (Rec. 709 luma) rises monotonically from 0 to 1.
    luma = colormap(np.linspace(0, 1, 256)).astype(float) @ [0.2126, 0.7152, 0.0722]
    assert np.all(np.diff(luma) >= -0.5) and luma[-1] - luma[0] > 200


def test_unique_stems_never_share_files():
    from workbench.core.explain.export import unique_stems

    stems = unique_stems(["a/cat.png", "cat-2.png", "b/cat.jpg", "Cat.bmp", "dog.png"])
    assert stems == ["cat", "cat-2", "cat-3", "Cat-4", "dog"]
