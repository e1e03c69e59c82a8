"""Grad-CAM (Selvaraju et al. 2017) for any model the workbench opens, with gradient × input saliency
as the fallback that says it is one.

    explain(loaded, images_uint8, class_index=None, layer=None) -> Explanation
    overlay(image_uint8_hwc, cam_hw, opacity=0.5) -> uint8 H×W×3   (numpy only, see overlay.py)

Grad-CAM: the gradient of the class SCORE (the value before the model's softmax, found through
`graph.Tap.forward`; the logit itself for a logits model) with respect to the chosen layer's activations;
channel weights are the spatial means of those gradients; the map is the ReLU of the weighted channel
sum, resized (bilinear) to the model's input size and divided by its maximum (an all-zero map stays 0).
Preprocessing, the forward pass, the gradient and the map run in one compiled graph per model and layer,
fed uint8 batches. TensorFlow is imported inside functions only.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from . import graph
from .overlay import overlay

__all__ = ["Explanation", "ExplainError", "explain", "overlay", "GRAD_CAM", "SALIENCY"]

GRAD_CAM = "grad-cam"
SALIENCY = "saliency"
_KEPT_PER_MODEL = 4  # compiled explainers kept per model (layers or sizes switched back and forth)


class ExplainError(ValueError):
    """A request that cannot be explained (bad class index, non-finite outputs); str() is one sentence."""


@dataclass(frozen=True)
class Explanation:
    maps: np.ndarray  # N×H×W float32 in [0, 1], H×W = the model's input size (upsampled bilinear)
    class_indices: np.ndarray  # N, the class explained per image
    probabilities: np.ndarray  # N, the model's probability for that class (softmax added for logits models)
    layer: str | None  # the layer used (None for the saliency fallback)
    method: str  # "grad-cam" or "saliency"
    note: str | None  # sentences when the fallback was used or something was guessed, else None


# ---- choosing the method ----------------------------------------------------------------------

def _choose(loaded, layer: str | None) -> tuple[str | None, str | None]:
    """(layer path or None for saliency, note)."""
    model = loaded.model
    if layer is None:
        path = graph.last_spatial_layer(model)
        if path is None:
            return None, (f"{loaded.name} has no layer with spatial extent (no layer outputs an H×W grid), "
                          "so this map is gradient × input saliency, a fallback, not Grad-CAM.")
        return path, None
    info = graph.layer_info(model, layer)  # LayerNotFound (a ValueError) names the spatial layers
    if not info.spatial:
        shape = "×".join("?" if d is None else str(d) for d in info.output_shape) or "a scalar"
        best = graph.last_spatial_layer(model)
        hint = f"; pick a layer with spatial extent such as {best}" if best else ""
        return None, (f"Layer {info.name} has no spatial extent (its output is {shape}), so this map is "
                      f"gradient × input saliency, a fallback, not Grad-CAM{hint}.")
    return info.name, None


def _class_indices(class_index, n: int, loaded) -> np.ndarray:
    """int32 per image; -1 = the image's top-1 class."""
    c = loaded.num_classes
    if class_index is None:
        return np.full(n, -1, np.int32)
    if isinstance(class_index, (int, np.integer)):
        idx = np.full(n, int(class_index), np.int64)
    else:
        idx = np.asarray(list(class_index), np.int64).reshape(-1)
        if len(idx) != n:
            raise ExplainError(f"{len(idx)} class indices were given for {n} images; "
                               "give one per image or one for all.")
    bad = idx[(idx < 0) | (idx >= c)]
    if len(bad):
        raise ExplainError(f"Class index {int(bad[0])} is out of range: {loaded.name} has {c} classes, "
                           f"numbered 0 to {c - 1}.")
    return idx.astype(np.int32)


# ---- the compiled explainer ----------------------------------------------------------------------

class _Explainer:
    """One compiled graph: uint8 images and class indices in; maps, classes, probabilities out."""

    def __init__(self, loaded, path: str | None, shape: tuple, dtype):
        import tensorflow as tf

        self.path = path
        self.flags: dict[str, Any] = {}  # set while tracing: how the score was found, a missing gradient
        self._tap = graph.tap(loaded.model, [path] if path else [])
        prep = loaded.preprocessing
        logits = loaded.outputs_logits
        spec = [tf.TensorSpec((None, *shape), tf.as_dtype(np.dtype(dtype))), tf.TensorSpec((None,), tf.int32)]

        def run(x, wanted):
            xf = prep.transform(tf.cast(x, tf.float32))
            with tf.GradientTape() as tape:
                tape.watch(xf)
                r = self._tap.forward(xf)
                out = tf.reshape(r.output, (tf.shape(r.output)[0], -1))
                probs = tf.nn.softmax(out, axis=-1) if logits else out
                k = tf.where(wanted < 0, tf.cast(tf.argmax(probs, axis=-1), tf.int32), wanted)
                if logits:
                    scores, kind = out, "logits"
                elif r.scores_are_logits:
                    scores, kind = r.scores, "pre-softmax"
                else:
                    scores, kind = probs, "probability"
                self.flags["score"] = kind
                total = tf.reduce_sum(tf.gather(scores, k, batch_dims=1))
            target = r.activations[0] if path else xf
            grad = tape.gradient(total, target)
            self.flags["disconnected"] = grad is None
            if grad is None:
                grad = tf.zeros_like(target)
            cam = _grad_cam(target, grad) if path else _saliency(xf, grad)
            cam = tf.image.resize(cam[..., None], tf.shape(x)[1:3], method="bilinear")[..., 0]
            finite = tf.reduce_all(tf.math.is_finite(cam), axis=(1, 2))
            cam = tf.where(tf.math.is_finite(cam), cam, 0.0)
            peak = tf.reduce_max(cam, axis=(1, 2), keepdims=True)
            cam = tf.math.divide_no_nan(cam, peak)  # an all-zero map stays zero, never NaN
            return cam, k, tf.gather(probs, k, batch_dims=1), finite, tf.reduce_all(tf.math.is_finite(probs), axis=1)

        self._run = tf.function(run, input_signature=spec, reduce_retracing=True)

    def __call__(self, x: np.ndarray, wanted: np.ndarray):
        return [np.asarray(t) for t in self._run(x, wanted)]


