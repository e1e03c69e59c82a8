"""The exported function: raw 0–255 RGB pixels (float32, NHWC) in, probabilities out.

The model's preprocessing (`PreprocessingSpec.affine`) runs first, a softmax follows when the model outputs
logits, then a stored temperature (`softmax(log p / T)`, as `LoadedModel.predict_proba`). Half-precision
(mixed_bfloat16 / mixed_float16) models are rebuilt in float32 with the same weights, because the LiteRT
and ONNX converters handle float32 graphs best and the runtimes' CPUs compute in float32 anyway.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from workbench.core.calibration import PROB_FLOOR

_HALF_POLICIES = ("mixed_bfloat16", "mixed_float16", "bfloat16", "float16")


def _float32_config(value: Any) -> tuple[Any, bool]:
    """The config with every half-precision dtype policy set to float32, and whether one was found."""
    if isinstance(value, dict):
        if value.get("class_name") == "DTypePolicy" and isinstance(value.get("config"), dict) \
                and value["config"].get("name") in _HALF_POLICIES:
            return "float32", True
        changed, out = False, {}
        for key, item in value.items():
            if key == "dtype" and item in _HALF_POLICIES:
                out[key], found = "float32", True
            else:
                out[key], found = _float32_config(item)
            changed = changed or found
        return out, changed
    if isinstance(value, list):
        items = [_float32_config(v) for v in value]
        return [v for v, _ in items], any(f for _, f in items)
    return value, False


def float32_model(model) -> tuple[Any, str | None]:
    """(model, note): the model itself when it computes in float32, else a float32 copy with its weights."""
    policy = getattr(getattr(model, "dtype_policy", None), "name", "float32")
    compute = {getattr(getattr(layer, "dtype_policy", None), "name", "float32") for layer in _all_layers(model)}
    if not (compute | {policy}) & set(_HALF_POLICIES):
        return model, None
    config, _ = _float32_config(json.loads(json.dumps(model.get_config(), default=str)))
    try:
        copy = model.__class__.from_config(config)
        copy.set_weights(model.get_weights())
    except Exception as exc:  # a custom model the config cannot rebuild: export it as it computes
        return model, f"kept its half-precision layers ({type(exc).__name__} rebuilding it in float32)"
    return copy, "computes in float32 here (the model was trained in mixed precision)"


def _all_layers(model) -> list:
    out = []
    for layer in getattr(model, "layers", []):
        out.append(layer)
        if hasattr(layer, "layers"):
            out.extend(_all_layers(layer))
    return out


def serving_function(loaded, model=None):
    """A tf.function taking float32 raw pixels (None × H × W × C) and returning float32 probabilities."""
    import tensorflow as tf

    model = loaded.model if model is None else model
    h, w, c = loaded.input_shape
    scale, offset = loaded.preprocessing.affine(int(c))
    # numpy values become constants inside the graph (captured tensors would become ONNX inputs)
    scale, offset = np.asarray(scale, np.float32), np.asarray(offset, np.float32)
    bgr = bool(getattr(loaded.preprocessing, "bgr", False))  # caffe-mode bases want the channels reversed first
    logits = bool(loaded.outputs_logits)
    temperature = loaded.temperature

    @tf.function(input_signature=[tf.TensorSpec((None, h, w, c), tf.float32, name="pixels")])
    def serve(pixels):
        x = tf.gather(pixels, [2, 1, 0], axis=-1) if bgr else pixels  # a gather converts to every runtime
        y = model(x * scale + offset, training=False)
        y = tf.reshape(tf.cast(y, tf.float32), (tf.shape(pixels)[0], -1))
        if logits:
            y = tf.nn.softmax(y, axis=-1)
        if temperature is not None:
            y = tf.nn.softmax(tf.math.log(tf.maximum(y, PROB_FLOOR)) / float(temperature), axis=-1)
        return {"probabilities": tf.identity(y, name="probabilities")}

    return serve