def _grad_cam(acts, grad):
    import tensorflow as tf

    weights = tf.reduce_mean(grad, axis=(1, 2))  # N×K: each channel's importance for the class
    return tf.nn.relu(tf.einsum("nhwk,nk->nhw", acts, weights))


def _saliency(xf, grad):
    import tensorflow as tf

    return tf.abs(tf.reduce_sum(grad * xf, axis=-1))  # gradient × input, channels summed


_EXPLAINERS: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def _explainer(loaded, path: str | None, shape: tuple, dtype) -> _Explainer:
    key = (path, tuple(shape), str(np.dtype(dtype)), loaded.preprocessing, loaded.outputs_logits)
    try:
        kept = _EXPLAINERS.setdefault(loaded.model, {})
    except TypeError:
        kept = {}
    found = kept.get(key)
    if found is None:
        found = _Explainer(loaded, path, shape, dtype)
        if len(kept) >= _KEPT_PER_MODEL:
            kept.pop(next(iter(kept)))
        kept[key] = found
    return found


# ---- the public call ------------------------------------------------------------------------

def explain(loaded, images_uint8, *, class_index=None, layer: str | None = None, batch_size: int = 64) -> Explanation:
    """Grad-CAM maps for uint8 images (N×H×W×C or one H×W×C) fed as `loaded.predict_proba` feeds them.

    class_index: None (each image's top-1), an int, or one per image. layer: a path, a nested model's
    name or a unique bare layer name (None: the deepest spatial layer). A model or layer without spatial
    extent, or a map that cannot be computed, gives gradient × input saliency with a `note` saying so.
    Raises graph.LayerNotFound, ExplainError or modelio's ModelInputError (all ValueErrors, one sentence).
    """
    from workbench.core.modelio.artefacts import not_available

    refusal = not_available(loaded, "Grad-CAM")
    if refusal:
        raise ExplainError(refusal)
    x = loaded.prepare(images_uint8)
    n = len(x)
    wanted = _class_indices(class_index, n, loaded)
    path, note = _choose(loaded, layer)
    if n == 0:
        h, w = x.shape[1:3]
        return Explanation(np.zeros((0, h, w), np.float32), np.zeros(0, np.int64), np.zeros(0, np.float32),
                           path, GRAD_CAM if path else SALIENCY, note)
    maps, classes, probs, finite = _run(loaded, path, x, wanted, batch_size)
    notes = [note] if note else []
    if path is not None:
        explainer = _explainer(loaded, path, x.shape[1:], x.dtype)
        undefined = int((~finite).sum())
        why = None
        if explainer.flags.get("disconnected"):
            why = f"the class score does not depend on layer {path}"
        elif undefined:
            why = f"the Grad-CAM map of {undefined} of {n} images was not finite (overflowing gradients)"
        if why:
            notes.append(f"Grad-CAM is undefined here ({why}), so this map is gradient × input saliency, "
                         "a fallback, not Grad-CAM.")
            path = None
            maps, classes, probs, finite = _run(loaded, None, x, wanted, batch_size)
    explainer = _explainer(loaded, path, x.shape[1:], x.dtype)
    if explainer.flags.get("score") == "probability":
        notes.append(f"The scores before {loaded.name}'s softmax could not be found, so the gradients are "
                     "those of the class probability, not of the class score.")
    return Explanation(maps, classes.astype(np.int64), probs, path, GRAD_CAM if path else SALIENCY,
                       " ".join(notes) or None)


def _run(loaded, path, x, wanted, batch_size):
    explainer = _explainer(loaded, path, x.shape[1:], x.dtype)
    step = max(1, int(batch_size))
    parts = [explainer(x[i:i + step], wanted[i:i + step]) for i in range(0, len(x), step)]
    maps, classes, probs, finite, ok = (np.concatenate([p[j] for p in parts]) for j in range(5))
    if not ok.all():
        raise ExplainError(f"{loaded.name}'s outputs are not finite (NaN or infinite) for {int((~ok).sum())} of "
                           f"{len(x)} images, so there is nothing to explain.")
    return maps.astype(np.float32), classes, probs.astype(np.float32), finite


def explain_one(loaded, image_uint8: np.ndarray, **kwargs) -> Explanation:
    """`explain` for one H×W×C image (a convenience for callers that show one picture)."""
    return explain(loaded, np.asarray(image_uint8)[None], **kwargs)


def zero_map_note(explanation: Explanation, index: int) -> str | None:
    """A sentence when image `index`'s map is all zero (nothing raised the class score), else None."""
    if float(explanation.maps[index].max(initial=0.0)) > 0:
        return None
    where = f"in layer {explanation.layer}" if explanation.layer else "in the image"
    return f"Nothing {where} raised the score of this class, so the map is all zero."


def describe(explanation: Explanation, index: int, class_names: Sequence[str]) -> str:
    """One line for a picture's caption: method, class, probability, layer."""
    k = int(explanation.class_indices[index])
    name = class_names[k] if 0 <= k < len(class_names) else str(k)
    where = f" at {explanation.layer}" if explanation.layer else ""
    return f"{explanation.method}{where}: {name} ({100 * float(explanation.probabilities[index]):.1f}%)"
